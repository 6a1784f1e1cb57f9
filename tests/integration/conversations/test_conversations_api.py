"""The conversations API and pages: search, outcomes, roles and masking, on the real app.

The events go in through the feed's own storage (``store_events`` of Rasa-shaped events), the
lead, handoff and feedback rows through the app's models, as the action server and gateway
write them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.app import create_app
from core.config import Settings
from core.storage import get_engine, session_scope
from core.storage.accounts import ROLES
from core.storage.app_events import parse_event, store_events
from core.storage.handoff import Handoff, HandoffTransition
from core.storage.migrate import upgrade
from core.storage.models import Contact, ConversationLink, Feedback, KBAnswer, Lead
from tests.support.staff import add_user, sign_in

LEAD_CONVERSATION = "conv-lead-1"
HANDOFF_CONVERSATION = "conv-handoff-1"
BOT_CONVERSATION = "conv-bot-1"
EMAIL = "marta.kowalska@example.org"
PHONE = "+48 601 234 567"


def _user(
    sender: str, text: str, at: float, channel: str = "web", intent: str = "greet"
) -> dict[str, Any]:
    return {
        "sender_id": sender,
        "event": "user",
        "timestamp": at,
        "text": text,
        "input_channel": channel,
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.91}},
        "metadata": {},
    }


def _bot(sender: str, text: str, at: float, agent: str | None = None) -> dict[str, Any]:
    return {
        "sender_id": sender,
        "event": "bot",
        "timestamp": at,
        "text": text,
        "data": {},
        "metadata": {"agent": agent} if agent else {},
    }


def _seed(engine: Engine) -> None:
    base = time.time() - 3600
    events = [
        _user(
            LEAD_CONVERSATION,
            "Hi, I need espresso machines for 40 people",
            base,
            intent="ask_recommendation",
        ),
        _bot(LEAD_CONVERSATION, "Happy to help. May I have your name?", base + 1),
        _user(LEAD_CONVERSATION, "I'm Marta Kowalska", base + 2, intent="inform"),
        {
            "sender_id": LEAD_CONVERSATION,
            "event": "slot",
            "timestamp": base + 2.5,
            "name": "person_name",
            "value": "Marta Kowalska",
        },
        _user(LEAD_CONVERSATION, f"Write to {EMAIL} or call {PHONE}", base + 3, intent="inform"),
        _bot(
            LEAD_CONVERSATION,
            "Thanks Marta, quote Q-2026-00012 is on its way; questions to sales@kestrelcoffee.eu",
            base + 4,
        ),
        _user(
            HANDOFF_CONVERSATION,
            "My grinder is broken, let me talk to a person",
            base + 10,
            channel="telegram",
            intent="ask_human",
        ),
        _bot(
            HANDOFF_CONVERSATION,
            "I'm sorry about that, Tom here from support.",
            base + 11,
            agent="agent@example.com",
        ),
        _user(
            BOT_CONVERSATION,
            "How long is the return window?",
            base + 20,
            channel="rest",
            intent="faq",
        ),
        _bot(BOT_CONVERSATION, "30 days from delivery.", base + 21),
    ]
    with session_scope(engine) as session:
        assert store_events(session, [parse_event(e) for e in events]) == len(events)
        contact = Contact(email_normalized=EMAIL, email=EMAIL, name="Marta Kowalska", phone=PHONE)
        session.add(contact)
        session.flush()
        session.add(
            ConversationLink(
                contact_id=contact.id, conversation_id=LEAD_CONVERSATION, channel="web"
            )
        )
        session.add(
            Lead(
                contact_id=contact.id,
                conversation_id=LEAD_CONVERSATION,
                channel="web",
                score=72,
                grade="hot",
                reasons=[],
                products_asked=[],
                transcript=[],
            )
        )
        handoff = Handoff(
            conversation_id=HANDOFF_CONVERSATION,
            channel="telegram",
            state="closed",
            reason="customer_request",
            summary="grinder broken",
            agent_email="agent@example.com",
        )
        session.add(handoff)
        session.flush()
        session.add(
            HandoffTransition(
                handoff_id=handoff.id, from_state=None, to_state="waiting", actor="customer"
            )
        )
        session.add(
            HandoffTransition(
                handoff_id=handoff.id,
                from_state="waiting",
                to_state="active",
                actor="agent:agent@example.com",
            )
        )
        answer = KBAnswer(
            sender_id=BOT_CONVERSATION,
            channel="rest",
            question="How long is the return window?",
            answer="30 days from delivery.",
            confidence=0.8,
        )
        session.add(answer)
        session.flush()
        session.add(
            Feedback(
                answer_id=answer.id,
                sender_id=BOT_CONVERSATION,
                rating="up",
                comment="clear, thanks",
                question=answer.question,
                answer=answer.answer,
            )
        )


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    data: Path = tmp_path_factory.mktemp("conversations")
    content = tmp_path_factory.mktemp("content")
    (content / "catalog.json").write_text('{"currency": "EUR", "products": []}')
    settings = Settings(_env_file=None, data_dir=data, content_dir=content)  # type: ignore[call-arg]
    upgrade(settings.sqlalchemy_url)
    engine = get_engine(settings.sqlalchemy_url)
    for role in ROLES:
        add_user(engine, f"{role}@example.com", role)
    _seed(engine)
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def as_role(client: TestClient) -> Any:
    """Return a function that signs the one client in as a role (after signing out)."""

    def client_for(role: str) -> TestClient:
        client.cookies.clear()
        sign_in(client, f"{role}@example.com")
        return client

    return client_for


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["conversation_id"] for item in body["items"]]


def test_support_lists_every_conversation_latest_first_with_outcomes(as_role: Any) -> None:
    body = as_role("support").get("/api/admin/conversations").json()
    assert body["total"] == 3
    assert _ids(body) == [BOT_CONVERSATION, HANDOFF_CONVERSATION, LEAD_CONVERSATION]
    outcomes = {item["conversation_id"]: item["outcome"] for item in body["items"]}
    assert outcomes == {
        LEAD_CONVERSATION: "lead",
        HANDOFF_CONVERSATION: "handed_off",
        BOT_CONVERSATION: "resolved_by_bot",
    }
    channels = {item["conversation_id"]: item["channel"] for item in body["items"]}
    assert channels[HANDOFF_CONVERSATION] == "telegram"
    assert body["masked"] is True


def test_filters_by_outcome_channel_text_and_date(as_role: Any) -> None:
    client = as_role("admin")

    def get(**params: Any) -> Any:
        return client.get("/api/admin/conversations", params=params)

    assert _ids(get(outcome="handed_off").json()) == [HANDOFF_CONVERSATION]
    assert _ids(get(outcome="resolved_by_bot").json()) == [BOT_CONVERSATION]
    assert _ids(get(channel="rest").json()) == [BOT_CONVERSATION]
    assert _ids(get(q="GRINDER").json()) == [HANDOFF_CONVERSATION]
    assert _ids(get(q="conv-lead").json()) == [LEAD_CONVERSATION]
    assert _ids(get(q="100%").json()) == []  # % is a character, not a wildcard
    today = datetime.now(UTC).date().isoformat()
    assert get(since=today).json()["total"] == 3
    assert get(until="2020-01-01").json()["total"] == 0
    page = get(per_page=2, page=2).json()
    assert (page["total"], len(page["items"])) == (3, 1)
    assert get(outcome="nonsense").status_code == 422
    assert get(since="2026-13-40").status_code == 422
    assert get(per_page=1000).status_code == 422
    refused = get(since="2026-12-02", until="2026-12-01")
    assert refused.status_code == 422 and "until" in refused.json()["error"]


def test_support_sees_the_transcript_with_contact_data_masked(as_role: Any) -> None:
    response = as_role("support").get(f"/api/admin/conversations/{LEAD_CONVERSATION}")
    assert response.status_code == 200
    body = response.json()
    texts = [turn["text"] for turn in body["transcript"]]
    joined = " ".join(texts)
    assert EMAIL not in joined and "601 234 567" not in joined
    assert "Marta" not in joined and "Kowalska" not in joined
    assert texts[2] == "I'm [name]"
    assert texts[3] == "Write to [email] or call [phone]"
    # prices, quote numbers and the company's own address are not contact data
    assert "Q-2026-00012" in texts[4] and "sales@kestrelcoffee.eu" in texts[4]
    assert body["transcript"][0]["intent"] == "ask_recommendation"
    assert body["lead"]["email"] == "[email]" and body["lead"]["name"] == "[name]"
    assert body["lead"]["url"] is None
    assert body["masked"] is True
    assert "marta" not in response.text.lower()


def test_sales_and_admin_see_contact_data_and_the_lead_link(as_role: Any) -> None:
    for role in ("sales", "admin"):
        body = as_role(role).get(f"/api/admin/conversations/{LEAD_CONVERSATION}").json()
        assert body["masked"] is False
        assert f"Write to {EMAIL} or call {PHONE}" in [t["text"] for t in body["transcript"]]
        assert body["lead"]["url"] == f"/admin/leads/{body['lead']['id']}"
        assert body["lead"]["grade"] == "hot" and body["lead"]["score"] == 72


def test_sales_sees_only_conversations_with_a_lead(as_role: Any) -> None:
    client = as_role("sales")
    assert _ids(client.get("/api/admin/conversations").json()) == [LEAD_CONVERSATION]
    assert client.get(f"/api/admin/conversations/{BOT_CONVERSATION}").status_code == 404
    assert client.get(f"/console/conversations/{BOT_CONVERSATION}").status_code == 404


def test_handoff_history_and_feedback(as_role: Any) -> None:
    client = as_role("support")
    handoff = client.get(f"/api/admin/conversations/{HANDOFF_CONVERSATION}").json()
    assert [t["role"] for t in handoff["transcript"]] == ["customer", "agent"]
    assert handoff["transcript"][1]["agent"] == "agent@example.com"
    [history] = handoff["handoffs"]
    assert history["reason"] == "customer_request" and history["state"] == "closed"
    assert [(t["from_state"], t["to_state"]) for t in history["transitions"]] == [
        (None, "waiting"),
        ("waiting", "active"),
    ]
    faq = client.get(f"/api/admin/conversations/{BOT_CONVERSATION}").json()
    assert [(f["rating"], f["comment"]) for f in faq["feedback"]] == [("up", "clear, thanks")]


def test_support_may_not_search_by_contact_data(as_role: Any) -> None:
    refused = as_role("support").get("/api/admin/conversations", params={"q": EMAIL})
    assert refused.status_code == 422
    assert "sales or admin" in refused.json()["error"]
    found = as_role("admin").get("/api/admin/conversations", params={"q": EMAIL}).json()
    assert _ids(found) == [LEAD_CONVERSATION]


def test_unknown_conversation_is_404(as_role: Any) -> None:
    client = as_role("admin")
    missing = client.get("/api/admin/conversations/nobody")
    assert missing.status_code == 404 and missing.json()["error"] == "no such conversation"


def test_pages_render_the_same_masked_data(as_role: Any) -> None:
    support = as_role("support")
    page = support.get("/console/conversations", params={"outcome": "lead"})
    assert page.status_code == 200
    assert LEAD_CONVERSATION in page.text and BOT_CONVERSATION not in page.text
    detail = support.get(f"/console/conversations/{LEAD_CONVERSATION}")
    assert detail.status_code == 200
    assert "Write to [email] or call [phone]" in detail.text
    assert EMAIL not in detail.text and "Kowalska" not in detail.text
    assert "default-src 'self'" in detail.headers["content-security-policy"]
    bad = support.get("/console/conversations", params={"since": "yesterday"})
    assert bad.status_code == 422 and "since must be a date" in bad.text
    admin = as_role("admin").get(f"/console/conversations/{LEAD_CONVERSATION}")
    assert EMAIL in admin.text and 'href="/admin/leads/' in admin.text


def test_no_session_gets_401_and_the_api_is_in_openapi(client: TestClient) -> None:
    client.cookies.clear()
    assert client.get("/api/admin/conversations").status_code == 401
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/admin/conversations" in paths
    assert "/api/admin/conversations/{conversation_id}" in paths
