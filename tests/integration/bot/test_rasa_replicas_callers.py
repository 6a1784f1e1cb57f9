"""Every gateway-side caller of Rasa uses all the replicas in ``CONCIERGE_RASA_URLS``.

The first replica listed (and ``CONCIERGE_RASA_URL``) is a closed local port: connections to
it are really refused, over a real socket. The second is the stand-in Rasa with its tracker
events API. Chat turns, the handoff's tracker appends (a waiting customer's messages, an
agent's reply) and the Telegram poller's turns all reach the live replica.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.app import create_app
from bot.services.handoff import CUSTOMER_TURN_INTENT
from bot.services.telegram_polling import poll
from core.storage import get_engine
from tests.integration.bot.conftest import SettingsFactory
from tests.support.handoff import ALWAYS_OPEN, ASK, handing_over
from tests.support.rasa_events import StandInRasaWithEvents
from tests.support.staff import add_user, sign_in
from tests.support.telegram_api import StandInBotApi, running_bot_api

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
EVENTS_SUFFIX = "/tracker/events"


class Replicas(httpx.AsyncBaseTransport):
    """The stand-in Rasa's host answered in-process; any other host over real sockets.

    ``attempts`` records ``(host:port, path)`` of every request, refused ones included.
    """

    def __init__(self, rasa: StandInRasaWithEvents) -> None:
        self.rasa = rasa
        self.live_host = httpx.URL(rasa.url).netloc
        self.stand_in = rasa.transport
        self.network = httpx.AsyncHTTPTransport()
        self.attempts: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Record the request, then send it to the stand-in or over the network."""
        self.attempts.append((request.url.netloc.decode(), request.url.path))
        if request.url.netloc == self.live_host:
            return await self.stand_in.handle_async_request(request)
        return await self.network.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the real connection pool."""
        await self.network.aclose()

    def refused(self, dead: str, path_suffix: str) -> list[str]:
        """Return the paths ending in ``path_suffix`` that were tried on the ``dead`` replica."""
        host = httpx.URL(dead).netloc.decode()
        return [p for h, p in self.attempts if h == host and p.endswith(path_suffix)]


@pytest.fixture
def rasa() -> StandInRasaWithEvents:
    return StandInRasaWithEvents()


@pytest.fixture
def dead_first(
    monkeypatch: pytest.MonkeyPatch, closed_url: str, rasa: StandInRasaWithEvents
) -> str:
    """List the closed port first, the stand-in second, as the production supervisor would."""
    monkeypatch.setenv("CONCIERGE_RASA_URLS", f"{closed_url},{rasa.url}")
    return closed_url


def human_turns(rasa: StandInRasaWithEvents, conversation: str) -> list[str]:
    return [
        str(e["text"])
        for e in rasa.events_of(conversation, "user")
        if e["parse_data"]["intent"]["name"] == CUSTOMER_TURN_INTENT
    ]


def chat(client: TestClient, text: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/api/chat", json={"message": text}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_gateway_hands_over_with_its_first_replica_down(
    make_settings: SettingsFactory, rasa: StandInRasaWithEvents, dead_first: str
) -> None:
    settings = make_settings(rasa=rasa, rasa_url=dead_first, **ALWAYS_OPEN)
    assert settings.rasa_urls == [dead_first, rasa.url]
    handing_over(rasa, settings.sqlalchemy_url, text="I've let our team know.")
    replicas = Replicas(rasa)

    with TestClient(create_app(settings, transport=replicas)) as customer:
        first = chat(customer, ASK)
        conversation, token = first["conversation_id"], first["token"]
        assert [m["text"] for m in first["messages"]] == ["I've let our team know."]
        # waiting: each message goes into the tracker (an append), the bot stays silent
        for text in ("hello? anyone?", "still there?"):
            assert chat(customer, text, token)["messages"] == []

        add_user(get_engine(settings.sqlalchemy_url), "sam@example.com", "support")
        agent = TestClient(customer.app)
        csrf = sign_in(agent, "sam@example.com")  # type: ignore[arg-type]
        base = f"/api/agent/conversations/{conversation}"
        assert agent.post(f"{base}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
        for text in ("Hi, Sam here.", "Let me check your order."):
            sent = agent.post(f"{base}/reply", json={"text": text}, headers={"X-CSRF-Token": csrf})
            assert sent.status_code == 200, sent.text

    assert [r["body"]["message"] for r in rasa.requests] == [ASK]
    assert human_turns(rasa, conversation) == ["hello? anyone?", "still there?"]
    bot_texts = [e["text"] for e in rasa.events_of(conversation, "bot")]
    assert bot_texts[-2:] == ["Hi, Sam here.", "Let me check your order."]
    # consecutive appends take turns over the two replicas: one of each pair went to the
    # refused port first and was then taken by the live one
    assert replicas.refused(dead_first, EVENTS_SUFFIX)


def telegram_update(name: str, update_id: int, text: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["update_id"] = update_id
    if text is not None:
        data["message"]["text"] = text
    return data


@pytest.fixture
def bot_api() -> Iterator[StandInBotApi]:
    with running_bot_api() as api:
        yield api


def test_the_telegram_poller_answers_and_hands_over_with_its_first_replica_down(
    make_settings: SettingsFactory,
    rasa: StandInRasaWithEvents,
    dead_first: str,
    bot_api: StandInBotApi,
) -> None:
    settings = make_settings(
        rasa=rasa,
        rasa_url=dead_first,
        telegram_token=SecretStr(bot_api.token),
        telegram_api_url=bot_api.url,
        **ALWAYS_OPEN,
    )
    assert settings.rasa_urls == [dead_first, rasa.url]
    handing_over(rasa, settings.sqlalchemy_url, "/ask_human", "I've let our team know.")
    replicas = Replicas(rasa)
    conversation = "telegram:987654321"

    bot_api.push(telegram_update("message_text", 900001))
    bot_api.push(telegram_update("command_human", 900002))
    bot_api.push(telegram_update("message_text", 900003, "Is anyone there?"))
    bot_api.push(telegram_update("message_text", 900004, "My grinder is broken"))

    assert asyncio.run(poll(settings, once=True, transport=replicas)) == 4

    # two bot turns on the live replica; then the handoff keeps the rest from the NLU
    assert [r["body"]["message"] for r in rasa.requests] == [
        "What is the return window?",
        "/ask_human",
    ]
    assert human_turns(rasa, conversation) == ["Is anyone there?", "My grinder is broken"]
    texts = [c.params["text"] for c in bot_api.wait_for("sendMessage", 2)]
    assert texts == ["bot: What is the return window?", "I've let our team know."]
    assert len(bot_api.of("sendMessage")) == 2  # nothing for the messages a person gets
    # the turns and the two consecutive appends took turns over the replicas: the refused
    # port was tried first for some of each, and the live replica took them
    assert replicas.refused(dead_first, "/webhooks/rest/webhook")
    assert replicas.refused(dead_first, EVENTS_SUFFIX)
