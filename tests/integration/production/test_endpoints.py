"""``endpoints.production.yml`` loaded by Rasa 3.6 itself, against the real local services.

Rasa runs in its own virtual environment, so the check runs there as a subprocess: Rasa's
``AvailableEndpoints.read_endpoints`` reads the file with the environment set to this
machine's PostgreSQL, Redis and RabbitMQ; Rasa's factories build the SQL tracker store (with
the Pika broker attached), the Redis lock store and the broker; a tracker is saved and read
back, a lock is held, and the events the save published are read back from the queue with a
plain consumer. The services run on this machine and in CI: the test fails, never skips,
when one is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from core.config import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
ENDPOINTS = PROJECT_ROOT / "endpoints.production.yml"
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=5"

# Runs under .venv-rasa: argv[1] is the endpoints file; prints one JSON object.
RASA_CHECK = r"""
import asyncio, json, os, sys, time
import aio_pika
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


async def main() -> dict:
    endpoints = AvailableEndpoints.read_endpoints(sys.argv[1])
    out = {
        "action_url": endpoints.action.url,
        "tracker_type": endpoints.tracker_store.type,
        "lock_type": endpoints.lock_store.type,
        "broker_type": endpoints.event_broker.type,
    }
    broker = await EventBroker.create(endpoints.event_broker)
    out["broker_class"] = type(broker).__name__
    out["broker_ready"] = broker.is_ready()
    store = TrackerStore.create(endpoints.tracker_store, Domain.empty(), broker)
    inner = getattr(store, "_tracker_store", store)
    out["tracker_class"] = type(inner).__name__
    out["tracker_dialect"] = inner.engine.dialect.name
    out["tracker_database"] = inner.engine.url.database

    sender = os.environ["CHECK_SENDER"]
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("hello from the endpoints check", {"name": "greet"}))
    await store.save(tracker)
    again = await store.retrieve(sender)
    out["retrieved_texts"] = [e.text for e in again.events if isinstance(e, UserUttered)]

    locks = LockStore.create(endpoints.lock_store)
    out["lock_class"] = type(locks).__name__
    out["lock_prefix"] = locks.key_prefix
    async with locks.lock(sender, lock_lifetime=30):
        held = locks.get_lock(sender)
        out["lock_held"] = held is not None and len(held.tickets) == 1
        out["lock_key_exists"] = bool(locks.red.exists(locks.key_prefix + sender))
    locks.delete_lock(sender)
    out["lock_key_after"] = bool(locks.red.exists(locks.key_prefix + sender))

    await asyncio.sleep(0.5)  # Rasa publishes in background tasks
    connection = await aio_pika.connect(
        host=os.environ["CONCIERGE_EVENT_BROKER_HOST"],
        port=int(os.environ["CONCIERGE_EVENT_BROKER_PORT"]),
        login=os.environ["CONCIERGE_EVENT_BROKER_USER"],
        password=os.environ["CONCIERGE_EVENT_BROKER_PASSWORD"],
    )
    received = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(os.environ["CONCIERGE_EVENT_BROKER_QUEUE"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(received) < 2:
            message = await queue.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.2)
                continue
            received.append(json.loads(message.body))
        await queue.delete(if_unused=False, if_empty=False)
    out["published"] = [
        {"sender_id": e.get("sender_id"), "event": e.get("event"), "text": e.get("text")}
        for e in received
    ]
    await broker.close()
    return out


print("RESULT " + json.dumps(asyncio.run(main())))
"""


@pytest.fixture
def tracker_database() -> Iterator[str]:
    """A fresh PostgreSQL database for Rasa's tracker store, dropped afterwards."""
    name = f"concierge_tracker_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 (db test) is required: {error}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _production_env(database: str, queue: str, sender: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CONCIERGE_ACTION_ENDPOINT": "http://actions.internal:5055/webhook",
        "CONCIERGE_TRACKER_DB_HOST": "127.0.0.1",
        "CONCIERGE_TRACKER_DB_PORT": "5432",
        "CONCIERGE_TRACKER_DB": database,
        "CONCIERGE_TRACKER_DB_USER": "postgres",
        "CONCIERGE_TRACKER_DB_PASSWORD": "",
        "CONCIERGE_LOCK_STORE_HOST": "127.0.0.1",
        "CONCIERGE_LOCK_STORE_PORT": "6379",
        "CONCIERGE_LOCK_STORE_DB": "1",
        "CONCIERGE_LOCK_STORE_PASSWORD": "",
        "CONCIERGE_EVENT_BROKER_HOST": "127.0.0.1",
        "CONCIERGE_EVENT_BROKER_PORT": "5672",
        "CONCIERGE_EVENT_BROKER_USER": "guest",
        "CONCIERGE_EVENT_BROKER_PASSWORD": "guest",
        "CONCIERGE_EVENT_BROKER_QUEUE": queue,
        "CHECK_SENDER": sender,
    }


def _run_check(env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    if not RASA_PYTHON.exists():
        pytest.fail(f"Rasa's virtual environment is missing ({RASA_PYTHON}): run make install")
    return subprocess.run(
        [str(RASA_PYTHON), "-c", RASA_CHECK, str(ENDPOINTS)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, f"exit {done.returncode}\n{done.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    return result


def test_rasa_loads_the_production_endpoints_against_real_services(
    tracker_database: str,
) -> None:
    queue = f"concierge_test_{uuid.uuid4().hex[:10]}"
    sender = f"endpoints-check-{uuid.uuid4().hex[:8]}"
    result = _result(_run_check(_production_env(tracker_database, queue, sender)))

    assert result["action_url"] == "http://actions.internal:5055/webhook"
    assert (result["tracker_type"], result["lock_type"], result["broker_type"]) == (
        "SQL",
        "redis",
        "pika",
    )
    assert result["tracker_class"] == "SQLTrackerStore"
    assert result["tracker_dialect"] == "postgresql"
    assert result["tracker_database"] == tracker_database
    assert result["retrieved_texts"] == ["hello from the endpoints check"]

    assert result["lock_class"] == "RedisLockStore"
    assert result["lock_prefix"] == "concierge:lock:"
    assert result["lock_held"] is True
    assert result["lock_key_exists"] is True
    assert result["lock_key_after"] is False

    assert result["broker_class"] == "PikaEventBroker"
    assert result["broker_ready"] is True
    published = result["published"]
    assert [event["event"] for event in published] == ["action", "user"]
    assert all(event["sender_id"] == sender for event in published)
    assert published[1]["text"] == "hello from the endpoints check"

    # Rasa wrote its own table in the tracker database.
    with psycopg.connect(
        f"host=127.0.0.1 port=5432 dbname={tracker_database} user=postgres connect_timeout=5"
    ) as connection:
        rows = connection.execute(
            "SELECT type_name FROM events WHERE sender_id = %s ORDER BY id", (sender,)
        ).fetchall()
    assert [row[0] for row in rows] == ["action", "user"]


def test_rasa_refuses_the_file_when_a_variable_is_unset() -> None:
    env = _production_env("unused", "unused", "unused")
    del env["CONCIERGE_LOCK_STORE_HOST"]
    done = _run_check(env, timeout=120)
    assert done.returncode != 0
    assert "CONCIERGE_LOCK_STORE_HOST" in done.stderr
