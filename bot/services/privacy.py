"""Data rights: find everything held about a person, export it as JSON, erase it everywhere.

A person is found by email: the contact (normalised email), its lead, and every conversation
of theirs: the contact's linked conversations, the lead's, those where they left the email
for a follow-up or a handoff, and those whose text contains the email or the phone number
(Rasa's tracker store, the event broker's table, answer logs, live-push events, the app's
event copy). Every row of every store that belongs to those conversations or to the contact
is then the person's. Tables are reflected by name, so a store added by a migration is read
the same way, and one that does not exist in a deployment is skipped.

:func:`export_subject` returns it all as one JSON document (docs/privacy.md describes the
format). :func:`erase_subject` deletes it (quotes are kept for the revenue figures, stripped
of their conversation and lead, their page token replaced), one transaction per database,
asks each CRM the lead was delivered to to delete its records, and writes a
``privacy_requests`` row with the counts per store and a keyed hash of the email, never the
email. A CRM call that fails is reported, recorded as owed, and retried by the next erasure
of the same person.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Table,
    Text,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from bot.crm.base import DeliveryError
from bot.crm.erasure import CRMRecord, ErasableCRM
from core.config import Settings
from core.logging import load_pseudonym_key
from core.storage import get_engine
from core.storage.models import as_utc, utcnow
from core.storage.privacy import (
    DONE,
    ERASE,
    EXPORT,
    PARTIAL,
    PrivacyRequest,
    normalize_subject,
    subject_ref,
)

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "concierge.privacy.export"
EXPORT_VERSION = 1
ERASED_MARK = "erased"
"""What a kept row's conversation id becomes (quotes)."""
APP = "app"
TRACKER = "rasa_tracker"
BROKER = "rasa_event_broker"

CONVERSATION_COLUMNS: Mapping[str, str] = {
    "kb_answers": "sender_id",
    "kb_feedback": "sender_id",
    "handoff_requests": "sender_id",
    "contact_requests": "sender_id",
    "handoffs": "conversation_id",
    "conversation_events": "conversation_id",
    "app_events": "conversation_id",
    "unanswered_questions": "conversation_id",
    "contact_conversations": "conversation_id",
    "quotes": "conversation_id",
}
"""The application tables whose rows belong to a conversation, by the column naming it."""

TEXT_SEARCH: Mapping[str, tuple[str, ...]] = {
    "kb_answers": ("question", "answer"),
    "kb_feedback": ("question", "comment"),
    "handoff_requests": ("last_message",),
    "contact_requests": ("details",),
    "handoffs": ("summary",),
    "conversation_events": ("payload",),
    "app_events": ("text", "data"),
    "unanswered_questions": ("question",),
}
"""Columns searched for the email and phone to find conversations not linked to the contact."""

ERASE_ORDER = (
    "delivery_attempts",
    "outbox",
    "kb_feedback",
    "unanswered_questions",
    "kb_answers",
    "handoff_transitions",
    "handoff_threads",
    "handoffs",
    "handoff_requests",
    "contact_requests",
    "conversation_events",
    "app_events",
    "consents",
    "contact_conversations",
    "leads",
    "contacts",
)
"""Tables deleted from, children before the rows their foreign keys point at."""

NOT_PERSONAL = frozenset(
    {
        "alembic_version",
        "number_sequences",
        "telegram_updates",
        "event_feed_cursors",
        "kb_jobs",
        "privacy_requests",
        "staff_users",
        "staff_sessions",
        "login_attempts",
    }
)
"""Application tables that hold nothing about a customer (staff accounts are not customers)."""


class PrivacyError(RuntimeError):
    """A data-rights request could not be carried out (a bad email, a database away)."""


@dataclass(frozen=True)
class PrivacyStores:
    """The databases a person's data lives in: the app's, Rasa's tracker store, the broker's."""

    app_url: str
    tracker_url: str | None = None
    broker_url: str | None = None


def _optional_url(settings: Settings, name: str) -> str | None:
    value = getattr(settings, name, None)
    if isinstance(value, Path):
        return str(value) if value.exists() else None
    return value if isinstance(value, str) and value.strip() else None


def _as_url(value: str) -> str:
    return value if "://" in value else f"sqlite:///{Path(value).expanduser()}"


def stores_for(settings: Settings) -> PrivacyStores:
    """Return the stores of a deployment.

    The tracker store is the SQLite file ``concierge run`` gives Rasa (``rasa-tracker.db``
    in the data directory) unless a ``tracker_store_url`` setting names another database;
    the event broker's table is the SQLite file of ``CONCIERGE_EVENTS_DB`` (default
    ``rasa-events.db`` in the data directory) when it exists. A store that does not exist
    holds nothing and is skipped.
    """
    tracker = _optional_url(settings, "tracker_store_url")
    if tracker is None:
        default = settings.data_dir / "rasa-tracker.db"
        tracker = str(default) if default.exists() else None
    broker = _optional_url(settings, "rasa_events_db")
    return PrivacyStores(
        app_url=settings.sqlalchemy_url,
        tracker_url=_as_url(tracker) if tracker else None,
        broker_url=_as_url(broker) if broker else None,
    )


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column: Any, needles: Iterable[str]) -> ColumnElement[bool]:
    text = sql_cast(column, Text)
    return or_(*(text.ilike(_like(needle), escape="\\") for needle in needles))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return {key: _plain(value) for key, value in mapping.items()}


class _Schema:
    """The tables of one database, reflected by name on first use."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.names = set(inspect(connection).get_table_names())
        self.metadata = MetaData()
        self._tables: dict[str, Table] = {}

    def get(self, name: str) -> Table | None:
        if name not in self.names:
            return None
        if name not in self._tables:
            self._tables[name] = Table(name, self.metadata, autoload_with=self.connection)
        return self._tables[name]

    def column(self, table: str, column: str) -> Any:
        found = self.get(table)
        if found is None or column not in found.c:
            return None
        return found.c[column]


@dataclass
class Subject:
    """A person as found in the stores: their ids, conversations and what identifies them."""

    email: str
    contact_ids: list[str] = field(default_factory=list)
    lead_ids: list[str] = field(default_factory=list)
    conversations: set[str] = field(default_factory=set)
    phones: list[str] = field(default_factory=list)

    @property
    def needles(self) -> list[str]:
        """The strings that identify the person in free text: the email and phone numbers."""
        return [self.email, *self.phones]

    @property
    def found(self) -> bool:
        """Whether any store knows the person."""
        return bool(self.contact_ids or self.conversations)


def _ids(connection: Connection, query: Any) -> list[str]:
    return [str(value) for value in connection.scalars(query) if value is not None]


def _find_in_app(schema: _Schema, subject: Subject) -> None:
    """Fill ``subject`` from the application database."""
    connection = schema.connection
    contacts = schema.get("contacts")
    if contacts is not None:
        rows = connection.execute(
            select(contacts.c.id, contacts.c.phone).where(
                contacts.c.email_normalized == subject.email
            )
        ).all()
        subject.contact_ids = [str(row.id) for row in rows]
        subject.phones = sorted({str(row.phone).strip() for row in rows if row.phone})
    leads = schema.get("leads")
    if leads is not None and subject.contact_ids:
        for row in connection.execute(
            select(leads.c.id, leads.c.conversation_id).where(
                leads.c.contact_id.in_(subject.contact_ids)
            )
        ):
            subject.lead_ids.append(str(row.id))
            subject.conversations.add(str(row.conversation_id))
    for table, column in (
        ("contact_conversations", "conversation_id"),
        ("consents", "conversation_id"),
    ):
        contact = schema.column(table, "contact_id")
        if contact is not None and subject.contact_ids:
            conversation = schema.column(table, column)
            subject.conversations.update(
                _ids(connection, select(conversation).where(contact.in_(subject.contact_ids)))
            )
    quote_lead = schema.column("quotes", "lead_id")
    if quote_lead is not None and subject.lead_ids:
        subject.conversations.update(
            _ids(
                connection,
                select(schema.column("quotes", "conversation_id")).where(
                    quote_lead.in_(subject.lead_ids)
                ),
            )
        )
    for table in ("contact_requests", "handoff_requests"):
        email = schema.column(table, "email")
        if email is not None:
            subject.conversations.update(
                _ids(
                    connection,
                    select(schema.column(table, "sender_id")).where(
                        func.lower(func.trim(email)) == subject.email
                    ),
                )
            )
    for table, columns in TEXT_SEARCH.items():
        conversation = schema.column(table, CONVERSATION_COLUMNS[table])
        present = [schema.column(table, name) for name in columns]
        present = [column for column in present if column is not None]
        if conversation is None or not present:
            continue
        matches = or_(*(_contains(column, subject.needles) for column in present))
        subject.conversations.update(_ids(connection, select(conversation).where(matches)))
    subject.conversations.discard(ERASED_MARK)


def _find_in_events(schema: _Schema, subject: Subject) -> None:
    """Add the conversations of Rasa's ``events`` table whose events mention the person."""
    sender = schema.column("events", "sender_id")
    data = schema.column("events", "data")
    if sender is None or data is None:
        return
    query = select(sender).where(_contains(data, subject.needles)).distinct()
    subject.conversations.update(_ids(schema.connection, query))


def _app_selectors(schema: _Schema, subject: Subject) -> dict[str, ColumnElement[bool]]:
    """Return, per application table, the condition selecting the person's rows."""
    conversations = sorted(subject.conversations)
    where: dict[str, ColumnElement[bool]] = {}

    def add(table: str, condition: ColumnElement[bool] | None) -> None:
        if condition is None:
            return
        where[table] = or_(where[table], condition) if table in where else condition

    def member(table: str, column: str, values: list[str]) -> ColumnElement[bool] | None:
        found = schema.column(table, column)
        return found.in_(values) if found is not None and values else None

    for table, column in CONVERSATION_COLUMNS.items():
        add(table, member(table, column, conversations))
    add("contacts", member("contacts", "id", subject.contact_ids))
    add("contact_conversations", member("contact_conversations", "contact_id", subject.contact_ids))
    add("leads", member("leads", "id", subject.lead_ids))
    add("consents", member("consents", "contact_id", subject.contact_ids))
    add("consents", member("consents", "lead_id", subject.lead_ids))
    add("quotes", member("quotes", "lead_id", subject.lead_ids))
    add("outbox", member("outbox", "lead_id", subject.lead_ids))
    for table in ("contact_requests", "handoff_requests"):
        email = schema.column(table, "email")
        if email is not None:
            add(table, func.lower(func.trim(email)) == subject.email)
    outbox_id = schema.column("outbox", "id")
    if outbox_id is not None and "outbox" in where:
        add(
            "delivery_attempts",
            schema.column("delivery_attempts", "entry_id").in_(
                select(outbox_id).where(where["outbox"])
            )
            if schema.column("delivery_attempts", "entry_id") is not None
            else None,
        )
    answer_id = schema.column("kb_answers", "id")
    if answer_id is not None and "kb_answers" in where:
        feedback_answer = schema.column("kb_feedback", "answer_id")
        if feedback_answer is not None:
            add("kb_feedback", feedback_answer.in_(select(answer_id).where(where["kb_answers"])))
    handoff_id = schema.column("handoffs", "id")
    if handoff_id is not None and "handoffs" in where:
        for table in ("handoff_transitions", "handoff_threads"):
            column = schema.column(table, "handoff_id")
            if column is not None:
                add(table, column.in_(select(handoff_id).where(where["handoffs"])))
    return where


def _event_selector(schema: _Schema, subject: Subject) -> ColumnElement[bool] | None:
    sender = schema.column("events", "sender_id")
    if sender is None or not subject.conversations:
        return None
    condition: ColumnElement[bool] = sender.in_(sorted(subject.conversations))
    return condition


def _rows(schema: _Schema, table: str, condition: ColumnElement[bool]) -> list[dict[str, Any]]:
    found = schema.get(table)
    assert found is not None
    query = select(found).where(condition)
    if "id" in found.c:
        query = query.order_by(found.c.id)
    return [_row(row) for row in schema.connection.execute(query).mappings()]


def _event_rows(schema: _Schema, condition: ColumnElement[bool]) -> list[dict[str, Any]]:
    rows = _rows(schema, "events", condition)
    for row in rows:
        data = row.get("data")
        if isinstance(data, str):
            with contextlib.suppress(ValueError):
                row["data"] = json.loads(data)
    return rows


def crm_records(outbox_rows: Iterable[Mapping[str, Any]]) -> list[CRMRecord]:
    """Return the outside-CRM records of a person's deliveries (those that reached a CRM)."""
    records = []
    for row in outbox_rows:
        kind = str(row.get("kind") or "")
        if not kind.startswith("crm:") or kind == "crm:builtin":
            continue
        progress = row.get("progress") or {}
        if not (row.get("crm_id") or progress or int(row.get("attempts") or 0) > 0):
            continue  # never sent: nothing in the CRM
        records.append(
            CRMRecord(
                target=kind,
                lead_id=str(row["lead_id"]),
                crm_id=str(row["crm_id"]) if row.get("crm_id") else None,
                progress=dict(progress) if isinstance(progress, dict) else {},
            )
        )
    return records


@dataclass
class _Collected:
    subject: Subject
    app: dict[str, list[dict[str, Any]]]
    tracker: list[dict[str, Any]] | None
    broker: list[dict[str, Any]] | None


def _connect(url: str | None) -> Engine | None:
    return get_engine(url) if url else None


def _collect(stores: PrivacyStores, email: str) -> _Collected:
    """Find the person in every store and read their rows (no writes)."""
    subject = Subject(email=email)
    tracker_engine = _connect(stores.tracker_url)
    broker_engine = _connect(stores.broker_url)
    with get_engine(stores.app_url).connect() as connection:
        app_schema = _Schema(connection)
        _find_in_app(app_schema, subject)
        for engine in (tracker_engine, broker_engine):
            if engine is not None:
                with engine.connect() as events_connection:
                    _find_in_events(_Schema(events_connection), subject)
        app = {
            table: _rows(app_schema, table, condition)
            for table, condition in sorted(_app_selectors(app_schema, subject).items())
        }
    events: list[list[dict[str, Any]] | None] = []
    for engine in (tracker_engine, broker_engine):
        if engine is None:
            events.append(None)
            continue
        with engine.connect() as events_connection:
            schema = _Schema(events_connection)
            condition = _event_selector(schema, subject)
            events.append(_event_rows(schema, condition) if condition is not None else [])
    return _Collected(subject, {k: v for k, v in app.items() if v}, events[0], events[1])


def _contact(app: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    contacts = app.get("contacts") or []
    return contacts[0] if contacts else None


def _requests(session_url: str, ref: str) -> list[dict[str, Any]]:
    with get_engine(session_url).connect() as connection:
        schema = _Schema(connection)
        table = schema.get("privacy_requests")
        if table is None:
            return []
        query = (
            select(table.c.kind, table.c.status, table.c.created_at, table.c.counts)
            .where(table.c.subject_ref == ref)
            .order_by(table.c.created_at)
        )
        return [_row(row) for row in connection.execute(query).mappings()]


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


def _check_email(email: str) -> str:
    normalized = normalize_subject(email)
    if "@" not in normalized or len(normalized) > 320 or any(c.isspace() for c in normalized):
        raise PrivacyError("give the person's email address (name@example.com)")
    return normalized


def _counts(collected: _Collected) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {APP: {t: len(r) for t, r in collected.app.items()}}
    if collected.tracker is not None:
        counts[TRACKER] = {"events": len(collected.tracker)}
    if collected.broker is not None:
        counts[BROKER] = {"events": len(collected.broker)}
    return counts


def export_subject(
    stores: PrivacyStores, key: bytes, email: str, *, requested_by: str
) -> dict[str, Any]:
    """Return everything held about the person of ``email`` as one JSON-ready document.

    The export is recorded in ``privacy_requests`` (counts only).
    """
    normalized = _check_email(email)
    ref = subject_ref(key, normalized)
    try:
        collected = _collect(stores, normalized)
        earlier = _requests(stores.app_url, ref)
        counts = _counts(collected)
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
        "generated_at": _plain(utcnow()),
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
    normalized = _check_email(email)
    try:
        collected = _collect(stores, normalized)
    except SQLAlchemyError as error:
        raise PrivacyError(f"a database could not be read ({type(error).__name__})") from error
    return {
        "found": collected.subject.found,
        "conversations": len(collected.subject.conversations),
        "counts": _counts(collected),
        "crm": [r.target for r in crm_records(collected.app.get("outbox", []))],
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
        table = _Schema(connection).get("privacy_requests")
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
    engine = _connect(url)
    if engine is None:
        return None
    with engine.begin() as connection:
        schema = _Schema(connection)
        condition = _event_selector(schema, subject)
        table = schema.get("events")
        if table is None or condition is None:
            return 0
        return int(connection.execute(table.delete().where(condition)).rowcount)


def _erase_app(connection: Connection, subject: Subject) -> dict[str, int]:
    schema = _Schema(connection)
    where = _app_selectors(schema, subject)
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
    normalized = _check_email(email)
    ref = subject_ref(key, normalized)
    try:
        collected = _collect(stores, normalized)
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
    counts: dict[str, Any] = {}
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
                table = _Schema(connection).get("privacy_requests")
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
