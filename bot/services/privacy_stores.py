"""Where a person's data lives and how it is found: the stores, their tables, the rows.

A person is found by email: the contact (normalised email), its lead, and every conversation
of theirs: the contact's linked conversations, the lead's, those where they left the email
for a follow-up or a handoff, and those whose text contains the email or the phone number
(Rasa's tracker store, the event broker's table, answer logs, live-push events, the app's
event copy). Every row of every store that belongs to those conversations or to the contact
is then the person's. Tables are reflected by name, so a store added by a migration is read
the same way, and one that does not exist in a deployment is skipped. Nothing here writes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, Text, func, inspect, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.sql.elements import ColumnElement

from bot.crm.erasure import CRMRecord
from core.config import Settings
from core.storage import get_engine
from core.storage.models import as_utc
from core.storage.privacy import normalize_subject

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
    the event broker's table is in ``CONCIERGE_EVENTS_BROKER_URL`` (a server database) or
    else the SQLite file of ``CONCIERGE_EVENTS_DB`` (default ``rasa-events.db`` in the data
    directory) when it exists. A store that does not exist
    holds nothing and is skipped.
    """
    tracker = _optional_url(settings, "tracker_store_url")
    if tracker is None:
        default = settings.data_dir / "rasa-tracker.db"
        tracker = str(default) if default.exists() else None
    broker = _optional_url(settings, "events_broker_url") or _optional_url(
        settings, "rasa_events_db"
    )
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


def plain(value: Any) -> Any:
    """Return ``value`` as JSON can hold it (times as ISO 8601 UTC, decimals as text)."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def plain_row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    """Return a database row as a plain JSON object."""
    return {key: plain(value) for key, value in mapping.items()}


class Schema:
    """The tables of one database, reflected by name on first use."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.names = set(inspect(connection).get_table_names())
        self.metadata = MetaData()
        self._tables: dict[str, Table] = {}

    def get(self, name: str) -> Table | None:
        """Return the table ``name``, or None when this database has none."""
        if name not in self.names:
            return None
        if name not in self._tables:
            self._tables[name] = Table(name, self.metadata, autoload_with=self.connection)
        return self._tables[name]

    def column(self, table: str, column: str) -> Any:
        """Return a column of a table, or None when either is missing."""
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


def _find_in_app(schema: Schema, subject: Subject) -> None:
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


def _find_in_events(schema: Schema, subject: Subject) -> None:
    """Add the conversations of Rasa's ``events`` table whose events mention the person."""
    sender = schema.column("events", "sender_id")
    data = schema.column("events", "data")
    if sender is None or data is None:
        return
    query = select(sender).where(_contains(data, subject.needles)).distinct()
    subject.conversations.update(_ids(schema.connection, query))


def app_selectors(schema: Schema, subject: Subject) -> dict[str, ColumnElement[bool]]:
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


def event_selector(schema: Schema, subject: Subject) -> ColumnElement[bool] | None:
    """Return the condition selecting the person's rows of Rasa's ``events`` table."""
    sender = schema.column("events", "sender_id")
    if sender is None or not subject.conversations:
        return None
    condition: ColumnElement[bool] = sender.in_(sorted(subject.conversations))
    return condition


def _rows(schema: Schema, table: str, condition: ColumnElement[bool]) -> list[dict[str, Any]]:
    found = schema.get(table)
    assert found is not None
    query = select(found).where(condition)
    if "id" in found.c:
        query = query.order_by(found.c.id)
    return [plain_row(row) for row in schema.connection.execute(query).mappings()]


def _event_rows(schema: Schema, condition: ColumnElement[bool]) -> list[dict[str, Any]]:
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
class Collected:
    """What the stores hold about one person: the subject and their rows per store."""

    subject: Subject
    app: dict[str, list[dict[str, Any]]]
    tracker: list[dict[str, Any]] | None
    broker: list[dict[str, Any]] | None


def connect(url: str | None) -> Engine | None:
    """Return the engine of ``url``, or None for a store that is not configured."""
    return get_engine(url) if url else None


def collect(stores: PrivacyStores, email: str) -> Collected:
    """Find the person in every store and read their rows (no writes)."""
    subject = Subject(email=email)
    tracker_engine = connect(stores.tracker_url)
    broker_engine = connect(stores.broker_url)
    with get_engine(stores.app_url).connect() as connection:
        app_schema = Schema(connection)
        _find_in_app(app_schema, subject)
        for engine in (tracker_engine, broker_engine):
            if engine is not None:
                with engine.connect() as events_connection:
                    _find_in_events(Schema(events_connection), subject)
        app = {
            table: _rows(app_schema, table, condition)
            for table, condition in sorted(app_selectors(app_schema, subject).items())
        }
    events: list[list[dict[str, Any]] | None] = []
    for engine in (tracker_engine, broker_engine):
        if engine is None:
            events.append(None)
            continue
        with engine.connect() as events_connection:
            schema = Schema(events_connection)
            condition = event_selector(schema, subject)
            events.append(_event_rows(schema, condition) if condition is not None else [])
    return Collected(subject, {k: v for k, v in app.items() if v}, events[0], events[1])


def not_reached(stores: PrivacyStores) -> list[str]:
    """Return the Rasa stores this deployment's settings do not lead to (nothing read there)."""
    missing = []
    if stores.tracker_url is None:
        missing.append(TRACKER)
    if stores.broker_url is None:
        missing.append(BROKER)
    return missing


def check_email(email: str) -> str:
    """Return the normalised email, or raise :class:`PrivacyError` for something that is not one."""
    normalized = normalize_subject(email)
    if "@" not in normalized or len(normalized) > 320 or any(c.isspace() for c in normalized):
        raise PrivacyError("give the person's email address (name@example.com)")
    return normalized


def row_counts(collected: Collected) -> dict[str, dict[str, int]]:
    """Return how many rows each store and table holds about the person."""
    counts: dict[str, dict[str, int]] = {APP: {t: len(r) for t, r in collected.app.items()}}
    if collected.tracker is not None:
        counts[TRACKER] = {"events": len(collected.tracker)}
    if collected.broker is not None:
        counts[BROKER] = {"events": len(collected.broker)}
    return counts
