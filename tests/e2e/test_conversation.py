"""A multi-turn conversation through /api/chat with the real trained assistant."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveStack
from tests.support.chat import ChatSession

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


_chats: dict[str, ChatSession] = {}


@pytest.fixture(autouse=True)
def _close_chats() -> Iterator[None]:
    yield
    for chat in _chats.values():
        chat.client.close()
    _chats.clear()


def chat_of(stack: LiveStack, sender: str) -> ChatSession:
    """The widget-like conversation this test calls ``sender`` (one per label)."""
    if sender not in _chats:
        _chats[sender] = ChatSession(httpx.Client(base_url=stack.gateway_url), timeout=30)
    return _chats[sender]


def conversation(stack: LiveStack, sender: str) -> str:
    """The conversation id the gateway gave ``sender``'s chat (what the tables store)."""
    conversation_id = chat_of(stack, sender).conversation_id
    assert conversation_id, f"{sender} has not said anything yet"
    return conversation_id


def say(stack: LiveStack, sender: str, text: str) -> list[dict[str, Any]]:
    return chat_of(stack, sender).say(text)


def all_text(messages: list[dict[str, Any]]) -> str:
    return " ".join(m["text"] for m in messages).lower()


def rows(stack: LiveStack, sql: str, *params: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(stack.data_dir / "concierge.db") as db:
        return db.execute(sql, params).fetchall()


def test_greeting_product_question_recommendation_and_human(live_stack: LiveStack) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"

    greeting = say(live_stack, sender, "Hi there!")
    assert greeting and greeting[0]["text"]
    assert greeting[0]["buttons"], "the greeting offers buttons to get started"

    answer = say(live_stack, sender, "How many years of warranty do I get on an espresso machine?")
    cited = [m for m in answer if m["sources"]]
    assert cited, f"a product question is answered with sources: {answer}"
    assert any("warranty" in f"{s['title']} {s['location']}".lower() for s in cited[0]["sources"])
    assert "3-year" in cited[0]["text"] or "3 years" in cited[0]["text"], cited[0]["text"]
    answer_id = cited[0]["custom"]["answer_id"]

    feedback = chat_of(live_stack, sender).feedback(answer_id, "up")
    assert feedback.status_code == 201, feedback.text
    stored = rows(
        live_stack, "SELECT rating, question FROM kb_feedback WHERE answer_id = ?", answer_id
    )
    assert stored == [("up", "How many years of warranty do I get on an espresso machine?")]

    recommendation = say(live_stack, sender, "Can you recommend a grinder for under 200 euros?")
    text = all_text(recommendation)
    assert "feather 35" in text or "talon" in text, recommendation
    assert "feather 64" not in text, "the €890 grinder is over budget"
    assert any(m["buttons"] for m in recommendation)

    human = say(live_stack, sender, "I'd like to talk to a real person please")
    assert "team" in all_text(human) or "person" in all_text(human)
    handoffs = rows(
        live_stack,
        "SELECT reason FROM handoff_requests WHERE sender_id = ?",
        conversation(live_stack, sender),
    )
    assert handoffs == [("customer_request",)]


def test_unknown_question_is_declined_with_an_offer_of_a_human(live_stack: LiveStack) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    reply = say(live_stack, sender, "Do you sell electric bicycles with a 100 km range?")
    payloads = {b["payload"] for m in reply for b in m["buttons"]}
    assert "/ask_human" in payloads, reply
    assert not any(m["sources"] for m in reply), "a declined answer cites nothing"


def test_buying_collects_an_email_for_sales(live_stack: LiveStack) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    first = say(
        live_stack, sender, "I want to order 12 Kestrel Office Auto machines for our offices"
    )
    assert "email" in all_text(first), first
    invalid = say(live_stack, sender, "my email is not-an-address")
    assert "email" in all_text(invalid)
    done = say(live_stack, sender, "jane.doe@example.com")
    assert "jane.doe@example.com" in all_text(done), done
    leads = rows(
        live_stack,
        "SELECT email, topic FROM contact_requests WHERE sender_id = ?",
        conversation(live_stack, sender),
    )
    assert leads == [("jane.doe@example.com", "sales")]
