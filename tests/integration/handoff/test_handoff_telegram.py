"""A handoff of a Telegram chat: the agent's replies go out through the Bot API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.storage import HandoffRequest, get_engine, session_scope
from tests.integration.bot.conftest import ClientFactory
from tests.integration.handoff.test_handoff_gateway import gateway
from tests.support.handoff import ALWAYS_OPEN, handoff_reply
from tests.support.rasa_events import StandInRasaWithEvents
from tests.support.staff import add_user, sign_in
from tests.support.telegram_api import StandInBotApi, running_bot_api

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
SECRET = "webhook-secret-7d1e0a"
CONVERSATION = "telegram:987654321"


def update(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data.update(changes)
    return data


@pytest.fixture
def bot_api() -> Iterator[StandInBotApi]:
    with running_bot_api() as api:
        yield api


def post(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post(
        "/channels/telegram/webhook",
        json=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 200


def test_a_telegram_customer_is_answered_by_a_person(
    make_client: ClientFactory, bot_api: StandInBotApi
) -> None:
    rasa = StandInRasaWithEvents()
    client = make_client(
        rasa=rasa,
        channels=["web", "telegram"],
        telegram_token=bot_api.token,
        telegram_webhook_secret=SECRET,
        telegram_api_url=bot_api.url,
        **ALWAYS_OPEN,
    )
    url = gateway(client).settings.sqlalchemy_url

    def reply(body: dict[str, Any]) -> list[dict[str, Any]]:
        if body["message"] == "/ask_human":
            with session_scope(get_engine(url)) as session:
                session.add(
                    HandoffRequest(
                        sender_id=body["sender"], channel="telegram", reason="customer_request"
                    )
                )
            return handoff_reply(body["sender"], "I've let our team know.")
        return [{"recipient_id": body["sender"], "text": "bot answer"}]

    rasa.reply = reply

    post(client, update("command_human"))
    # the same client signs in: the Telegram customer needs no cookie, and python-telegram-bot's
    # client must stay on the event loop of the app's lifespan (one loop, as under uvicorn)
    add_user(gateway(client).engine, "kim@example.com", "sales")
    agent, csrf = client, sign_in(client, "kim@example.com")  # type: ignore[arg-type]
    [item] = agent.get("/api/agent/queue").json()
    assert (item["conversation_id"], item["channel"]) == (CONVERSATION, "telegram")

    base = f"/api/agent/conversations/{CONVERSATION}"
    assert agent.post(f"{base}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
    sent = agent.post(
        f"{base}/reply", json={"text": "Kim here, how can I help?"}, headers={"X-CSRF-Token": csrf}
    )
    assert sent.status_code == 200
    post(client, update("message_text", update_id=734019250))

    texts = [c.params["text"] for c in bot_api.wait_for("sendMessage", 3)]
    assert texts == [
        "I've let our team know.",
        "A person from our team has joined the conversation.",
        "Kim here, how can I help?",
    ]
    assert [r["body"]["message"] for r in rasa.requests] == ["/ask_human"]
    assert [e["text"] for e in rasa.events_of(CONVERSATION, "user")][-1] == (
        "What is the return window?"
    )
