"""The Telegram webhook on the real gateway, Rasa stood in, Bot API calls to a local server.

Updates are recorded Bot API JSON (``tests/fixtures/telegram``); the connector talks to
:mod:`tests.support.telegram_api` through python-telegram-bot over a real socket.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.bot.conftest import ClientFactory, FakeRasa
from tests.support.rasa import RASA_REPLY
from tests.support.telegram_api import StandInBotApi, running_bot_api

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
SECRET = "webhook-secret-9f2c41d7a8"
WEBHOOK = "/channels/telegram/webhook"
CHAT_ID = 987654321
CONVERSATION = f"telegram:{CHAT_ID}"


def update(name: str, **changes: Any) -> dict[str, Any]:
    """Return the recorded update ``name`` (``update_id`` and others may be changed)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data.update(changes)
    return data


@pytest.fixture
def bot_api() -> Iterator[StandInBotApi]:
    with running_bot_api() as api:
        yield api


@pytest.fixture
def client(make_client: ClientFactory, fake_rasa: FakeRasa, bot_api: StandInBotApi) -> TestClient:
    return make_client(
        rasa=fake_rasa,
        channels=["web", "rest", "telegram"],
        telegram_token=bot_api.token,
        telegram_webhook_secret=SECRET,
        telegram_api_url=bot_api.url,
        public_url="https://shop.example",
    )


def post(client: TestClient, body: dict[str, Any], secret: str | None = SECRET) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post(WEBHOOK, json=body, headers=headers)


def webhook_messages(rasa: FakeRasa) -> list[dict[str, Any]]:
    return [r["body"] for r in rasa.requests if r["path"] == "/webhooks/rest/webhook"]


def test_a_text_message_is_answered_in_the_chat(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    response = post(client, update("message_text"))

    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    [sent] = webhook_messages(fake_rasa)
    assert sent["sender"] == CONVERSATION
    assert sent["message"] == "What is the return window?"
    assert sent["metadata"]["channel"] == "telegram"
    assert sent["metadata"]["telegram"]["update_id"] == 734019201
    [call] = bot_api.wait_for("sendMessage")
    assert int(call.params["chat_id"]) == CHAT_ID
    assert call.params["text"] == (
        f"{RASA_REPLY[0]['text']}\n\nSources:\n"
        "• Returns: https://shop.example/sources/docs/returns.md#return-window"
    )
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Talk to a person", "callback_data": "/ask_human"}]]
    }
    assert [c.method for c in bot_api.calls] == ["getMe", "sendMessage"]


@pytest.mark.parametrize("secret", [None, "", "webhook-secret-9f2c41d7a9", SECRET.upper()])
def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_processed(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi, secret: str | None
) -> None:
    response = post(client, update("message_text"), secret=secret)

    assert response.status_code == 403
    assert "secret token" in response.json()["error"]
    assert webhook_messages(fake_rasa) == []
    assert bot_api.calls == []
    # the refused update was not remembered: Telegram's real delivery is still processed
    assert post(client, update("message_text")).json() == {"status": "accepted"}
    assert len(webhook_messages(fake_rasa)) == 1


def test_without_a_configured_secret_every_update_is_refused(
    make_client: ClientFactory, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    client = make_client(
        rasa=fake_rasa,
        channels=["web", "telegram"],
        telegram_token=bot_api.token,
        telegram_api_url=bot_api.url,
    )
    assert post(client, update("message_text"), secret="anything").status_code == 403
    assert webhook_messages(fake_rasa) == []


def test_the_same_update_five_times_at_once_gets_exactly_one_reply(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    body = update("message_text")
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: post(client, copy.deepcopy(body)).json(), range(5)))

    assert sorted(s["status"] for s in statuses) == ["accepted"] + ["ignored"] * 4
    assert len(webhook_messages(fake_rasa)) == 1
    assert len(bot_api.wait_for("sendMessage")) == 1
    assert len(bot_api.of("sendMessage")) == 1
    # a new update of the same chat is answered again
    post(client, update("message_text", update_id=734019299))
    assert len(bot_api.wait_for("sendMessage", 2)) == 2


def test_a_429_is_waited_out_and_the_message_sent_once(
    client: TestClient, bot_api: StandInBotApi
) -> None:
    bot_api.rate_limit("sendMessage", times=2, retry_after=1)

    assert post(client, update("message_text")).status_code == 200

    calls = bot_api.of("sendMessage")
    assert [c.params["_answered"] for c in calls] == ["429", "429", "ok"]
    assert len(set(c.params["text"] for c in calls)) == 1
    assert bot_api.sent_texts() == [calls[0].params["text"]]


def test_a_button_press_reaches_rasa_as_its_payload(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    fake_rasa.offer(CONVERSATION, "/ask_quote")

    assert post(client, update("callback_query")).status_code == 200

    [sent] = webhook_messages(fake_rasa)
    assert sent["message"] == "/ask_quote"
    assert sent["sender"] == CONVERSATION
    [answered] = bot_api.wait_for("answerCallbackQuery")
    assert answered.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    assert len(bot_api.wait_for("sendMessage")) == 1


def test_a_press_of_a_button_not_offered_is_read_as_text(
    client: TestClient, fake_rasa: FakeRasa
) -> None:
    post(client, update("callback_query"))  # nothing offered /ask_quote in this conversation

    [sent] = webhook_messages(fake_rasa)
    assert sent["message"] == "ask_quote"


def test_a_long_answer_is_split_at_telegrams_limit(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    paragraphs = [f"Paragraph {n}: " + "espresso grinder crema " * 40 for n in range(10)]
    long_text = "\n\n".join(paragraphs)
    assert len(long_text) > 2 * 4096
    fake_rasa.reply = [
        {"text": long_text, "buttons": [{"title": "More", "payload": "/ask_product"}]}
    ]

    post(client, update("message_text"))

    calls = bot_api.wait_for("sendMessage", 3)
    assert len(calls) == len(bot_api.of("sendMessage")) >= 3
    texts = [c.params["text"] for c in calls]
    assert all(0 < len(t) <= 4096 for t in texts)
    assert " ".join(" ".join(texts).split()) == " ".join(long_text.split())
    assert all(t.startswith("Paragraph") for t in texts)  # cut between paragraphs
    assert [("reply_markup" in c.params) for c in calls] == [False] * (len(calls) - 1) + [True]


def test_help_is_answered_without_rasa_and_commands_reach_rasa_as_intents(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    post(client, update("command_help"))
    [help_reply] = bot_api.wait_for("sendMessage")
    assert "/human" in help_reply.params["text"]
    assert webhook_messages(fake_rasa) == []

    post(client, update("command_start"))
    post(client, update("command_human"))

    assert [m["message"] for m in webhook_messages(fake_rasa)] == ["/greet", "/ask_human"]


@pytest.mark.parametrize("name", ["edited_message", "sticker"])
def test_updates_without_a_text_are_taken_and_ignored(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi, name: str
) -> None:
    assert post(client, update(name)).status_code == 200
    assert webhook_messages(fake_rasa) == []
    assert bot_api.of("sendMessage") == []


def test_bodies_that_are_not_updates_get_200_and_nothing_happens(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"}
    for body in (b"not json", b"[]", b'{"message": {}}'):
        response = client.post(WEBHOOK, content=body, headers=headers)
        assert response.status_code == 200
        assert response.json() == {"status": "ignored"}
    assert webhook_messages(fake_rasa) == []
    assert bot_api.calls == []


def test_when_rasa_is_down_the_chat_gets_the_fallback_and_telegram_a_200(
    client: TestClient, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    fake_rasa.mode = "error"

    assert post(client, update("message_text")).status_code == 200

    [call] = bot_api.wait_for("sendMessage")
    assert "support@kestrelcoffee.eu" in call.params["text"]


def test_when_telegram_refuses_the_webhook_still_answers_200(
    client: TestClient, bot_api: StandInBotApi
) -> None:
    bot_api.token = "other"  # every call is now 401 Unauthorized

    assert post(client, update("message_text")).status_code == 200
    assert bot_api.of("sendMessage") == []
