"""The worker's event feed: Rasa's published events copied into the app's ``app_events``.

In the embedded default Rasa's SQL event broker (``endpoints.yml``) appends every event to the
``events`` table of ``CONCIERGE_EVENTS_DB``; the feed tails that table by its integer id and
stores, in one transaction, the new events and the last id read (the cursor). A replayed batch
or a restarted worker inserts nothing twice: each event is keyed by a hash of its conversation
and content (:func:`core.storage.app_events.event_key`). Several workers may run at once: the
one that loses a race rolls back and reads on from the winner's cursor.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from core.config import Settings
from core.logging import sender_ref
from core.storage import get_engine, session_scope
from core.storage.app_events import (
    EventError,
    IncomingEvent,
    cursor_position,
    parse_event,
    save_cursor,
    store_events,
)

logger = logging.getLogger(__name__)

SQL_BROKER_SOURCE = "rasa-sql-broker"
"""The cursor's name for Rasa's SQL event broker table."""


@dataclass(frozen=True)
class BrokerRow:
    """One row of the broker's table: its id, the conversation and the event's JSON."""

    id: int
    sender_id: str | None
    data: str | None


class BrokerSource(Protocol):
    """Where published events are read from, in the order they were published."""

    name: str

    def rows_after(self, position: int, limit: int) -> list[BrokerRow]:
        """Return up to ``limit`` rows with an id above ``position``, oldest first."""

    def last_id(self) -> int:
        """Return the highest id in the source (0 when it is empty or absent)."""


class SqlBrokerTable:
    """Rasa's SQL event broker table (``events``: ``id``, ``sender_id``, ``data``), read-only."""

    name = SQL_BROKER_SOURCE

    def __init__(self, path: Path) -> None:
        """Read the SQLite file at ``path`` (Rasa creates it on its first start)."""
        self.path = path

    def _connect(self) -> sqlite3.Connection | None:
        if not self.path.exists():
            return None
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=5.0)
        return connection

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        connection = self._connect()
        if connection is None:
            return []
        try:
            return connection.execute(sql, parameters).fetchall()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return []  # Rasa has not published anything yet
            raise
        finally:
            connection.close()

    def rows_after(self, position: int, limit: int) -> list[BrokerRow]:
        """Return up to ``limit`` rows with an id above ``position``, oldest first."""
        rows = self._query(
            "SELECT id, sender_id, data FROM events WHERE id > ? ORDER BY id LIMIT ?",
            (position, limit),
        )
        return [BrokerRow(int(row[0]), row[1], row[2]) for row in rows]

    def last_id(self) -> int:
        """Return the highest id in the table (0 when it is empty or absent)."""
        rows = self._query("SELECT MAX(id) FROM events", ())
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0


class SqlBrokerDatabase:
    """Rasa's SQL event broker table in a server database (``CONCIERGE_EVENTS_BROKER_URL``).

    For deployments whose Rasa publishes with ``event_broker: type: sql`` to PostgreSQL.
    """

    name = SQL_BROKER_SOURCE

    def __init__(self, url: str) -> None:
        """Read the ``events`` table of the database at the SQLAlchemy ``url``."""
        self.engine = create_engine(url, pool_pre_ping=True)

    def _query(self, sql: str, parameters: dict[str, Any]) -> list[Any]:
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(text(sql), parameters))
        except ProgrammingError as error:
            if "events" in str(error.orig):
                return []  # Rasa has not created its table yet
            raise

    def rows_after(self, position: int, limit: int) -> list[BrokerRow]:
        """Return up to ``limit`` rows with an id above ``position``, oldest first."""
        rows = self._query(
            "SELECT id, sender_id, data FROM events WHERE id > :position ORDER BY id LIMIT :limit",
            {"position": position, "limit": limit},
        )
        return [BrokerRow(int(row[0]), row[1], row[2]) for row in rows]

    def last_id(self) -> int:
        """Return the highest id in the table (0 when it is empty or absent)."""
        rows = self._query("SELECT MAX(id) FROM events", {})
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _parse(row: BrokerRow) -> IncomingEvent | None:
    try:
        body = json.loads(row.data or "")
    except json.JSONDecodeError:
        logger.warning("events.feed.skipped row=%d reason=not-json", row.id)
        return None
    if not isinstance(body, dict):
        logger.warning("events.feed.skipped row=%d reason=not-an-object", row.id)
        return None
    if "sender_id" not in body and row.sender_id:
        body["sender_id"] = row.sender_id
    try:
        return parse_event(body)
    except EventError as error:
        logger.warning("events.feed.skipped row=%d reason=%s", row.id, error)
        return None


@dataclass
class FeedStats:
    """What the feed did since it started: rows read, events inserted, rounds lost to a race."""

    read: int = 0
    inserted: int = 0
    conflicts: int = 0


class EventFeed:
    """Copies a broker source into ``app_events``, idempotently, moving a stored cursor."""

    def __init__(self, engine: Engine, source: BrokerSource, *, batch_size: int = 500) -> None:
        """Copy ``source`` into the app database of ``engine``, ``batch_size`` rows a round."""
        self.engine = engine
        self.source = source
        self.batch_size = batch_size
        self.stats = FeedStats()
        self._lock = threading.Lock()

    def _position(self) -> int:
        with session_scope(self.engine) as session:
            stored = cursor_position(session, self.source.name)
        try:
            position = int(stored) if stored is not None else 0
        except ValueError:
            logger.warning("events.feed.cursor_unreadable source=%s", self.source.name)
            position = 0
        if position and self.source.last_id() < position:
            # the broker's file was replaced (ids start again): read it all, nothing doubles
            logger.warning("events.feed.source_reset source=%s", self.source.name)
            position = 0
        return position

    def run_once(self) -> int:
        """Copy one batch; return how many broker rows it read (0: nothing new)."""
        with self._lock:
            position = self._position()
            rows = self.source.rows_after(position, self.batch_size)
            if not rows:
                return 0
            events = [event for event in (_parse(row) for row in rows) if event is not None]
            try:
                with session_scope(self.engine) as session:
                    inserted = store_events(session, events)
                    save_cursor(session, self.source.name, str(rows[-1].id))
            except IntegrityError:  # another worker stored the same batch first
                self.stats.conflicts += 1
                logger.info("events.feed.conflict source=%s", self.source.name)
                return len(rows)
            self.stats.read += len(rows)
            self.stats.inserted += inserted
            conversations = {event.conversation_id for event in events}
            logger.debug(
                "events.feed.copied rows=%d inserted=%d conversations=%s",
                len(rows), inserted, ",".join(sorted(sender_ref(c) for c in conversations)),
            )  # fmt: skip
            return len(rows)

    def drain(self, timeout: float | None = None) -> FeedStats:
        """Copy until the source has nothing new (or ``timeout`` seconds pass)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.run_once():
            if deadline is not None and time.monotonic() > deadline:
                break
        return self.stats

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Copy until ``stop`` is set, waiting ``poll_seconds`` when nothing is new."""
        logger.info("events.feed.started source=%s", self.source.name)
        while not stop.is_set():
            try:
                read = self.run_once()
            except Exception:  # the database or the broker file is away: log, wait, retry
                logger.exception("events.feed.round_failed source=%s", self.source.name)
                read = 0
            if read == 0:
                stop.wait(poll_seconds)
        logger.info("events.feed.stopped read=%d inserted=%d", self.stats.read, self.stats.inserted)


def start_feed(feed: EventFeed, stop: threading.Event, poll_seconds: float) -> threading.Thread:
    """Run ``feed`` in a daemon thread until ``stop`` is set; return the thread."""
    thread = threading.Thread(
        target=feed.run, args=(stop, poll_seconds), daemon=True, name="event-feed"
    )
    thread.start()
    return thread


def build_feed(settings: Settings) -> EventFeed:
    """Return the feed of ``settings``: Rasa's SQL broker table into the app database."""
    source: BrokerSource
    if settings.events_broker_url:
        source = SqlBrokerDatabase(settings.events_broker_url)
    else:
        source = SqlBrokerTable(settings.rasa_events_db)
    return EventFeed(
        get_engine(settings.sqlalchemy_url), source, batch_size=settings.events_batch_size
    )
