"""Data rights: export everything held about a person as JSON, or erase it everywhere.

:func:`export_subject` returns what :mod:`bot.services.privacy_stores` finds as one JSON
document (docs/privacy.md describes the format). :func:`erase_subject` deletes it (quotes are
kept for the revenue figures, stripped of their conversation and lead, their page token
replaced), one transaction per database, asks each CRM the lead was delivered to to delete
its records, and writes a ``privacy_requests`` row with the counts per store and a keyed
hash of the email, never the email. A CRM call that fails is reported, recorded as owed, and
retried by the next erasure of the same person.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx
from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from bot.crm.base import DeliveryError
from bot.crm.erasure import CRMRecord, ErasableCRM
from bot.services.privacy_stores import (
    APP,
    BROKER,
    ERASE_ORDER,
    ERASED_MARK,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    TRACKER,
    PrivacyError,
    PrivacyStores,
    Schema,
    Subject,
    app_selectors,
    check_email,
    collect,
    connect,
    crm_records,
    event_selector,
    not_reached,
    plain,
    plain_row,
    row_counts,
    stores_for,
)
from core.config import Settings
from core.logging import load_pseudonym_key
from core.storage import get_engine
from core.storage.models import utcnow
from core.storage.privacy import DONE, ERASE, EXPORT, PARTIAL, PrivacyRequest, subject_ref

__all__ = [
    "CRMOutcome",
    "ErasureReport",
    "PrivacyError",
    "PrivacyStores",
    "crm_factory",
    "erase_subject",
    "export_subject",
    "preview_erasure",
    "stores_for",
    "subject_key",
]

logger = logging.getLogger(__name__)


def _contact(app: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    contacts = app.get("contacts") or []
    return contacts[0] if contacts else None


def _requests(session_url: str, ref: str) -> list[dict[str, Any]]:
    with get_engine(session_url).connect() as connection:
        schema = Schema(connection)
        table = schema.get("privacy_requests")
        if table is None:
            return []
        query = (
            select(table.c.kind, table.c.status, table.c.created_at, table.c.counts)
            .where(table.c.subject_ref == ref)
            .order_by(table.c.created_at)
        )
        return [plain_row(row) for row in connection.execute(query).mappings()]


def _record(
    connection: Connection,
    *,
    kind: str,
    ref: str,
    requested_by: str,
    counts: dict[str, Any],
    status: str,
) -> str:
    request_id = secrets.token_hex(16)
    now = utcnow()
    connection.execute(
        PrivacyRequest.__table__.insert().values(  # type: ignore[attr-defined]
            id=request_id,
            kind=kind,
            subject_ref=ref,
            requested_by=requested_by,
            counts=counts,
            status=status,
            created_at=now,
            completed_at=now,
        )
    )
    return request_id


def export_subject(
    stores: PrivacyStores, key: bytes, email: str, *, requested_by: str
) -> dict[str, Any]:
    """Return everything held about the person of ``email`` as one JSON-ready document.

    The export is recorded in ``privacy_requests`` (counts only).
    """
    normalized = check_email(email)
    ref = subject_ref(key, normalized)
    try:
        collected = collect(stores, normalized)
        earlier = _requests(stores.app_url, ref)
        counts = row_counts(collected)
        with get_engine(stores.app_url).begin() as connection:
            _record(
                connection, kind=EXPORT, ref=ref, requested_by=requested_by,
                counts=counts, status=DONE,
            )  # fmt: skip
    except SQLAlchemyError as error:
        logger.error("privacy.export.failed error=%s", type(error).__name__)
        raise PrivacyError(f"a database could not be read ({type(error).__name__})") from error
    app = collected.app
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": plain(utcnow()),
        "subject": {"email": normalized},
        "found": collected.subject.found,
        "contact": _contact(app),
        "conversations": sorted(collected.subject.conversations),
        "leads": app.get("leads", []),
        "consents": app.get("consents", []),
        "quotes": app.get("quotes", []),
        "feedback": app.get("kb_feedback", []),
        "crm_deliveries": [
            {
                **entry,
                "attempts_made": [
                    a for a in app.get("delivery_attempts", []) if a.get("entry_id") == entry["id"]
                ],
            }
            for entry in app.get("outbox", [])
        ],
        "stores": {
            APP: app,
            TRACKER: {"events": collected.tracker} if collected.tracker is not None else None,
            BROKER: {"events": collected.broker} if collected.broker is not None else None,
        },
        "privacy_requests": earlier,
    }
    logger.info(
        "privacy.export.done found=%s conversations=%d",
        collected.subject.found,
        len(collected.subject.conversations),
    )
    return document


@dataclass(frozen=True)
class CRMOutcome:
    """What one CRM said to an erasure."""

    target: str
    lead_id: str
    status: str
    """``erased``, ``not_found`` or ``failed``."""
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the outcome as plain JSON (no personal data: ids and CRM error summaries)."""
        return {
            "target": self.target,
            "lead_id": self.lead_id,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did: rows per store, CRM outcomes, and the record of it."""

    request_id: str
    status: str
    counts: dict[str, Any]
    crm: tuple[CRMOutcome, ...]

    @property
    def crm_failed(self) -> bool:
        """Whether some CRM still holds the person (run the erasure again later)."""
        return any(outcome.status == "failed" for outcome in self.crm)

    def to_json(self) -> dict[str, Any]:
        """Return the report as plain JSON."""
        return {
            "request_id": self.request_id,
            "status": self.status,
            "counts": {k: v for k, v in self.counts.items() if k != "crm_pending"},
            "crm": [outcome.to_json() for outcome in self.crm],
        }


def preview_erasure(stores: PrivacyStores, email: str) -> dict[str, Any]:
    """Return the rows an erasure of ``email`` would remove, per store (nothing is changed)."""
    normalized = check_email(email)
    try:
        collected = collect(stores, normalized)
    except SQLAlchemyError as error:
        raise PrivacyError(f"a database could not be read ({type(error).__name__})") from error
    return {
        "found": collected.subject.found,
        "conversations": len(collected.subject.conversations),
        "counts": row_counts(collected),
        "crm": [r.target for r in crm_records(collected.app.get("outbox", []))],
        "not_reached": not_reached(stores),
    }


CRMFactory = Callable[[str], ErasableCRM | None]
"""Returns the adapter of an outbox kind (``crm:hubspot``), or None if not configured here."""


def _erase_in_crm(
    records: Iterable[CRMRecord], email: str, adapter_for: CRMFactory
) -> list[CRMOutcome]:
    outcomes = []
    for record in records:
        adapter = adapter_for(record.target)
        if adapter is None:
            outcomes.append(
                CRMOutcome(
                    record.target, record.lead_id, "failed", "this CRM is not configured here"
                )
            )
            continue
        try:
            status = adapter.erase(record, email)
        except DeliveryError as error:
            logger.warning(
                "privacy.crm.failed target=%s status=%s retryable=%s",
                record.target, error.status_code, error.retryable,
            )  # fmt: skip
            outcomes.append(CRMOutcome(record.target, record.lead_id, "failed", error.reason))
            continue
        outcomes.append(CRMOutcome(record.target, record.lead_id, status))
    return outcomes


def _owed(app_url: str, ref: str) -> tuple[list[str], list[CRMRecord]]:
    """Return the earlier partial erasures of the subject and the CRM records they still owe."""
    ids: list[str] = []
    records: list[CRMRecord] = []
    with get_engine(app_url).connect() as connection:
        table = Schema(connection).get("privacy_requests")
        if table is None:
            return ids, records
        rows = connection.execute(
            select(table.c.id, table.c.counts).where(
                table.c.subject_ref == ref, table.c.kind == ERASE, table.c.status == PARTIAL
            )
        ).all()
    for row in rows:
        ids.append(str(row.id))
        for item in (row.counts or {}).get("crm_pending") or []:
            records.append(CRMRecord.from_json(item))
    return ids, records


def _delete_events(url: str | None, subject: Subject) -> int | None:
    engine = connect(url)
    if engine is None:
        return None
    with engine.begin() as connection:
        schema = Schema(connection)
        condition = event_selector(schema, subject)
        table = schema.get("events")
        if table is None or condition is None:
            return 0
        return int(connection.execute(table.delete().where(condition)).rowcount)


def _erase_app(connection: Connection, subject: Subject) -> dict[str, int]:
    schema = Schema(connection)
    where = app_selectors(schema, subject)
    counts: dict[str, int] = {}
    quotes = schema.get("quotes")
    if quotes is not None and "quotes" in where:
        kept = list(connection.scalars(select(quotes.c.id).where(where["quotes"])))
        for quote_id in kept:
            connection.execute(
                quotes.update()
                .where(quotes.c.id == quote_id)
                .values(
                    conversation_id=ERASED_MARK,
                    lead_id=None,
                    token=secrets.token_urlsafe(24),
                )
            )
        if kept:
            counts["quotes"] = len(kept)
    # Conditions that select through other tables (attempts through the outbox) must be
    # evaluated before those rows go: take the ids first, then delete by id.
    doomed: dict[str, list[Any]] = {}
    for table_name in ERASE_ORDER:
        table = schema.get(table_name)
        if table is None or table_name not in where:
            continue
        key = next(iter(table.primary_key.columns))
        doomed[table_name] = list(connection.scalars(select(key).where(where[table_name])))
    for table_name in ERASE_ORDER:
        ids = doomed.get(table_name)
        if not ids:
            continue
        table = schema.get(table_name)
        assert table is not None
        key = next(iter(table.primary_key.columns))
        deleted = 0
        for start in range(0, len(ids), 500):
            result = connection.execute(table.delete().where(key.in_(ids[start : start + 500])))
            deleted += int(result.rowcount)
        counts[table_name] = deleted
    return counts


def erase_subject(
    stores: PrivacyStores,
    key: bytes,
    email: str,
    *,
    requested_by: str,
    adapter_for: CRMFactory,
) -> ErasureReport:
    """Erase the person of ``email`` from every store and every CRM; record that it was done.

    Order: read what the CRMs hold (ids from the deliveries), ask each CRM to delete it,
    delete Rasa's events (tracker store, then the broker's table, one transaction each),
    then the application rows and the ``privacy_requests`` record in one transaction.
    """
    normalized = check_email(email)
    ref = subject_ref(key, normalized)
    try:
        collected = collect(stores, normalized)
        earlier, owed = _owed(stores.app_url, ref)
    except SQLAlchemyError as error:
        logger.error("privacy.erase.read_failed error=%s", type(error).__name__)
        raise PrivacyError(f"a database could not be read ({type(error).__name__})") from error
    subject = collected.subject
    records = crm_records(collected.app.get("outbox", []))
    seen = {(r.target, r.lead_id) for r in records}
    records += [r for r in owed if (r.target, r.lead_id) not in seen]
    outcomes = _erase_in_crm(records, normalized, adapter_for)
    failed = {(o.target, o.lead_id) for o in outcomes if o.status == "failed"}
    pending = [r.to_json() for r in records if (r.target, r.lead_id) in failed]
    counts: dict[str, Any] = {"not_reached": not_reached(stores)}
    try:
        tracker = _delete_events(stores.tracker_url, subject)
        if tracker is not None:
            counts[TRACKER] = {"events": tracker}
        broker = _delete_events(stores.broker_url, subject)
        if broker is not None:
            counts[BROKER] = {"events": broker}
        status = PARTIAL if pending else DONE
        with get_engine(stores.app_url).begin() as connection:
            counts[APP] = _erase_app(connection, subject)
            counts["conversations"] = len(subject.conversations)
            counts["crm"] = [outcome.to_json() for outcome in outcomes]
            if pending:
                counts["crm_pending"] = pending
            request_id = _record(
                connection, kind=ERASE, ref=ref, requested_by=requested_by,
                counts=counts, status=status,
            )  # fmt: skip
            if earlier:
                table = Schema(connection).get("privacy_requests")
                assert table is not None
                connection.execute(
                    table.update()
                    .where(table.c.id.in_(earlier))
                    .values(status="retried", completed_at=utcnow())
                )
    except SQLAlchemyError as error:
        logger.error("privacy.erase.failed error=%s", type(error).__name__)
        raise PrivacyError(
            f"the erasure stopped: a database could not be changed ({type(error).__name__}); "
            "run it again"
        ) from error
    logger.info(
        "privacy.erase.done request=%s status=%s conversations=%d crm_failed=%d",
        request_id, status, len(subject.conversations), len(pending),
    )  # fmt: skip
    return ErasureReport(request_id, status, counts, tuple(outcomes))


def crm_factory(settings: Settings, client: httpx.Client) -> CRMFactory:
    """Return the erasing adapters of this deployment: the configured CRM's, by outbox kind."""
    from bot.crm import crm_adapter

    adapter = crm_adapter(settings, client)

    def adapter_for(target: str) -> ErasableCRM | None:
        if target != f"crm:{settings.crm}" or not callable(getattr(adapter, "erase", None)):
            return None
        return cast("ErasableCRM", adapter)

    return adapter_for


def subject_key(settings: Settings) -> bytes:
    """Return the key of the subject hash: the deployment's pseudonym key (docs/privacy.md)."""
    return load_pseudonym_key(settings)
