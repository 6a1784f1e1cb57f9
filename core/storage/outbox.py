"""The transactional outbox: deliveries owed to outside systems, claimed and settled by workers.

An entry is written in the lead's own transaction (:func:`enqueue`), so a lead is never
stored without its delivery nor delivered without being stored. Workers :func:`claim`
entries with a lease: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on every engine a
conditional update (compare and set on the status and lease) that only one claimant can
win. A worker killed mid-delivery leaves its claims to expire; they are then claimed again.
A success or failure counts only for the claim that made it (its ``claim_token``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from core.storage.models import DeliveryAttempt, OutboxEntry, utcnow

PENDING = "pending"
IN_FLIGHT = "in_flight"
DELIVERED = "delivered"
DEAD = "dead"


@dataclass(frozen=True)
class ClaimedEntry:
    """An outbox entry one worker holds until its lease ends."""

    id: str
    lead_id: str
    kind: str
    revision: int
    attempts: int
    """Attempts so far, this one included."""
    claim_token: str = field(repr=False)
    progress: dict[str, Any]

    @property
    def idempotency_key(self) -> str:
        """The key the outside system deduplicates this delivery by (one per lead and change)."""
        return f"lead-{self.lead_id}-{self.kind.replace(':', '-')}-r{self.revision}"

    @property
    def target(self) -> str:
        """The adapter or channel name: ``hubspot`` of ``crm:hubspot``."""
        return self.kind.split(":", 1)[1]


def enqueue(session: Session, lead_id: str, kind: str, *, again: bool = True) -> bool:
    """Owe a delivery of ``kind`` for the lead; return whether an entry was written or re-armed.

    An entry per lead and kind: a pending one already covers the change (deliveries read the
    lead when they run); one in flight gets a new revision so that it is delivered again
    after; a delivered or dead one is re-armed when ``again`` (a notification is not).
    """
    entry = session.scalar(
        select(OutboxEntry)
        .where(OutboxEntry.lead_id == lead_id, OutboxEntry.kind == kind)
        .with_for_update()
    )
    now = utcnow()
    if entry is None:
        session.add(OutboxEntry(lead_id=lead_id, kind=kind, next_attempt_at=now, progress={}))
        session.flush()
        return True
    if entry.status == PENDING:
        return False
    if not again:
        return False
    entry.revision += 1
    entry.updated_at = now
    if entry.status != IN_FLIGHT:
        entry.status = PENDING
        entry.attempts = 0
        entry.next_attempt_at = now
        entry.last_error = None
    session.flush()
    return True


def _claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxEntry.status == PENDING, OutboxEntry.next_attempt_at <= now),
        and_(OutboxEntry.status == IN_FLIGHT, OutboxEntry.lease_until < now),
    )


def claim(
    session: Session, *, limit: int, lease_seconds: float, now: datetime | None = None
) -> list[ClaimedEntry]:
    """Claim up to ``limit`` due entries for ``lease_seconds`` (commit right after)."""
    now = now or utcnow()
    query = (
        select(OutboxEntry.id)
        .where(_claimable(now))
        .order_by(OutboxEntry.next_attempt_at, OutboxEntry.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = list(session.scalars(query))
    claimed: list[ClaimedEntry] = []
    lease_until = now + timedelta(seconds=lease_seconds)
    for entry_id in candidates:
        token = secrets.token_hex(16)
        result = session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == entry_id, _claimable(now))
            .values(
                status=IN_FLIGHT,
                claim_token=token,
                lease_until=lease_until,
                attempts=OutboxEntry.attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another worker won it
        row = session.execute(
            select(
                OutboxEntry.lead_id,
                OutboxEntry.kind,
                OutboxEntry.revision,
                OutboxEntry.attempts,
                OutboxEntry.progress,
            ).where(OutboxEntry.id == entry_id)
        ).one()
        claimed.append(
            ClaimedEntry(
                id=entry_id,
                lead_id=row.lead_id,
                kind=row.kind,
                revision=row.revision,
                attempts=row.attempts,
                claim_token=token,
                progress=dict(row.progress or {}),
            )
        )
    return claimed


def _ours(entry: ClaimedEntry) -> Any:
    return and_(
        OutboxEntry.id == entry.id,
        OutboxEntry.claim_token == entry.claim_token,
        OutboxEntry.status == IN_FLIGHT,
    )


def _attempt(
    session: Session,
    entry: ClaimedEntry,
    outcome: str,
    started_at: datetime,
    status_code: int | None = None,
    error: str | None = None,
) -> None:
    session.add(
        DeliveryAttempt(
            entry_id=entry.id,
            number=entry.attempts,
            outcome=outcome,
            status_code=status_code,
            error=error,
            started_at=started_at,
            finished_at=utcnow(),
        )
    )


def save_progress(session: Session, entry: ClaimedEntry, progress: dict[str, Any]) -> bool:
    """Record steps done in the outside system (ids); False when the claim was lost."""
    result = session.execute(
        update(OutboxEntry)
        .where(_ours(entry))
        .values(progress=progress, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record_success(
    session: Session, entry: ClaimedEntry, crm_id: str | None, started_at: datetime
) -> str:
    """Settle a delivery: ``delivered``, ``pending`` (the lead changed meanwhile) or ``lost``."""
    now = utcnow()
    _attempt(session, entry, DELIVERED, started_at)
    done = session.execute(
        update(OutboxEntry)
        .where(_ours(entry), OutboxEntry.revision == entry.revision)
        .values(
            status=DELIVERED,
            crm_id=crm_id,
            delivered_at=now,
            last_error=None,
            claim_token=None,
            lease_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount == 1:  # type: ignore[attr-defined]
        return DELIVERED
    again = session.execute(
        update(OutboxEntry)
        .where(_ours(entry))
        .values(
            status=PENDING,
            crm_id=crm_id,
            attempts=0,
            next_attempt_at=now,
            claim_token=None,
            lease_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return PENDING if again.rowcount == 1 else "lost"  # type: ignore[attr-defined]


def record_failure(
    session: Session,
    entry: ClaimedEntry,
    *,
    error: str,
    started_at: datetime,
    retry_at: datetime | None,
    status_code: int | None = None,
) -> str:
    """Settle a failed attempt: ``pending`` until ``retry_at``, or ``dead`` when it is None."""
    now = utcnow()
    status = PENDING if retry_at is not None else DEAD
    _attempt(
        session, entry, "retry" if retry_at is not None else DEAD, started_at, status_code, error
    )
    values: dict[str, Any] = {
        "status": status,
        "last_error": error[:2000],
        "claim_token": None,
        "lease_until": None,
        "updated_at": now,
    }
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    done = session.execute(
        update(OutboxEntry)
        .where(_ours(entry))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return status if done.rowcount == 1 else "lost"  # type: ignore[attr-defined]


def retry_dead(session: Session, lead_id: str) -> int:
    """Re-arm the lead's dead (or failing) entries for an immediate attempt; return how many."""
    now = utcnow()
    result = session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.lead_id == lead_id,
            or_(OutboxEntry.status == DEAD, OutboxEntry.status == PENDING),
        )
        .values(status=PENDING, attempts=0, next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def entries_for_leads(session: Session, lead_ids: Sequence[str]) -> list[OutboxEntry]:
    """Return the outbox entries of the leads, in the order they were written."""
    if not lead_ids:
        return []
    return list(
        session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.lead_id.in_(lead_ids))
            .order_by(OutboxEntry.created_at, OutboxEntry.kind)
        )
    )


def counts_by_status(session: Session) -> dict[str, int]:
    """Return how many entries are in each status (for the worker's log and the benchmark)."""
    rows = session.execute(
        select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
    ).all()
    return {str(status): int(count) for status, count in rows}
