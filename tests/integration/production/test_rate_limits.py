"""Rate limits on the public routes: GCRA in memory and in the real Redis, 429 with Retry-After.

The Redis tests use the machine's Redis (a key prefix of their own) or, when it does not
answer, a private ``redis-server``; they are skipped only when ``redis-server`` is missing.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from bot.app import create_app
from bot.middleware.client_address import TrustedProxies
from bot.services.ratelimit import InProcessLimiter, Limit, RedisLimiter
from core.config import Settings
from core.redis import RedisConnection
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.chat import ChatSession
from tests.support.rasa import StandInRasa, closed_port, serve
from tests.support.redis_server import gateway_settings, redis_for_tests, unique_prefix

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_for_tests(tmp_path_factory.mktemp("redis")) as url:
        yield url


# --- the algorithm --------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gcra_in_memory_allows_the_burst_then_spaces_requests_by_the_interval() -> None:
    clock = Clock()
    limiter = InProcessLimiter(clock)
    limit = Limit(rate=6, period_seconds=60, burst=3)  # one every 10 s, three at once

    async def run() -> None:
        assert [(await limiter.hit("k", limit)).allowed for _ in range(3)] == [True] * 3
        refused = await limiter.hit("k", limit)
        assert not refused.allowed
        assert refused.retry_after == pytest.approx(10.0)
        assert refused.retry_after_seconds == 10
        assert (await limiter.hit("other", limit)).allowed, "keys are counted apart"
        clock.now += 9.5
        assert not (await limiter.hit("k", limit)).allowed
        clock.now += 0.5
        assert (await limiter.hit("k", limit)).allowed, "one more after exactly one interval"
        assert not (await limiter.hit("k", limit)).allowed
        clock.now += 60
        assert [(await limiter.hit("k", limit)).allowed for _ in range(4)] == [True] * 3 + [False]

    asyncio.run(run())


def test_in_memory_keys_are_forgotten_once_their_burst_is_over() -> None:
    clock = Clock()
    limiter = InProcessLimiter(clock, max_keys=10)
    limit = Limit(rate=60, period_seconds=60, burst=2)

    async def run() -> None:
        for n in range(10):
            await limiter.hit(f"k{n}", limit)
        clock.now += 5
        await limiter.hit("new", limit)
        await limiter.hit("newer", limit)

    asyncio.run(run())
    assert len(limiter) <= 10


def test_gcra_in_redis_counts_for_every_replica_and_expires_its_keys(redis_url: str) -> None:
    prefix = unique_prefix()
    limit = Limit(rate=600, period_seconds=60, burst=3)  # one every 0.1 s

    async def run() -> None:
        first, second = RedisConnection(redis_url), RedisConnection(redis_url)
        replica_a, replica_b = RedisLimiter(first, prefix), RedisLimiter(second, prefix)
        try:
            results = [
                (await limiter.hit("conv", limit)).allowed
                for limiter in (replica_a, replica_b, replica_a)
            ]
            assert results == [True, True, True]
            refused = await replica_b.hit("conv", limit)
            assert not refused.allowed, "the burst is shared by both replicas"
            assert 0 < refused.retry_after <= 0.1 + 0.01
            assert refused.retry_after_seconds == 1
            assert (await replica_b.hit("another", limit)).allowed
            ttl = await first.client.pttl(f"{prefix}rl:conv")
            assert 0 < ttl <= 400, "the key expires once its burst is over"
            await asyncio.sleep(0.15)
            assert (await replica_a.hit("conv", limit)).allowed
            assert not replica_a.degraded and replica_a.failed_open == 0
        finally:
            await first.close()
            await second.close()

    asyncio.run(run())


def test_redis_limiter_fails_open_when_redis_does_not_answer() -> None:
    async def run() -> None:
        connection = RedisConnection(f"redis://127.0.0.1:{closed_port()}/0")
        limiter = RedisLimiter(connection, unique_prefix())
        limit = Limit(rate=1, period_seconds=60, burst=1)
        try:
            started = time.monotonic()
            decisions = [await limiter.hit("conv", limit) for _ in range(5)]
            assert all(d.allowed for d in decisions)
            assert time.monotonic() - started < 1.0, "no connect timeout per request"
            assert limiter.degraded and limiter.failed_open == 5
            assert connection.problem == "connection refused"
        finally:
            await connection.close()

    asyncio.run(run())


# --- client addresses ------------------------------------------------------------------------


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    none = TrustedProxies.parse([])
    assert none.client_address("198.51.100.9", ["203.0.113.7"]) == "198.51.100.9"
    proxies = TrustedProxies.parse(["10.0.0.0/8", "192.0.2.1"])
    assert proxies.client_address("10.1.2.3", ["203.0.113.7"]) == "203.0.113.7"
    # the client wrote the left part itself: only the right end, added by proxies, counts
    assert proxies.client_address("10.1.2.3", ["6.6.6.6, 203.0.113.7, 192.0.2.1"]) == (
        "203.0.113.7"
    )
    assert proxies.client_address("10.1.2.3", ["6.6.6.6", "203.0.113.7"]) == "203.0.113.7"
    # an untrusted peer's header is ignored
    assert proxies.client_address("198.51.100.9", ["203.0.113.7"]) == "198.51.100.9"
    # only proxies in the header: the leftmost one is as far as anyone can tell
    assert proxies.client_address("10.1.2.3", ["10.9.9.9"]) == "10.9.9.9"
    assert proxies.client_address("10.1.2.3", ["garbage"]) == "10.1.2.3"
    assert proxies.client_address("10.1.2.3", []) == "10.1.2.3"
    assert proxies.client_address("10.1.2.3", ["[2001:db8::1]:443"]) == "2001:db8::1"
    assert proxies.client_address(None, ["203.0.113.7"]) == "unknown"


def test_trusted_proxies_setting_refuses_what_is_not_an_address() -> None:
    settings = Settings(_env_file=None, trusted_proxies="10.0.0.0/8, 127.0.0.1")  # type: ignore[call-arg,arg-type]
    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    with pytest.raises(ValueError, match=r"CONCIERGE_TRUSTED_PROXIES: 'proxy\.local'"):
        Settings(_env_file=None, trusted_proxies="proxy.local")  # type: ignore[call-arg,arg-type]


# --- the gateway ---------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def gateway(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> Iterator[tuple[TestClient, StandInRasa]]:
    rasa = StandInRasa()
    overrides: dict[str, Any] = {
        "rate_limit_conversation_per_minute": 1,
        "rate_limit_conversation_burst": 3,
        "rate_limit_address_per_minute": 1000,
        "rate_limit_address_burst": 1000,
        "cors_allow_origins": ["https://shop.example"],
    }
    if backend == "redis":
        overrides.update(
            redis_url=request.getfixturevalue("redis_url"), redis_key_prefix=unique_prefix()
        )
    settings = gateway_settings(tmp_path / "data", rasa, **overrides)
    with TestClient(create_app(settings, transport=rasa.transport)) as client:
        yield client, rasa


def test_a_conversation_over_its_limit_gets_429_with_retry_after(
    gateway: tuple[TestClient, StandInRasa], backend: str
) -> None:
    client, rasa = gateway
    chat = ChatSession(client)
    chat.say("hello")  # starts the conversation: counted for the address only
    chat.say("one")
    chat.say("two")
    chat.say("three")
    sent = len(rasa.requests)
    refused = client.post(
        "/api/chat",
        json={"message": "four"},
        headers={**chat.headers(), "Origin": "https://shop.example"},
    )
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    body = refused.json()
    assert body["error"] == (
        f"too many requests from this conversation; please wait {retry_after} seconds"
    )
    [message] = body["messages"]  # what the widget shows
    assert f"Please wait {retry_after} seconds" in message["text"]
    assert "token" not in body, "the client keeps the token it has"
    assert refused.headers["access-control-allow-origin"] == "https://shop.example"
    assert len(rasa.requests) == sent, "a refused message never reaches Rasa"
    # another conversation is not affected
    ChatSession(client).say("hello from someone else")
    # nor is the staff side, or a health check
    assert client.get("/api/channels/web/health").status_code == 200
    state = client.app.state  # type: ignore[attr-defined]
    assert state.guard.limiter.name == backend


def test_feedback_and_stream_connects_are_limited_per_conversation(
    gateway: tuple[TestClient, StandInRasa],
) -> None:
    client, _ = gateway
    chat = ChatSession(client)
    chat.say("hello")
    statuses = [
        client.post(
            "/api/feedback", json={"answer_id": "none", "rating": "up"}, headers=chat.headers()
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [404, 404, 404, 429], "the route's answer, until the limit"
    # the message budget is its own: the conversation can still talk
    chat.say("still here")
    # a bad Last-Event-ID is the route's 422, answered at once: three connects are counted
    resume = {**chat.headers(), "Last-Event-ID": "x"}
    assert [client.get("/api/chat/events", headers=resume).status_code for _ in range(3)] == [
        422
    ] * 3
    limited = client.get("/api/chat/events", headers=chat.headers())
    assert limited.status_code == 429
    assert limited.json()["error"].startswith("too many connections from this conversation")


def test_a_forged_token_is_not_counted_for_the_conversation_it_names(
    gateway: tuple[TestClient, StandInRasa],
) -> None:
    client, _ = gateway
    chat = ChatSession(client)
    chat.say("hello")
    forged = {"Authorization": f"Bearer {chat.token}x"}
    for _ in range(5):
        assert client.post("/api/chat", json={"message": "hi"}, headers=forged).status_code == 401
    chat.say("my own budget is untouched")


def test_the_rest_channel_is_limited_per_sender(gateway: tuple[TestClient, StandInRasa]) -> None:
    client, _ = gateway

    def send(sender: str) -> int:
        return client.post(
            "/api/channels/rest/webhook", json={"sender": sender, "message": "hi"}
        ).status_code

    assert [send("crm-42") for _ in range(4)] == [200, 200, 200, 429]
    assert send("crm-43") == 200


@pytest.mark.parametrize("peer", ["198.51.100.9", "10.0.0.5"])
def test_a_client_address_over_its_limit_gets_429(tmp_path: Path, peer: str) -> None:
    rasa = StandInRasa()
    settings = gateway_settings(
        tmp_path / "data",
        rasa,
        rate_limit_address_per_minute=1,
        rate_limit_address_burst=2,
        trusted_proxies=["10.0.0.0/8"],
    )
    app = create_app(settings, transport=rasa.transport)
    with TestClient(app, client=(peer, 5000)) as client:

        def statuses(forwarded_for: str) -> list[int]:
            headers = {"X-Forwarded-For": forwarded_for}
            return [
                client.post("/api/chat", json={"message": m}, headers=headers).status_code
                for m in ("x", "y", "z")
            ]

        if peer == "198.51.100.9":  # not a proxy: the header it sends is not believed
            assert statuses("203.0.113.1") == [200, 200, 429]
            refused = client.post(
                "/api/chat", json={"message": "c"}, headers={"X-Forwarded-For": "203.0.113.2"}
            )
            assert refused.status_code == 429, "an untrusted peer cannot choose its address"
            assert refused.json()["error"].startswith("too many requests from this address")
        else:  # behind the trusted proxy each customer has their own address
            assert statuses("6.6.6.6, 203.0.113.1") == [200, 200, 429]
            assert statuses("6.6.6.6, 203.0.113.2") == [200, 200, 429]


def test_limits_can_be_switched_off(tmp_path: Path) -> None:
    rasa = StandInRasa()
    settings = gateway_settings(
        tmp_path / "data",
        rasa,
        rate_limit_enabled=False,
        rate_limit_conversation_per_minute=1,
        rate_limit_conversation_burst=1,
        rate_limit_address_per_minute=1,
        rate_limit_address_burst=1,
    )
    with TestClient(create_app(settings, transport=rasa.transport)) as client:
        chat = ChatSession(client)
        for text in ("a", "b", "c", "d"):
            chat.say(text)


def test_with_redis_unreachable_the_gateway_serves_and_health_says_degraded(
    tmp_path: Path,
) -> None:
    rasa = StandInRasa()
    port = closed_port()
    settings = gateway_settings(
        tmp_path / "data",
        rasa,
        redis_url=f"redis://:pw@127.0.0.1:{port}/0",
        rate_limit_conversation_per_minute=1,
        rate_limit_conversation_burst=1,
    )
    with TestClient(create_app(settings, transport=rasa.transport)) as client:
        chat = ChatSession(client)
        for text in ("a", "b", "c"):
            chat.say(text)  # limits fail open: no 429, no 500
        health = client.get("/healthz")
        assert health.status_code == 200, "Redis alone does not take the gateway out of service"
        body = health.json()
        assert body["status"] == "degraded"
        assert body["checks"]["redis"] == {
            "ok": False,
            "detail": f"redis://127.0.0.1:{port}/0 is not reachable: connection refused; "
            "rate limits are not enforced",
        }
        assert "pw" not in health.text


@pytest.mark.browser
def test_the_widget_shows_the_rate_limit_message_and_keeps_the_conversation(
    tmp_path: Path,
) -> None:
    rasa = StandInRasa()
    settings = gateway_settings(
        tmp_path / "data",
        rasa,
        rate_limit_conversation_per_minute=1,
        rate_limit_conversation_burst=2,
    )
    app = create_app(settings, transport=rasa.transport)
    bot = ".concierge-msg.concierge-bot"
    with (
        serve(app) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "rate-limited"),
    ):
        page.goto(base_url + "/")
        page.click("#concierge-launcher")
        for count, text in enumerate(("hello", "one", "two", "three"), start=1):
            expect(page.locator("#concierge-send")).to_be_enabled()
            page.fill("#concierge-input", text)
            page.press("#concierge-input", "Enter")
            expect(page.locator(".concierge-msg.concierge-user")).to_have_count(count)
        last = page.locator(bot).last
        expect(last).to_contain_text(
            re.compile(r"You're sending messages faster than I can answer\. Please wait \d+ "),
            timeout=15_000,
        )
        expect(last).to_have_class(re.compile("concierge-error"))
        expect(page.locator("#concierge-send")).to_be_enabled()
        conversations = {r["body"]["sender"] for r in rasa.requests}
        assert len(conversations) == 1, "the widget kept its conversation and token"
        assert len(rasa.requests) == 3
