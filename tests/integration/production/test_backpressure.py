"""Back-pressure: beyond the bound on turns in flight, a fast 503 with the fallback text.

The gateway runs under uvicorn on a real port; the stand-in Rasa holds its replies until the
test lets them go, so the turns in flight are really in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.app import create_app
from bot.messages import fallback_text
from tests.support.rasa import RASA_REPLY, StandInRasa, serve
from tests.support.redis_server import gateway_settings

pytestmark = pytest.mark.timeout(120)

BOUND = 2


class SlowRasa(StandInRasa):
    """A stand-in Rasa whose replies wait until :attr:`release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.waiting = 0
        self._count = threading.Lock()
        self.reply = self._slow

    def _slow(self, body: Any) -> list[dict[str, Any]]:
        with self._count:
            self.waiting += 1
        self.release.wait(20)
        return RASA_REPLY


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[FastAPI, str, SlowRasa]]:
    rasa = SlowRasa()
    settings = gateway_settings(
        tmp_path / "data",
        rasa,
        max_inflight_turns=BOUND,
        overload_retry_after_seconds=3,
        rasa_timeout_seconds=9.0,
    )
    app = create_app(settings, transport=rasa.transport)
    with serve(app) as base_url:
        yield app, base_url, rasa
        rasa.release.set()


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def test_beyond_the_bound_a_turn_gets_a_fast_503_with_the_fallback(
    gateway: tuple[FastAPI, str, SlowRasa],
) -> None:
    app, base_url, rasa = gateway
    with httpx.Client(base_url=base_url, timeout=15) as client, ThreadPoolExecutor(4) as pool:
        running: list[Future[httpx.Response]] = [
            pool.submit(client.post, "/api/chat", json={"message": f"hello {n}"})
            for n in range(BOUND)
        ]
        wait_until(lambda: rasa.waiting == BOUND)
        assert app.state.guard.turns.in_flight == BOUND

        started = time.monotonic()
        busy = client.post("/api/chat", json={"message": "me too"})
        elapsed = time.monotonic() - started
        assert busy.status_code == 503
        assert elapsed < 1.0, f"answered at once, not queued ({elapsed:.2f} s)"
        assert busy.headers["Retry-After"] == "3"
        body = busy.json()
        assert body["error"] == "the assistant is busy; please try again in 3 seconds"
        assert [m["text"] for m in body["messages"]] == [fallback_text()]

        rest = client.post("/api/channels/rest/webhook", json={"sender": "crm-1", "message": "hi"})
        assert rest.status_code == 503
        assert rest.headers["Retry-After"] == "3"
        assert [m["text"] for m in rest.json()] == [fallback_text()], "the REST list shape"
        assert rasa.waiting == BOUND, "refused turns never reached Rasa"

        telegram = client.post("/channels/telegram/webhook", json={"update_id": 1})
        assert telegram.status_code == 503, "Telegram sends the update again later"
        assert telegram.headers["Retry-After"] == "3"
        assert telegram.json()["error"].startswith("the assistant is busy")

        # what is not a turn is served meanwhile
        assert client.get("/api/channels/web/health").status_code == 200

        rasa.release.set()
        assert [f.result().status_code for f in running] == [200] * BOUND
    wait_until(lambda: app.state.guard.turns.in_flight == 0)
    with httpx.Client(base_url=base_url, timeout=15) as client:
        assert client.post("/api/chat", json={"message": "again"}).status_code == 200
    assert app.state.guard.turns.refused == 3


def test_a_turn_that_fails_gives_its_place_back(tmp_path: Path) -> None:
    rasa = StandInRasa()
    rasa.mode = "error"
    settings = gateway_settings(tmp_path / "data", rasa, max_inflight_turns=1)
    app = create_app(settings, transport=rasa.transport)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=15) as client:
        for _ in range(3):  # Rasa fails: the route's own 503, and the place is free again
            failed = client.post("/api/chat", json={"message": "hi"})
            assert failed.status_code == 503
            assert failed.json()["error"] == "the assistant is temporarily unavailable"
        bad = client.post(
            "/api/chat", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert bad.status_code == 422
        rasa.mode = "ok"
        assert client.post("/api/chat", json={"message": "hi"}).status_code == 200
        assert app.state.guard.turns.in_flight == 0
        assert app.state.guard.turns.refused == 0
