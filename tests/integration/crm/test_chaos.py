"""Chaos: 200 leads through a receiver that fails 30% of calls and hangs on some, with the
real ``concierge worker`` process killed (SIGKILL) and restarted twice. Every lead must end
as exactly one record: none lost, none duplicated. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select

from core.config import PROJECT_ROOT, Settings
from core.storage import session_scope
from core.storage.leads import LeadDetails, capture_lead
from core.storage.models import OutboxEntry
from tests.integration.crm.conftest import RULES, details
from tests.support.crm_standins import Chaos, WebhookReceiver
from tests.support.stack import free_port

LEADS = 200
SECRET = "chaos-secret"


def _env(engine: Engine, receiver: WebhookReceiver, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CONCIERGE_DATA_DIR": str(data_dir),
        "CONCIERGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CONCIERGE_CRM": "webhook",
        "CONCIERGE_CRM_WEBHOOK_URL": receiver.url + "/leads",
        "CONCIERGE_CRM_WEBHOOK_SECRET": SECRET,
        "CONCIERGE_CRM_TIMEOUT_SECONDS": "0.5",
        "CONCIERGE_OUTBOX_BACKOFF_BASE_SECONDS": "0.05",
        "CONCIERGE_OUTBOX_BACKOFF_CAP_SECONDS": "0.5",
        "CONCIERGE_OUTBOX_LEASE_SECONDS": "2",
        "CONCIERGE_OUTBOX_MAX_ATTEMPTS": "60",
        "CONCIERGE_OUTBOX_POLL_SECONDS": "0.1",
        "CONCIERGE_OUTBOX_BATCH_SIZE": "10",
        "CONCIERGE_WORKER_HEALTH_URL": f"http://127.0.0.1:{free_port()}",
    }


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--log-level", "INFO", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _status_counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
        ).all()
    return {str(status): int(count) for status, count in rows}


def test_no_lead_is_lost_or_duplicated_when_the_crm_and_the_worker_fail(  # type: ignore[no-untyped-def]
    engine: Engine, tmp_path: Path
) -> None:
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        crm="webhook",
        crm_webhook_url="http://127.0.0.1:9/unused",
        crm_webhook_secret=SECRET,
    )
    for index in range(LEADS):
        lead: LeadDetails = details(index)
        with session_scope(engine) as session:
            capture_lead(session, lead, config, RULES)
    log = tmp_path / "worker.log"
    with WebhookReceiver(SECRET).running() as receiver:
        receiver.set_chaos(Chaos(rate=0.30, hang_rate=0.05, hang_seconds=1.0, seed=11))
        env = _env(engine, receiver, tmp_path / "data")
        kills = 0
        for threshold in (40, 110):
            worker = _start(env, log)
            _wait_for(lambda t=threshold: receiver.deliveries >= t, f"{threshold} deliveries")
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            kills += 1
        worker = _start(env, log)
        try:
            _wait_for(lambda: _status_counts(engine) == {"delivered": LEADS}, "every delivery")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        assert worker.returncode == 0, log.read_text()[-3000:]
    assert kills == 2
    # Exactly one record per lead in the "CRM"; repeats were dropped by their idempotency key.
    lead_ids = [record["event"]["lead"]["id"] for record in receiver.records.values()]
    assert len(receiver.records) == LEADS
    assert len(set(lead_ids)) == LEADS
    emails = {record["event"]["lead"]["email"] for record in receiver.records.values()}
    assert emails == {f"buyer{index}@example.com" for index in range(LEADS)}
    assert receiver.rejected == 0
    # The chaos was real: failed calls were retried.
    assert len(receiver.calls) > LEADS
    with session_scope(engine) as session:
        stored_ids = set(session.scalars(select(OutboxEntry.crm_id)))
    assert stored_ids == {record["id"] for record in receiver.records.values()}
