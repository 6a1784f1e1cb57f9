"""The worker's event feed: Rasa's published events copied into the app's ``app_events``.

In the embedded default Rasa's SQL event broker (``endpoints.yml``) appends every event to the
``events`` table of ``CONCIERGE_EVENTS_DB``; the feed tails that table by its integer id and
stores, in one transaction, the new events and the last id read (the cursor). A replayed batch
or a restarted worker inserts nothing twice: each event is keyed by a hash of its conversation
and content (:func:`core.storage.app_events.event_key`). Several workers may run at once: the
one that loses a race rolls back and reads on from the winner's cursor.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
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


class RabbitFeed:
    """Consumes the RabbitMQ queue Rasa's Pika event broker publishes to, into ``app_events``.

    Messages are taken in batches of up to ``batch_size`` and acknowledged only after their
    events are committed; a failed insert returns them to the queue, so a database outage
    loses nothing. A message that is not an event is rejected (dropped) with a warning, never
    redelivered forever. Redelivered messages insert nothing twice (``event_key``).
    """

    def __init__(
        self,
        engine: Engine,
        url: str,
        queue: str,
        *,
        batch_size: int = 500,
        retry_seconds: float = 5.0,
    ) -> None:
        """Consume ``queue`` at the AMQP ``url`` into the app database of ``engine``."""
        self.engine = engine
        self.url = url
        self.queue = queue
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds
        self.stats = FeedStats()

    def _store(self, events: list[IncomingEvent]) -> int:
        with session_scope(self.engine) as session:
            return store_events(session, events)

    async def _settle(self, batch: list[AbstractIncomingMessage]) -> None:
        good: list[AbstractIncomingMessage] = []
        events: list[IncomingEvent] = []
        for message in batch:
            event = _parse(BrokerRow(message.delivery_tag or 0, None, message.body.decode()))
            if event is None:
                await message.reject(requeue=False)
            else:
                good.append(message)
                events.append(event)
        try:
            inserted = await asyncio.to_thread(self._store, events)
        except BaseException:
            for message in good:  # back to the queue: delivered again once the database answers
                await message.nack(requeue=True)
            raise
        for message in good:
            await message.ack()
        self.stats.read += len(batch)
        self.stats.inserted += inserted

    async def consume(self, stop: threading.Event, *, until_empty: bool = False) -> None:
        """Consume until ``stop`` is set (or, with ``until_empty``, the queue is empty)."""
        connection = await aio_pika.connect(self.url, timeout=10)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.batch_size)
            # declared as Rasa's PikaEventBroker declares it, so either may start first
            queue = await channel.declare_queue(self.queue, durable=True)
            while not stop.is_set():
                batch: list[AbstractIncomingMessage] = []
                while len(batch) < self.batch_size:
                    message = await queue.get(no_ack=False, fail=False, timeout=10)
                    if message is None:
                        break
                    batch.append(message)
                if batch:
                    try:
                        await self._settle(batch)
                    except IntegrityError:  # another consumer stored one of them first
                        self.stats.conflicts += 1
                    continue
                if until_empty:
                    return
                await asyncio.sleep(0.5)

    def drain(self, timeout: float | None = None) -> FeedStats:
        """Consume until the queue is empty."""
        asyncio.run(asyncio.wait_for(self.consume(threading.Event(), until_empty=True), timeout))
        return self.stats

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Consume until ``stop`` is set, reconnecting after a failure."""
        logger.info("events.feed.started source=rabbitmq")
        while not stop.is_set():
            try:
                asyncio.run(self.consume(stop))
            except Exception:  # RabbitMQ or the database is away: log, wait, reconnect
                logger.exception("events.feed.round_failed source=rabbitmq")
                stop.wait(max(poll_seconds, self.retry_seconds))
        logger.info("events.feed.stopped read=%d inserted=%d", self.stats.read, self.stats.inserted)


class Feed(Protocol):
    """What the worker runs: an event feed from one kind of broker."""

    stats: FeedStats

    def drain(self, timeout: float | None = None) -> FeedStats:
        """Copy what is waiting, then return."""

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Copy until ``stop`` is set."""


def start_feed(feed: Feed, stop: threading.Event, poll_seconds: float) -> threading.Thread:
    """Run ``feed`` in a daemon thread until ``stop`` is set; return the thread."""
    thread = threading.Thread(
        target=feed.run, args=(stop, poll_seconds), daemon=True, name="event-feed"
    )
    thread.start()
    return thread


def build_feed(settings: Settings) -> Feed:
    """Return the feed of ``settings``.

    RabbitMQ's queue when ``CONCIERGE_RABBITMQ_URL`` is set (production: Rasa's Pika event
    broker), else Rasa's SQL event broker table (``CONCIERGE_EVENTS_BROKER_URL``, or the
    SQLite file ``CONCIERGE_EVENTS_DB``).
    """
    engine = get_engine(settings.sqlalchemy_url)
    if settings.rabbitmq_url:
        return RabbitFeed(
            engine,
            settings.rabbitmq_url,
            settings.event_broker_queue,
            batch_size=settings.events_batch_size,
        )
    source: BrokerSource
    if settings.events_broker_url:
        source = SqlBrokerDatabase(settings.events_broker_url)
    else:
        source = SqlBrokerTable(settings.rasa_events_db)
    return EventFeed(engine, source, batch_size=settings.events_batch_size)
