"""The feed inside the ``concierge worker`` process: events published while it runs are
copied within seconds, a restart copies nothing twice, and ``--drain`` copies what waits."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from core.config import PROJECT_ROOT
from core.storage import get_engine, session_scope
from core.storage.app_events import AppEvent
from core.storage.migrate import upgrade
from tests.integration.events.test_event_feed import Broker, conversation
from tests.support.stack import free_port


def _count(url: str) -> int:
    with session_scope(get_engine(url)) as session:
        return int(session.scalar(select(func.count()).select_from(AppEvent)) or 0)


def _wait_for(url: str, expected: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    found = _count(url)
    while found < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        found = _count(url)
    return found


def test_the_running_worker_copies_events_and_a_restart_adds_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'concierge.db'}"
    upgrade(url)
    broker = Broker(tmp_path / "rasa-events.db")
    env = {
        **os.environ,
        "CONCIERGE_DATA_DIR": str(tmp_path),
        "CONCIERGE_DATABASE_URL": url,
        "CONCIERGE_EVENTS_DB": str(broker.path),
        "CONCIERGE_EVENTS_POLL_SECONDS": "0.2",
    }
    env.pop("CONCIERGE_RABBITMQ_URL", None)

    def start() -> subprocess.Popen[bytes]:
        health = f"http://127.0.0.1:{free_port()}"
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"],
            cwd=PROJECT_ROOT,
            env={**env, "CONCIERGE_WORKER_HEALTH_URL": health},
        )

    def stop(process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    process = start()
    try:
        for event in conversation("lena", "web", 1_800_000_000.0):
            broker.publish(event)
        assert _wait_for(url, 7) == 7
    finally:
        stop(process)
    process = start()
    try:
        for event in conversation("lena", "web", 1_800_000_050.0)[2:]:
            broker.publish(event)
        assert _wait_for(url, 12) == 12
        time.sleep(1.0)
        assert _count(url) == 12  # nothing of the first run copied again
    finally:
        stop(process)
    # `--drain`: copy what is waiting and exit
    with sqlite3.connect(broker.path) as db:
        db.execute(
            "INSERT INTO events (sender_id, data) VALUES (?, ?)",
            ("mo", json.dumps(conversation("mo", "rest", 1_800_000_100.0)[2])),
        )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker", "--drain"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert _count(url) == 13
