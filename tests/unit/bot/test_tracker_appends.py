"""Tracker-event appends: the client's request, and over replicas the pool's turns and failover.

The handoff's :class:`~bot.services.handoff.TrackerEvents` writes through the gateway's Rasa
client, so the tests drive it with two replica URLs on ``httpx.MockTransport`` (no sockets).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from bot.rasa_client import (
    RasaClient,
    RasaNotConnected,
    RasaTimeout,
    RasaUnavailable,
)
from bot.rasa_pool import RasaPool, rasa_client_for
from bot.services.handoff import TrackerEvents

EVENTS = [{"event": "user", "timestamp": 1.0, "text": "hello?"}]
REPLICAS = ["http://a:5005", "http://b:5006"]
TOKEN = "s3cret-api-token"

Handler = Callable[[httpx.Request], httpx.Response]


def _appends(
    handler: Handler,
    urls: list[str],
    count: int,
    conversation_id: str = "web:1",
    auth_token: str | None = TOKEN,
) -> None:
    """Append ``EVENTS`` ``count`` times through ``TrackerEvents`` over ``urls``."""

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            rasa = rasa_client_for(http, "http://unused:1", urls, 1.0, auth_token)
            tracker = TrackerEvents(rasa)
            for _ in range(count):
                await tracker.append(conversation_id, EVENTS)

    asyncio.run(go())


def _taken(seen: list[httpx.Request]) -> Handler:
    """A replica handler that records each request and answers like Rasa's events route."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "down":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(200, json={"sender_id": "web:1", "events": None})

    return handler


def test_an_append_posts_the_events_with_the_token_and_no_events_back() -> None:
    seen: list[httpx.Request] = []
    _appends(_taken(seen), ["http://a:5005/"], 1, conversation_id="telegram:42/x")
    [request] = seen
    assert request.method == "POST"
    assert request.url.raw_path.startswith(b"/conversations/telegram%3A42%2Fx/tracker/events?")
    assert request.url.host == "a" and request.url.port == 5005
    assert dict(request.url.params) == {"include_events": "NONE", "token": TOKEN}
    assert json.loads(request.content) == EVENTS


def test_without_a_token_only_include_events_is_sent() -> None:
    seen: list[httpx.Request] = []
    _appends(_taken(seen), ["http://a:5005"], 1, auth_token=None)
    assert dict(seen[0].url.params) == {"include_events": "NONE"}


def test_the_first_replica_refusing_connections_hands_the_append_to_the_second() -> None:
    seen: list[httpx.Request] = []
    _appends(_taken(seen), ["http://down:5005", "http://b:5006"], 1)
    assert [r.url.host for r in seen] == ["down", "b"]
    assert seen[1].url.raw_path.startswith(b"/conversations/web%3A1/tracker/events?")
    assert json.loads(seen[1].content) == EVENTS
    assert dict(seen[1].url.params) == {"include_events": "NONE", "token": TOKEN}


def test_appends_take_turns_over_the_replicas() -> None:
    seen: list[httpx.Request] = []
    _appends(_taken(seen), REPLICAS, 4)
    assert [r.url.host for r in seen] == ["a", "b", "a", "b"]


def test_appends_share_the_turns_of_chat_messages() -> None:
    """One pool for chat and handoff: an append after a turn goes to the next replica."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/webhooks/rest/webhook":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json={})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            pool = RasaPool(http, REPLICAS, 1.0, TOKEN)
            await pool.status()
            await pool.append_events("web:1", EVENTS)
            await pool.tracker("web:1")
            await pool.append_events("web:1", EVENTS)

    asyncio.run(go())
    assert [(r.url.host, r.url.path.rsplit("/", 1)[-1]) for r in seen] == [
        ("a", "status"), ("b", "events"), ("a", "tracker"), ("b", "events"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "failure",
    [
        lambda request: httpx.Response(500, json={"status": "failure", "code": 500}),
        lambda request: httpx.Response(409, json={"status": "failure", "code": 409}),
        lambda request: (_ for _ in ()).throw(httpx.ReadError("reset", request=request)),
        lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=request)),
    ],
    ids=["http-500", "http-409", "reset-while-answering", "timeout"],
)
def test_an_append_a_replica_received_is_not_sent_to_another(
    failure: Callable[[httpx.Request], httpx.Response],
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return failure(request)

    with pytest.raises(RasaUnavailable) as raised:
        _appends(handler, REPLICAS, 1)
    assert not isinstance(raised.value, RasaNotConnected)
    assert seen == ["a"]  # the events may be in the tracker already: never appended twice


def test_every_replica_down_is_not_connected() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(RasaNotConnected):
        _appends(_taken(seen), ["http://down:5005", "http://down:5006"], 1)
    assert len(seen) == 2


def test_append_errors_name_neither_the_token_nor_the_conversation() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "refusing":
            raise httpx.ConnectError(f"refused {request.url}", request=request)
        return httpx.Response(401, json={"reason": "NotAuthenticated"})

    async def go() -> list[RasaUnavailable]:
        errors: list[RasaUnavailable] = []
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            for url in ("http://refusing:5005", "http://rasa:5005"):
                try:
                    await RasaClient(http, url, 1.0, TOKEN).append_events("alice@x", EVENTS)
                except RasaUnavailable as error:
                    errors.append(error)
        return errors

    refused, rejected = asyncio.run(go())
    assert isinstance(refused, RasaNotConnected)
    assert TOKEN not in str(refused) and "alice" not in str(refused)
    assert str(rejected) == (
        "Rasa answered HTTP 401 on /conversations/{conversation_id}/tracker/events"
    )


def test_an_append_is_bounded_by_the_clients_time_budget() -> None:
    async def go() -> None:
        async def slow(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(5)
            return httpx.Response(200, json={})

        async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as http:
            await TrackerEvents(RasaClient(http, "http://rasa", 0.2)).append("web:1", EVENTS)

    with pytest.raises(RasaTimeout, match=r"0\.2 s"):
        asyncio.run(go())
