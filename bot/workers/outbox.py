"""The ``concierge worker`` process: deliver the outbox to the CRM and the rep notifiers.

Each round claims a batch of due entries (a lease, so a killed worker's claims are retried
once it expires), delivers them one by one and settles each: delivered; retried after an
exponential backoff with jitter (or the ``Retry-After`` the service asked for); or sent to
the dead letters after ``CONCIERGE_OUTBOX_MAX_ATTEMPTS`` or at once for an answer that
cannot succeed (a 400, a 401). Several workers may run side by side.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import signal
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from bot.crm.base import Delivery, DeliveryError, DeliveryTarget
from core.config import Settings
from core.logging import sender_ref
from core.storage import get_engine, session_scope
from core.storage.leads import lead_record
from core.storage.migrate import schema_problem
from core.storage.models import utcnow
from core.storage.outbox import (
    DELIVERED,
    ClaimedEntry,
    claim,
    counts_by_status,
    record_failure,
    record_success,
    save_progress,
)
from core.storage.privacy import withheld_by_consent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again: ``base * 2**(n-1)`` seconds capped at ``cap``, with jitter."""

    max_attempts: int = 10
    base_seconds: float = 2.0
    cap_seconds: float = 900.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Return the wait after failed attempt number ``attempt`` (1-based).

        The backoff is drawn from its upper half (``[d/2, d]``, "equal jitter") so retries
        of many leads spread out and never come back at once; a service's ``Retry-After``
        is the wait when it gave one.
        """
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def gives_up(self, attempt: int) -> bool:
        """Whether attempt number ``attempt`` was the last one allowed."""
        return attempt >= self.max_attempts


class OutboxWorker:
    """Claims, delivers and settles outbox entries."""

    def __init__(
        self,
        engine: Engine,
        targets: Mapping[str, DeliveryTarget],
        policy: RetryPolicy,
        *,
        batch_size: int = 20,
        lease_seconds: float = 60.0,
        concurrency: int = 1,
    ) -> None:
        """Deliver with ``targets`` (by outbox kind: ``crm:webhook``, ``notify:email``).

        ``concurrency`` deliveries of a batch run at once (threads: the time goes in waiting
        for the outside systems).
        """
        self.engine = engine
        self.targets = dict(targets)
        self.policy = policy
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.concurrency = max(1, concurrency)
        self.settled: dict[str, int] = {}
        self._lock = threading.Lock()

    def _settle_counted(self, entry: ClaimedEntry) -> None:
        outcome = self._settle(entry)
        with self._lock:
            self.settled[outcome] = self.settled.get(outcome, 0) + 1

    def run_once(self) -> int:
        """Claim one batch and settle every entry of it; return how many were claimed."""
        with session_scope(self.engine) as session:
            batch = claim(session, limit=self.batch_size, lease_seconds=self.lease_seconds)
        if self.concurrency == 1 or len(batch) <= 1:
            for entry in batch:
                self._settle_counted(entry)
            return len(batch)
        workers = min(self.concurrency, len(batch))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
            for done in [pool.submit(self._settle_counted, entry) for entry in batch]:
                done.result()  # _settle handles delivery errors; a database error surfaces
        return len(batch)

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Work until ``stop`` is set, sleeping ``poll_seconds`` when nothing is due."""
        logger.info("outbox.worker.started targets=%s", ",".join(sorted(self.targets)))
        while not stop.is_set():
            try:
                claimed = self.run_once()
            except Exception:  # the database is away: log, wait, try again
                logger.exception("outbox.worker.round_failed")
                claimed = 0
            if claimed == 0:
                stop.wait(poll_seconds)
        logger.info("outbox.worker.stopped settled=%s", self.settled)

    def drain(self, poll_seconds: float = 0.2, timeout: float | None = None) -> dict[str, int]:
        """Work until no entry is pending or in flight (dead letters stay); return counts."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.run_once():
                continue
            with session_scope(self.engine) as session:
                counts = counts_by_status(session)
            if not counts.get("pending") and not counts.get("in_flight"):
                return counts
            if deadline is not None and time.monotonic() > deadline:
                return counts
            time.sleep(poll_seconds)

    def _save(self, entry: ClaimedEntry) -> Any:
        def save(progress: dict[str, Any]) -> None:
            with session_scope(self.engine) as session:
                save_progress(session, entry, progress)

        return save

    def _settle(self, entry: ClaimedEntry) -> str:
        started = utcnow()
        ref = sender_ref(entry.lead_id)
        target = self.targets.get(entry.kind)
        if entry.attempts > self.policy.max_attempts:
            return self._fail(
                entry, started, f"gave up after {entry.attempts - 1} attempts (lease expired)"
            )
        if target is None:
            return self._fail(entry, started, f"{entry.kind} is not configured in this worker")
        with session_scope(self.engine) as session:
            lead = lead_record(session, entry.lead_id)
        if lead is None:
            return self._fail(entry, started, "the lead no longer exists")
        # Consent: nothing new goes out for a lead whose latest answer refuses contact.
        sent = next((d for d in lead.deliveries if d.kind == entry.kind), None)
        withheld = withheld_by_consent(
            entry.kind,
            contactable=lead.contactable,
            crm_id=sent.crm_id if sent else None,
            progress=entry.progress,
        )
        if withheld:
            return self._fail(entry, started, withheld)
        delivery = Delivery(
            idempotency_key=entry.idempotency_key,
            attempt=entry.attempts,
            progress=dict(entry.progress),
            save_progress=self._save(entry),
        )
        try:
            result = target.deliver(lead, delivery)
        except DeliveryError as error:
            if not error.retryable:
                return self._fail(entry, started, error.reason, error.status_code)
            if self.policy.gives_up(entry.attempts):
                reason = f"gave up after {entry.attempts} attempts: {error.reason}"
                return self._fail(entry, started, reason, error.status_code)
            wait = self.policy.delay(entry.attempts, error.retry_after)
            with session_scope(self.engine) as session:
                outcome = record_failure(
                    session,
                    entry,
                    error=error.reason,
                    started_at=started,
                    retry_at=started + timedelta(seconds=wait),
                    status_code=error.status_code,
                )
            logger.warning(
                "outbox.delivery.retry kind=%s lead=%s attempt=%d wait=%.1fs status=%s",
                entry.kind, ref, entry.attempts, wait, error.status_code,
            )  # fmt: skip
            return outcome
        except Exception as error:  # a bug in a target: keep the lead, retry, tell the operator
            logger.exception("outbox.delivery.crashed kind=%s lead=%s", entry.kind, ref)
            reason = f"unexpected {type(error).__name__} in the {entry.kind} target"
            if self.policy.gives_up(entry.attempts):
                return self._fail(entry, started, reason)
            with session_scope(self.engine) as session:
                return record_failure(
                    session,
                    entry,
                    error=reason,
                    started_at=started,
                    retry_at=started + timedelta(seconds=self.policy.delay(entry.attempts)),
                )
        with session_scope(self.engine) as session:
            outcome = record_success(session, entry, result.crm_id, started)
        logger.info(
            "outbox.delivery.%s kind=%s lead=%s attempt=%d",
            "done" if outcome == DELIVERED else outcome, entry.kind, ref, entry.attempts,
        )  # fmt: skip
        return outcome

    def _fail(
        self, entry: ClaimedEntry, started: datetime, reason: str, status: int | None = None
    ) -> str:
        with session_scope(self.engine) as session:
            outcome = record_failure(
                session, entry, error=reason, started_at=started, retry_at=None, status_code=status
            )
        logger.error(
            "outbox.delivery.dead kind=%s lead=%s attempt=%d status=%s",
            entry.kind, sender_ref(entry.lead_id), entry.attempts, status,
        )  # fmt: skip
        return outcome


class _HealthHandler(BaseHTTPRequestHandler):
    """``GET /health``: 200 while the worker's loop runs (for the supervisor and probes)."""

    worker: OutboxWorker
    stop: threading.Event

    def do_GET(self) -> None:
        """Answer the health check."""
        if self.path.split("?")[0] != "/health":
            self.send_error(404)
            return
        alive = not self.stop.is_set()
        body = json.dumps({"status": "ok" if alive else "stopping", "settled": self.worker.settled})
        self.send_response(200 if alive else 503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        """Keep probes out of the log."""


def serve_health(
    worker: OutboxWorker, stop: threading.Event, host: str, port: int
) -> ThreadingHTTPServer:
    """Start the health endpoint in a daemon thread and return its server."""
    handler = type("Health", (_HealthHandler,), {"worker": worker, "stop": stop})
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="health").start()
    return server


def build_worker(settings: Settings, client: httpx.Client) -> OutboxWorker:
    """Return the worker of ``settings``: its targets, retry policy, batch and lease."""
    from bot.crm import delivery_targets

    return OutboxWorker(
        get_engine(settings.sqlalchemy_url),
        delivery_targets(settings, client),
        RetryPolicy(
            max_attempts=settings.outbox_max_attempts,
            base_seconds=settings.outbox_backoff_base_seconds,
            cap_seconds=settings.outbox_backoff_cap_seconds,
        ),
        batch_size=settings.outbox_batch_size,
        lease_seconds=settings.outbox_lease_seconds,
        concurrency=settings.outbox_concurrency,
    )


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Run the delivery worker until stopped (or, with ``--drain``, until nothing is due)."""
    problem = schema_problem(get_engine(settings.sqlalchemy_url))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("outbox.worker.signal %s", signal.Signals(signum).name)
        stop.set()

    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _stop)
    # The event feed: Rasa's published events into app_events (bot/workers/events.py).
    from bot.workers.events import build_feed, start_feed

    feed = build_feed(settings)
    with httpx.Client(timeout=settings.crm_timeout_seconds) as client:
        worker = build_worker(settings, client)
        if args.drain:
            feed.drain()
            counts = worker.drain(poll_seconds=min(settings.outbox_poll_seconds, 0.5))
            print(json.dumps(counts, sort_keys=True), flush=True)
            return 0
        start_feed(feed, stop, settings.events_poll_seconds)
        parts = urlsplit(settings.worker_health_url)
        server = serve_health(worker, stop, parts.hostname or "127.0.0.1", parts.port or 8001)
        from bot.workers.knowledge import start_knowledge_jobs

        start_knowledge_jobs(settings, stop)  # knowledge-base jobs the gateway did not run
        try:
            worker.run(stop, poll_seconds=settings.outbox_poll_seconds)
        finally:
            server.shutdown()
    return 0


def register(commands: Any) -> None:
    """Add ``concierge worker`` to the command's subparsers."""
    worker = commands.add_parser("worker", help="deliver leads to the CRM and notify reps")
    worker.add_argument(
        "--drain", action="store_true", help="deliver what is due, wait for retries, then exit"
    )
    worker.set_defaults(handler=_cmd_worker)
