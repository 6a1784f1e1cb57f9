"""Lead delivery: leads per second from the outbox to a local receiver, and the chaos run.

Runs the real ``concierge worker`` process against a local signed-webhook receiver:

1. throughput: ``--leads`` leads captured, one worker drains them, no failures;
2. chaos: ``--chaos-leads`` leads, the receiver fails 30% of calls (half of them after
   storing the record, so the answer is lost) and hangs past the client timeout on 5%, the
   worker is killed (SIGKILL) twice and restarted; reports attempts, calls, time to drain,
   records and duplicates.

    .venv/bin/python -m benchmarks.leads [--postgres] [--leads 1000] [--chaos-leads 200]
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, func, select, text

from core.config import PROJECT_ROOT, Settings
from core.scoring import load_scoring_rules
from core.storage import get_engine, session_scope
from core.storage.leads import ConsentAnswer, LeadDetails, capture_lead
from core.storage.migrate import upgrade
from core.storage.models import DeliveryAttempt, OutboxEntry
from tests.support.crm_standins import Chaos, WebhookReceiver

SECRET = "benchmark-secret"  # noqa: S105 - shared with the local receiver only


POSTGRES_ADMIN = os.environ.get(
    "CONCIERGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def database(postgres: bool, folder: Path) -> Iterator[str]:
    """Yield the URL of an empty database (a SQLite file, or a throwaway PostgreSQL one)."""
    if not postgres:
        yield f"sqlite:///{folder / 'concierge.db'}"
        return
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"concierge_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill(engine: Engine, count: int, prefix: str) -> float:
    """Capture ``count`` leads as the actions do; return the seconds per capture (median)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        crm="webhook",
        crm_webhook_url="http://127.0.0.1:9/unused",
        crm_webhook_secret=SecretStr(SECRET),
    )
    rules = load_scoring_rules(PROJECT_ROOT / "knowledge" / "demo" / "scoring.yml")
    timings = []
    now = datetime.now(UTC)
    for index in range(count):
        details = LeadDetails(
            conversation_id=f"{prefix}-{index}",
            channel="web",
            email=f"{prefix}{index}@example.com",
            name=f"Buyer {index}",
            company="Acme",
            role="Office Manager",
            team_size=40,
            need="coffee for the office",
            consents=(ConsentAnswer("contact", True, "May our sales team contact you?", now),),
        )
        started = time.perf_counter()
        with session_scope(engine) as session:
            capture_lead(session, details, settings, rules)
        timings.append(time.perf_counter() - started)
    with session_scope(engine) as session:
        owed = int(session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)
    if owed != count:
        raise SystemExit(f"expected {count} outbox entries, found {owed}")
    return statistics.median(timings)


def worker_env(url: str, receiver: WebhookReceiver, data_dir: Path) -> dict[str, str]:
    """Environment of the worker process: the webhook CRM and short retry settings."""
    return {
        **os.environ,
        "CONCIERGE_DATA_DIR": str(data_dir),
        "CONCIERGE_DATABASE_URL": url,
        "CONCIERGE_CRM": "webhook",
        "CONCIERGE_CRM_WEBHOOK_URL": receiver.url + "/leads",
        "CONCIERGE_CRM_WEBHOOK_SECRET": SECRET,
        "CONCIERGE_CRM_TIMEOUT_SECONDS": "0.5",
        "CONCIERGE_OUTBOX_BACKOFF_BASE_SECONDS": "0.05",
        "CONCIERGE_OUTBOX_BACKOFF_CAP_SECONDS": "0.5",
        "CONCIERGE_OUTBOX_LEASE_SECONDS": "2",
        "CONCIERGE_OUTBOX_MAX_ATTEMPTS": "60",
        "CONCIERGE_OUTBOX_POLL_SECONDS": "0.1",
        "CONCIERGE_WORKER_HEALTH_URL": f"http://127.0.0.1:{free_port()}",
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``concierge worker``."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def delivered(engine: Engine) -> int:
    """Return how many outbox entries are delivered."""
    with session_scope(engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.status == "delivered")
            )
            or 0
        )


def wait_for(condition: Callable[[], bool], timeout: float = 900.0) -> None:
    """Poll ``condition`` every 20 ms."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.02)


def throughput(url: str, count: int, folder: Path) -> None:
    """Leads per second of one worker with a receiver that never fails."""
    upgrade(url)
    engine = get_engine(url)
    capture = fill(engine, count, "tp")
    with WebhookReceiver(SECRET).running() as receiver:
        worker = start_worker(worker_env(url, receiver, folder / "data"), folder / "tp.log")
        try:
            wait_for(lambda: receiver.deliveries >= 1)
            first = time.perf_counter()
            wait_for(lambda: delivered(engine) >= count)
            seconds = time.perf_counter() - first
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    rate = (count - 1) / seconds
    print(f"capture_lead median: {capture * 1000:.1f} ms per lead")
    print(
        f"throughput: {count} leads, {seconds:.2f} s after the first delivery, {rate:.0f} leads/s"
    )


def _reached(receiver: WebhookReceiver, deliveries: int) -> bool:
    return receiver.deliveries >= deliveries


def chaos(url: str, count: int, folder: Path) -> None:
    """The chaos run: 30% failures, 5% hangs, two kills; attempts and time to drain."""
    upgrade(url)
    engine = get_engine(url)
    fill(engine, count, "chaos")
    log = folder / "chaos.log"
    with WebhookReceiver(SECRET).running() as receiver:
        receiver.set_chaos(Chaos(rate=0.30, hang_rate=0.05, hang_seconds=1.0, seed=11))
        env = worker_env(url, receiver, folder / "data")
        started = time.perf_counter()
        for threshold in (count // 5, count * 11 // 20):
            worker = start_worker(env, log)
            try:
                wait_for(functools.partial(_reached, receiver, threshold))
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=30)
        worker = start_worker(env, log)
        try:
            wait_for(lambda: delivered(engine) >= count)
            drained = time.perf_counter() - started
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        calls = len(receiver.calls)
        records = len(receiver.records)
        lead_ids = {r["event"]["lead"]["id"] for r in receiver.records.values()}
    with session_scope(engine) as session:
        attempts = int(session.scalar(select(func.count()).select_from(DeliveryAttempt)) or 0)
        claims = int(session.scalar(select(func.sum(OutboxEntry.attempts))) or 0)
    print(
        f"chaos: {count} leads, 2 kills; time to drain {drained:.1f} s; "
        f"claims {claims} ({claims / count:.2f} per lead), settled attempts {attempts}, "
        f"receiver calls {calls}; records {records}, distinct leads {len(lead_ids)}, "
        f"duplicates {records - len(lead_ids)}, lost {count - len(lead_ids)}"
    )


def main() -> int:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="use the local PostgreSQL")
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--chaos-leads", type=int, default=200)
    args = parser.parse_args()
    # A stop (SIGTERM) unwinds like Ctrl-C: workers stopped, throwaway databases dropped.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="concierge-leads-") as name:
        folder = Path(name)
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
        (folder / "tp").mkdir()
        (folder / "chaos").mkdir()
        with database(args.postgres, folder / "tp") as url:
            throughput(url, args.leads, folder / "tp")
        with database(args.postgres, folder / "chaos") as url:
            chaos(url, args.chaos_leads, folder / "chaos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
