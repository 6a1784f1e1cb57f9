"""Reps working from a Telegram group: a new handoff is posted there, a reply answers it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.services.realtime import RealtimeHub
from core.storage import Handoff, session_scope
from tests.integration.bot.conftest import ClientFactory
from tests.integration.handoff.test_handoff_gateway import chat, gateway
from tests.support.handoff import ALWAYS_OPEN, ASK, handing_over
from tests.support.rasa_events import StandInRasaWithEvents
from tests.support.telegram_api import StandInBotApi, running_bot_api

SECRET = "webhook-secret-4b2a9c"
GROUP = -1001234567890


@pytest.fixture
def bot_api() -> Iterator[StandInBotApi]:
    with running_bot_api() as api:
        yield api


def group_message(
    update_id: int, text: str, *, reply_to: int | None, user: tuple[int, str] = (555, "kim_sales")
) -> dict[str, Any]:
    """A message in the reps' group, as the Bot API delivers it."""
    message: dict[str, Any] = {
        "message_id": update_id % 100_000,
        "from": {"id": user[0], "is_bot": False, "first_name": user[1], "username": user[1]},
        "chat": {"id": GROUP, "title": "Sales reps", "type": "supergroup"},
        "date": 1764633700,
        "text": text,
    }
    if reply_to is not None:
        message["reply_to_message"] = {
            "message_id": reply_to,
            "from": {"id": 123456789, "is_bot": True, "first_name": "Concierge"},
            "chat": {"id": GROUP, "title": "Sales reps", "type": "supergroup"},
            "date": 1764633600,
            "text": "A customer on web asks for a person",
        }
    return {"update_id": update_id, "message": message}


def post(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post(
        "/channels/telegram/webhook", json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 200


def test_a_rep_answers_a_web_customer_from_the_group(
    make_client: ClientFactory, bot_api: StandInBotApi
) -> None:
    rasa = StandInRasaWithEvents()
    client = make_client(
        rasa=rasa,
        channels=["web", "telegram"],
        telegram_token=bot_api.token,
        telegram_webhook_secret=SECRET,
        telegram_api_url=bot_api.url,
        telegram_agent_chat_id=GROUP,
        **ALWAYS_OPEN,
    )
    state = gateway(client)
    handing_over(rasa, state.settings.sqlalchemy_url)

    conversation = chat(client, ASK)["conversation_id"]

    [announced] = bot_api.wait_for("sendMessage")
    assert int(announced.params["chat_id"]) == GROUP
    assert ASK in announced.params["text"]
    thread = 1  # the stand-in numbers the bot's messages from 1

    post(client, group_message(900001, "Not a reply: ignored", reply_to=None))
    post(client, group_message(900002, "Hi, Kim here.", reply_to=thread))
    post(client, group_message(900003, "Me too", reply_to=thread, user=(556, "lee")))

    pushed = RealtimeHub(state.engine).events_after(conversation, 0)
    texts = [e.payload["messages"][0]["text"] for e in pushed if e.kind == "message"]
    assert [e.kind for e in pushed] == ["agent_joined", "message"]
    assert texts == ["Hi, Kim here."]
    notes = [c.params["text"] for c in bot_api.wait_for("sendMessage", 2)][1:]
    assert notes == ["Not sent: this conversation is claimed by telegram:@kim_sales."]

    post(client, group_message(900004, "/handback", reply_to=thread))
    with session_scope(state.engine) as session:
        handoff = session.query(Handoff).one()
        assert (handoff.state, handoff.agent_email) == ("returned", "telegram:@kim_sales")
    # nothing from the group ever reached Rasa's NLU
    assert [r["body"]["message"] for r in rasa.requests] == [ASK]
    agent_turns = [e for e in rasa.events_of(conversation, "bot") if e["metadata"].get("agent")]
    assert [e["text"] for e in agent_turns] == ["Hi, Kim here."]
