"""Redis killed and started again: the gateway serves meanwhile and recovers by itself.

Each test runs its own ``redis-server`` on a free port (never the machine's shared one,
which other suites use) and kills it with SIGKILL, as a crash would, then starts it again on
the same port. Skipped only when ``redis-server`` is not installed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from bot.app import create_app
from core.config import Settings
from tests.support.chat import ChatSession
from tests.support.rasa import StandInRasa
from tests.support.redis_server import PrivateRedis, gateway_settings, private_redis
from tests.support.sse import open_stream

pytestmark = pytest.mark.timeout(180)

RECOVERY_SECONDS = 20.0
"""Longest wait for the gateway to use Redis again (the backoff is at most 5 s)."""


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.25)
    return time.monotonic() - started


def limited_settings(tmp_path: Path, rasa: StandInRasa, server: PrivateRedis) -> Settings:
    return gateway_settings(
        tmp_path / "data",
        rasa,
        redis_url=server.url,
        rate_limit_conversation_per_minute=1,
        rate_limit_conversation_burst=2,
    )


def conversation_is_limited(client: TestClient) -> bool:
    """Start a conversation and send until refused: True when the third message gets a 429."""
    chat = ChatSession(client)
    statuses = [chat.post(text).status_code for text in ("start", "one", "two", "three")]
    assert all(code in (200, 429) for code in statuses), statuses
    return statuses == [200, 200, 200, 429]


def test_rate_limits_fail_open_while_redis_is_down_and_come_back_with_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rasa = StandInRasa()
    with private_redis(tmp_path / "redis") as server:
        app = create_app(limited_settings(tmp_path, rasa, server), transport=rasa.transport)
        with TestClient(app) as client:
            assert conversation_is_limited(client), "Redis enforces the limit"
            keys = redis.Redis.from_url(server.url).keys("concierge:rl:*")
            assert keys, "the counts are in Redis"

            server.kill()
            started = time.monotonic()
            for _ in range(3):
                assert not conversation_is_limited(client), "fails open: no 429 and no 500"
            assert time.monotonic() - started < 5, "no waiting on the dead server per request"
            health = client.get("/healthz")
            assert health.status_code == 200
            assert health.json()["status"] == "degraded"
            assert health.json()["checks"]["redis"]["ok"] is False
            assert "redis.unavailable" in caplog.text

            server.start()  # same port, empty: no restart of the gateway
            took = wait_for(
                lambda: conversation_is_limited(client),
                RECOVERY_SECONDS,
                "the limit is enforced again after Redis came back",
            )
            assert took < RECOVERY_SECONDS
            assert "redis.recovered" in caplog.text
            health = client.get("/healthz")
            assert health.status_code == 200
            assert health.json()["status"] == "ok"
            assert health.json()["checks"]["redis"]["ok"] is True
    assert "Traceback" not in caplog.text


def test_a_gateway_started_while_redis_is_down_names_it_and_serves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rasa = StandInRasa()
    server = PrivateRedis(tmp_path / "redis")  # not started yet
    try:
        app = create_app(limited_settings(tmp_path, rasa, server), transport=rasa.transport)
        with TestClient(app) as client:
            assert f"gateway.redis.unreachable target=redis://127.0.0.1:{server.port}/0" in (
                caplog.text
            )
            assert "problem=connection refused" in caplog.text
            assert not conversation_is_limited(client)
            server.start()
            wait_for(
                lambda: conversation_is_limited(client),
                RECOVERY_SECONDS,
                "the limit is enforced once Redis answers",
            )
    finally:
        server.stop()


def test_the_push_fan_out_resubscribes_after_a_restart(tmp_path: Path) -> None:
    from tests.integration.production.test_push_fanout import QUICK, start_replicas

    with private_redis(tmp_path / "redis") as server, ExitStack() as stack:
        a, b = start_replicas(stack, tmp_path / "data", server.url, "concierge:")
        wait_for(lambda: a.fanout.subscribed.is_set() and b.fanout.subscribed.is_set(), 10, "up")
        with httpx.Client(base_url=a.base_url, timeout=10) as client:
            chat = ChatSession(client)
            chat.say("hello")
        assert chat.conversation_id and chat.token

        server.kill()
        wait_for(lambda: not b.fanout.subscribed.is_set(), 10, "B sees Redis go away")
        server.start()
        took = wait_for(
            lambda: a.fanout.subscribed.is_set() and b.fanout.subscribed.is_set(),
            RECOVERY_SECONDS,
            "both replicas subscribe again",
        )
        assert took < RECOVERY_SECONDS

        with open_stream(b.base_url, chat.token) as (response, reader):
            assert response.status_code == 200 and reader is not None
            time.sleep(0.5)
            a.state.realtime.append(chat.conversation_id, "agent_joined", {"name": "Sam"})
            event = reader.next(timeout=QUICK)
            assert (event.event, event.data) == ("agent_joined", {"name": "Sam"})
