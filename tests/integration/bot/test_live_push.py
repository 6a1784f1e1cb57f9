"""Live push over server-sent events: authorised by the token, resumed without loss or repeats."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from bot.app import create_app
from bot.deps import GatewayState
from channels.web import WebChannel
from core.messages import OutgoingMessage
from tests.integration.bot.conftest import FakeRasa, SettingsFactory
from tests.support.chat import ChatSession
from tests.support.rasa import serve
from tests.support.sse import open_stream

pytestmark = pytest.mark.timeout(120)


@dataclass
class Served:
    app: FastAPI
    base_url: str
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def state(self) -> GatewayState:
        state: GatewayState = self.app.state.gateway
        return state

    def chat(self) -> ChatSession:
        client = httpx.Client(base_url=self.base_url)
        self.clients.append(client)
        chat = ChatSession(client, timeout=10)
        chat.say("hello")
        return chat

    def agent_says(self, conversation_id: str, text: str) -> bool:
        """Deliver a later reply the way the gateway does (the web channel's send)."""
        web = self.state.channels["web"]
        return asyncio.run(
            self.state.conversation.deliver(web, conversation_id, [OutgoingMessage(text=text)])
        )


@pytest.fixture
def served(make_settings: SettingsFactory, fake_rasa: FakeRasa) -> Iterator[Served]:
    app = create_app(make_settings(rasa=fake_rasa), transport=fake_rasa.transport)
    with serve(app) as base_url:
        served = Served(app, base_url)
        yield served
        for client in served.clients:
            client.close()


def texts(data: dict[str, list[dict[str, str]]]) -> list[str]:
    return [m["text"] for m in data["messages"]]


def test_a_later_reply_reaches_the_open_chat_and_a_reconnect_resumes(served: Served) -> None:
    chat = served.chat()
    assert chat.conversation_id and chat.token
    with open_stream(served.base_url, chat.token) as (response, reader):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert reader is not None
        assert served.agent_says(chat.conversation_id, "Hi, this is Sam from support.")
        first = reader.next()
        assert first.event == "message"
        assert texts(first.data) == ["Hi, this is Sam from support."]
        served.state.realtime.append(chat.conversation_id, "agent_joined", {"name": "Sam"})
        second = reader.next()
        assert (second.event, second.data) == ("agent_joined", {"name": "Sam"})
        assert first.id is not None and second.id is not None
        assert int(second.id) > int(first.id)

    # While the customer is away, two more events; the reconnect gets exactly those.
    assert served.agent_says(chat.conversation_id, "Are you still there?")
    served.state.realtime.append(chat.conversation_id, "agent_left", {})
    with open_stream(served.base_url, chat.token, last_event_id=second.id) as (_, reader):
        assert reader is not None
        third, fourth = reader.next(), reader.next()
        assert texts(third.data) == ["Are you still there?"]
        assert fourth.event == "agent_left"
        assert reader.none_within(1.0), "nothing is sent twice"

    # The next turn does not repeat what was pushed.
    replies = chat.say("yes")
    assert "Are you still there?" not in [m["text"] for m in replies]


def test_a_first_connection_gets_everything_pushed_so_far(served: Served) -> None:
    chat = served.chat()
    assert chat.conversation_id
    assert served.agent_says(chat.conversation_id, "We have your order.")
    with open_stream(served.base_url, chat.token) as (_, reader):
        assert reader is not None
        assert texts(reader.next().data) == ["We have your order."]


def test_a_stream_sees_only_its_own_conversation(served: Served) -> None:
    alice, bob = served.chat(), served.chat()
    assert alice.conversation_id and bob.conversation_id
    with open_stream(served.base_url, bob.token) as (_, reader):
        assert reader is not None
        assert served.agent_says(alice.conversation_id, "for Alice only")
        assert served.agent_says(bob.conversation_id, "for Bob")
        assert texts(reader.next().data) == ["for Bob"]
        assert reader.none_within(1.0)


@pytest.mark.parametrize("token", [None, "forged.token", "garbage"])
def test_a_stream_needs_a_valid_token(served: Served, token: str | None) -> None:
    with open_stream(served.base_url, token) as (response, reader):
        assert response.status_code == 401
        assert reader is None
        assert "token" in response.json()["error"]


def test_a_bad_last_event_id_is_422(served: Served) -> None:
    chat = served.chat()
    with open_stream(served.base_url, chat.token, last_event_id="abc") as (response, _):
        assert response.status_code == 422
        assert "Last-Event-ID" in response.json()["error"]


def test_without_live_push_later_replies_wait_for_the_next_turn() -> None:
    """The web channel alone (no gateway attached) keeps later replies for the next turn."""
    channel = WebChannel()
    asyncio.run(channel.send("conv-1", [OutgoingMessage(text="later")]))
    assert [m.text for m in channel.take_pending("conv-1")] == ["later"]
