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
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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
    out["tracker_class"] = f"{type(inner).__module__}.{type(inner).__name__}"
    out["tracker_is_rasas_sql_store"] = isinstance(inner, SQLTrackerStore)
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
        "rasa_addons.tracker_store.SQLTrackerStore",
        "redis",
        "pika",
    )
    assert result["tracker_class"] == "rasa_addons.tracker_store.SQLTrackerStore"
    assert result["tracker_is_rasas_sql_store"] is True
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


def _check_env(**overrides: str) -> dict[str, str]:
    env = _production_env("test", "unused", "unused")
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(overrides)
    return env


def test_the_service_check_runs_in_rasas_environment() -> None:
    command = [str(RASA_PYTHON), "-m", "core.services", "--rasa-endpoints"]
    ok = subprocess.run(
        command, env=_check_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert sorted(line.split(" at ")[0] for line in ok.stdout.splitlines()) == [
        "ok     PostgreSQL",
        "ok     RabbitMQ",
        "ok     Redis",
    ]
    closed = _free_port()
    failed = subprocess.run(
        command,
        env=_check_env(
            CONCIERGE_TRACKER_DB_PORT=str(closed), CONCIERGE_EVENT_BROKER_PASSWORD="wrong"
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 1
    assert (
        f"FAILED PostgreSQL at postgresql://127.0.0.1:{closed}/test is not reachable: "
        "connection refused"
    ) in failed.stdout
    assert "FAILED RabbitMQ at amqp://127.0.0.1:5672 refused the connection at login" in (
        failed.stdout
    )
    assert "ok     Redis at redis://127.0.0.1:6379/1" in failed.stdout
    assert "Traceback" not in failed.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _trained_model() -> Path:
    default = PROJECT_ROOT / ".data" / "models" / "concierge.tar.gz"
    return Path(os.environ.get("CONCIERGE_MODEL", default))


@pytest.mark.e2e
def test_rasa_serves_a_turn_through_the_image_entrypoint_on_the_real_services(
    tracker_database: str, tmp_path: Path
) -> None:
    """deploy/rasa/entrypoint.sh starts the real Rasa on these services; one REST turn."""
    model = _trained_model()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it)")
    port, token = _free_port(), uuid.uuid4().hex
    queue = f"concierge_test_{uuid.uuid4().hex[:10]}"
    env = {
        **_production_env(tracker_database, queue, "unused"),
        "PATH": f"{RASA_PYTHON.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(PROJECT_ROOT),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "CONCIERGE_RASA_AUTH_TOKEN": token,
        "CONCIERGE_RASA_MODEL": str(model),
        "CONCIERGE_RASA_ENDPOINTS": str(ENDPOINTS),
        "CONCIERGE_RASA_CREDENTIALS": str(PROJECT_ROOT / "credentials.yml"),
        "CONCIERGE_RASA_PORT": str(port),
        "CONCIERGE_ACTION_ENDPOINT": f"http://127.0.0.1:{_free_port()}/webhook",
    }
    log_path = tmp_path / "rasa.log"
    log = log_path.open("wb")  # closed in the finally below
    process = subprocess.Popen(
        ["sh", str(PROJECT_ROOT / "deploy" / "rasa" / "entrypoint.sh")],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    sender = f"entrypoint-{uuid.uuid4().hex[:8]}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{base}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                text = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(f"Rasa did not start:\n{text}")
            time.sleep(1)
        reply = httpx.post(
            f"{base}/webhooks/rest/webhook",
            params={"token": token},
            json={"sender": sender, "message": "hello"},
            timeout=60,
        )
        assert reply.status_code == 200
        assert httpx.get(f"{base}/status", timeout=5).status_code == 401  # the token is on
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
    with psycopg.connect(
        f"host=127.0.0.1 port=5432 dbname={tracker_database} user=postgres connect_timeout=5"
    ) as connection:
        rows = connection.execute(
            "SELECT type_name FROM events WHERE sender_id = %s ORDER BY id", (sender,)
        ).fetchall()
    assert "user" in [row[0] for row in rows]
    published = _drain_queue(queue)
    assert "user" in [event.get("event") for event in published if event.get("sender_id") == sender]


def _drain_queue(queue: str) -> list[dict[str, Any]]:
    """Read and delete the test's queue with Rasa's own aio-pika (in Rasa's environment)."""
    script = (
        "import asyncio, json, sys, aio_pika\n"
        "async def main():\n"
        "    out = []\n"
        "    async with await aio_pika.connect('amqp://guest:guest@127.0.0.1:5672/') as c:\n"
        "        q = await (await c.channel()).get_queue(sys.argv[1])\n"
        "        while (m := await q.get(fail=False, no_ack=True)) is not None:\n"
        "            out.append(json.loads(m.body))\n"
        "        await q.delete(if_unused=False, if_empty=False)\n"
        "    print(json.dumps(out))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script, queue],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    events: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return events
