"""Live push across replicas: an event stored on gateway A reaches a stream open on gateway B.

Two gateways under uvicorn share one database (the same data directory, hence the same
conversation-token key) and one Redis. B polls its database only once a minute here, so an
event that arrives within seconds came through Redis's announcement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.app import create_app
from bot.deps import GatewayState
from bot.services.realtime import RedisFanout
from core.messages import OutgoingMessage
from tests.support.chat import ChatSession
from tests.support.rasa import StandInRasa, serve
from tests.support.redis_server import gateway_settings, redis_for_tests, unique_prefix
from tests.support.sse import open_stream

pytestmark = pytest.mark.timeout(120)

POLL_SECONDS = 60.0
QUICK = 3.0
"""Well under the poll: only the Redis announcement can deliver this fast."""


@dataclass
class Replica:
    app: FastAPI
    base_url: str

    @property
    def state(self) -> GatewayState:
        state: GatewayState = self.app.state.gateway
        return state

    @property
    def fanout(self) -> RedisFanout:
        fanout = self.state.realtime.fanout
        assert fanout is not None
        return fanout


def start_replicas(
    stack: ExitStack, data_dir: Path, redis_url: str, prefix: str, count: int = 2
) -> list[Replica]:
    replicas = []
    for _ in range(count):
        rasa = StandInRasa()
        settings = gateway_settings(
            data_dir,
            rasa,
            redis_url=redis_url,
            redis_key_prefix=prefix,
            realtime_poll_seconds=POLL_SECONDS,
        )
        app = create_app(settings, transport=rasa.transport)
        replicas.append(Replica(app, stack.enter_context(serve(app))))
    return replicas


def wait_until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[list[Replica]]:
    with redis_for_tests(tmp_path / "redis") as url, ExitStack() as stack:
        replicas = start_replicas(stack, tmp_path / "data", url, unique_prefix())
        for replica in replicas:
            wait_until(replica.fanout.subscribed.is_set)
        yield replicas


def test_an_event_published_on_one_replica_reaches_a_stream_on_another(
    replicas: list[Replica],
) -> None:
    a, b = replicas
    with httpx.Client(base_url=a.base_url, timeout=10) as client:
        chat = ChatSession(client)
        chat.say("hello")  # the conversation starts on A
    assert chat.conversation_id and chat.token
    with open_stream(b.base_url, chat.token) as (response, reader):  # the browser is on B
        assert response.status_code == 200 and reader is not None
        time.sleep(0.5)  # B has read the database once and now waits
        before = b.fanout.received

        started = time.monotonic()
        a.state.realtime.append(chat.conversation_id, "agent_joined", {"name": "Sam"})
        joined = reader.next(timeout=QUICK)
        assert (joined.event, joined.data) == ("agent_joined", {"name": "Sam"})
        assert time.monotonic() - started < QUICK

        # a later reply pushed the way the gateway does, on A's own event loop
        loop = a.fanout._loop
        assert loop is not None
        web = a.state.channels["web"]
        delivered = asyncio.run_coroutine_threadsafe(
            a.state.conversation.deliver(
                web, chat.conversation_id, [OutgoingMessage(text="Hi, this is Sam.")]
            ),
            loop,
        ).result(10)
        assert delivered
        message = reader.next(timeout=QUICK)
        assert message.event == "message"
        assert [m["text"] for m in message.data["messages"]] == ["Hi, this is Sam."]
        assert joined.id is not None and message.id is not None
        assert int(message.id) > int(joined.id)
        assert b.fanout.received >= before + 2, "B was woken by Redis, twice"
        assert reader.none_within(1.0), "nothing is sent twice"
    # the rows stay in the shared database: a resume on A gets exactly what came after
    with open_stream(a.base_url, chat.token, last_event_id=joined.id) as (_, resumed):
        assert resumed is not None
        again = resumed.next(timeout=QUICK)
        assert again.id == message.id


def test_a_replica_does_not_wake_itself_twice(replicas: list[Replica]) -> None:
    a, b = replicas
    received = a.fanout.received
    a.state.realtime.append("some-conversation", "agent_left", {})
    wait_until(lambda: b.fanout.received > 0)
    time.sleep(0.3)
    assert a.fanout.received == received, "A ignores its own announcement"
