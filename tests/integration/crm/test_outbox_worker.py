"""The outbox worker on SQLite and PostgreSQL: delivery, backoff, Retry-After, dead letters."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.crm.builtin import BuiltinCRM
from bot.crm.webhook import WebhookCRM
from bot.notify.telegram import TelegramNotifier
from bot.workers.outbox import OutboxWorker, RetryPolicy
from core.config import Settings
from core.storage import session_scope
from core.storage.leads import lead_record
from core.storage.models import DeliveryAttempt, OutboxEntry, as_utc
from core.storage.outbox import claim
from tests.support.crm_standins import Failure, TelegramStandIn, WebhookReceiver

BASE = "https://chat.example.com"


def webhook_settings(url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        crm="webhook",
        crm_webhook_url=url,
        crm_webhook_secret="s3cret",
    )


def worker(engine, receiver, client, **policy: object) -> OutboxWorker:  # type: ignore[no-untyped-def]
    defaults: dict[str, object] = {"max_attempts": 4, "base_seconds": 0.01, "cap_seconds": 0.05}
    defaults.update(policy)
    return OutboxWorker(
        engine,
        {"crm:webhook": WebhookCRM(receiver.url, "s3cret", client, BASE)},
        RetryPolicy(rng=random.Random(1), **defaults),  # type: ignore[arg-type]
        lease_seconds=30,
    )


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    with httpx.Client(timeout=1.0) as http:
        yield http


def entry_of(engine, lead_id: str) -> OutboxEntry:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.lead_id == lead_id))
        assert entry is not None
        session.expunge(entry)
        return entry


def test_a_lead_is_delivered_once_with_its_crm_id(engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    with WebhookReceiver("s3cret").running() as receiver:
        lead = capture(engine, webhook_settings(receiver.url))
        counts = worker(engine, receiver, client).drain(poll_seconds=0.01, timeout=30)
    assert counts == {"delivered": 1}
    entry = entry_of(engine, lead.id)
    assert (entry.status, entry.attempts, entry.crm_id, entry.last_error) == (
        "delivered",
        1,
        "rec-1",
        None,
    )
    (key,) = receiver.records
    assert key == f"lead-{lead.id}-crm-webhook-r1"


def test_failures_are_retried_with_backoff_until_delivered(engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    with WebhookReceiver("s3cret").running() as receiver:
        lead = capture(engine, webhook_settings(receiver.url))
        receiver.fail_next(
            Failure(status=500), Failure(hang=1.5), Failure(status=502, after_write=True)
        )
        counts = worker(engine, receiver, client).drain(poll_seconds=0.01, timeout=60)
    assert counts == {"delivered": 1}
    assert len(receiver.records) == 1, "the lost answer's retry carried the same key"
    with session_scope(engine) as session:
        attempts = list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.number)))
    assert [(a.number, a.outcome, a.status_code) for a in attempts] == [
        (1, "retry", 500),
        (2, "retry", None),
        (3, "retry", 502),
        (4, "delivered", None),
    ]
    assert "in time" in (attempts[1].error or "")
    assert entry_of(engine, lead.id).attempts == 4


def test_retry_after_sets_the_next_attempt(engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    with WebhookReceiver("s3cret").running() as receiver:
        lead = capture(engine, webhook_settings(receiver.url))
        receiver.fail_next(Failure(status=429, headers={"Retry-After": "120"}))
        before = datetime.now(UTC)
        assert worker(engine, receiver, client).run_once() == 1
        entry = entry_of(engine, lead.id)
        assert entry.status == "pending" and "429" in (entry.last_error or "")
        assert as_utc(entry.next_attempt_at) >= before + timedelta(seconds=120)
        # Not due yet: nothing to claim.
        assert worker(engine, receiver, client).run_once() == 0


def test_a_request_that_cannot_succeed_is_dead_at_once_and_retry_revives_it(  # type: ignore[no-untyped-def]
    engine, capture, client, monkeypatch, capsys
) -> None:
    with WebhookReceiver("s3cret").running() as receiver:
        lead = capture(engine, webhook_settings(receiver.url))
        receiver.fail_next(Failure(status=422, body={"error": "company is required"}))
        counts = worker(engine, receiver, client).drain(poll_seconds=0.01, timeout=30)
        assert counts == {"dead": 1}
        entry = entry_of(engine, lead.id)
        assert entry.attempts == 1
        assert "422" in (entry.last_error or "") and "company is required" in (
            entry.last_error or ""
        )

        monkeypatch.setenv(
            "CONCIERGE_DATABASE_URL", engine.url.render_as_string(hide_password=False)
        )
        assert main(["leads", "list", "--json"]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert listed["deliveries"] == [
            {
                "adapter": "crm:webhook",
                "status": "dead",
                "attempts": 1,
                "crm_id": None,
                "last_error": entry.last_error,
            }
        ]
        assert main(["leads", "retry", lead.id]) == 0
        assert "1 delivery" in capsys.readouterr().out
        assert worker(engine, receiver, client).drain(poll_seconds=0.01, timeout=30) == {
            "delivered": 1
        }


def test_an_outage_ends_in_the_dead_letters_after_the_configured_attempts(
    engine, capture, client
) -> None:  # type: ignore[no-untyped-def]
    with WebhookReceiver("s3cret").running() as receiver:
        lead = capture(engine, webhook_settings(receiver.url))
        receiver.fail_next(*[Failure(status=503) for _ in range(3)])
        counts = worker(engine, receiver, client, max_attempts=3).drain(
            poll_seconds=0.01, timeout=30
        )
    assert counts == {"dead": 1}
    entry = entry_of(engine, lead.id)
    assert entry.attempts == 3
    assert (entry.last_error or "").startswith("gave up after 3 attempts: the webhook answered 503")


def test_a_killed_workers_claim_is_delivered_after_its_lease(engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    with WebhookReceiver("s3cret").running() as receiver:
        lead = capture(engine, webhook_settings(receiver.url))
        with session_scope(engine) as session:
            (abandoned,) = claim(session, limit=5, lease_seconds=0.2)  # then the worker "dies"
        alive = worker(engine, receiver, client)
        assert alive.run_once() == 0, "the claim still holds"
        time.sleep(0.3)
        assert alive.drain(poll_seconds=0.01, timeout=30) == {"delivered": 1}
    entry = entry_of(engine, lead.id)
    assert entry.id == abandoned.id and entry.attempts == 2


def test_a_hot_lead_notifies_the_sales_chat(engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        notify_channels="telegram",
        notify_telegram_bot_token="123:ABC",
        notify_telegram_chat_id="-1001",
    )
    with TelegramStandIn("123:ABC").running() as telegram:
        lead = capture(engine, config)
        assert lead.grade == "hot"
        targets = {
            "crm:builtin": BuiltinCRM(),
            "notify:telegram": TelegramNotifier(
                "123:ABC", "-1001", client, BASE, api_url=telegram.url
            ),
        }
        telegram.fail_next(Failure(status=429))  # retry_after 3 s in the body
        policy = RetryPolicy(max_attempts=3, base_seconds=0.01, cap_seconds=0.05)
        run = OutboxWorker(engine, targets, policy, lease_seconds=30)
        run.run_once()
        with session_scope(engine) as session:
            record = lead_record(session, lead.id)
        assert record is not None
        by_kind = {d.kind: d for d in record.deliveries}
        assert by_kind["crm:builtin"].status == "delivered"
        assert by_kind["crm:builtin"].crm_id == lead.id
        waiting = by_kind["notify:telegram"]
        assert waiting.status == "pending" and "Too Many Requests" in (waiting.last_error or "")
        assert waiting.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=2)
        with session_scope(engine) as session:
            session.execute(
                OutboxEntry.__table__.update().values(next_attempt_at=datetime.now(UTC))
            )
        assert run.drain(poll_seconds=0.01, timeout=30) == {"delivered": 2}
    (message,) = telegram.messages
    assert "HOT lead: Dana Buyer1" in message["text"]


def test_concurrent_deliveries_settle_each_lead_once(engine, capture, client) -> None:  # type: ignore[no-untyped-def]
    with WebhookReceiver("s3cret").running() as receiver:
        config = webhook_settings(receiver.url)
        leads = [capture(engine, config, index) for index in range(12)]
        receiver.fail_next(Failure(status=503), Failure(status=500, after_write=True))
        run = OutboxWorker(
            engine,
            {"crm:webhook": WebhookCRM(receiver.url, "s3cret", client, BASE)},
            RetryPolicy(max_attempts=4, base_seconds=0.01, cap_seconds=0.05),
            batch_size=12,
            lease_seconds=30,
            concurrency=4,
        )
        assert run.drain(poll_seconds=0.01, timeout=60) == {"delivered": 12}
    assert len(receiver.records) == 12
    assert {r["event"]["lead"]["id"] for r in receiver.records.values()} == {
        lead.id for lead in leads
    }
    assert run.settled["delivered"] == 12 and run.settled["pending"] == 2
