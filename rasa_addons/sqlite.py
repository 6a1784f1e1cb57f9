"""Rasa's SQL tracker store and SQL event broker on SQLite files, without needless disk waits.

Rasa opens its SQLite files with SQLite's defaults and SQLAlchemy 1.4's ``NullPool``: every
operation opens a new connection and closes it again, and closing the last connection of a
WAL file checkpoints and deletes the WAL, so every commit paid for the disk. The SQL event
broker commits each event on its own, several a turn, in Rasa's event loop, and the tracker
store rebuilt the whole stored tracker once more on every save, only to learn how many of
its events were new (``benchmarks/tracker_store.py`` measures both; ``docs/benchmarks.md``).

Here both keep their connections open (a ``QueuePool``) in WAL mode, and:

- :class:`SQLiteTrackerStore`: the conversations' record, with a full sync on every commit
  (a committed turn survives a power cut). A save counts the stored events once (the query
  Rasa itself uses for what to insert), publishes the new events to the broker in one batch
  when it can take one, and inserts them; the same events, in the same order, as Rasa's own
  ``save``, without rebuilding the stored tracker.
- :class:`SQLiteEventBroker`: the copy of the events the worker feeds into the app's
  ``app_events`` table, with ``synchronous=NORMAL``: a commit does not wait for the disk; a
  crash of Rasa loses nothing, a power cut may lose the last moment of events (SQLite's
  documented WAL trade-off), which the tracker store still holds. ``publish_many`` writes a
  turn's events in one commit.

Both are plain Rasa classes otherwise (same tables, same options); on PostgreSQL (the
production endpoints file) Rasa's own classes are used.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event, orm
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

INTENT_NAME_KEY = "name"


def _journaled(engine: Engine, synchronous: str) -> Engine:
    """Return a pooled engine like ``engine`` with WAL and ``synchronous`` on its connections.

    Not SQLite: ``engine`` itself, untouched.
    """
    if engine.dialect.name != "sqlite":
        return engine
    pooled = sa.create_engine(
        engine.url, poolclass=QueuePool, connect_args={"check_same_thread": False}
    )

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    event.listen(pooled, "connect", pragmas)
    engine.dispose()  # the connections Rasa opened for creating the tables
    return pooled


class SQLiteEventBroker(SQLEventBroker):  # type: ignore[misc]
    """Rasa's SQL event broker; on SQLite in WAL mode without waiting for the disk."""

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the broker as Rasa does, then keep its connections open in WAL mode."""
        super().__init__(*args, **kwargs)
        self.engine = _journaled(self.engine, "NORMAL")
        self.sessionmaker = orm.sessionmaker(bind=self.engine)

    def publish_many(self, bodies: Sequence[dict[str, Any]]) -> None:
        """Publish ``bodies`` in order, in one commit (what ``publish`` does for one)."""
        if not bodies:
            return
        with self.session_scope() as session:
            session.add_all(
                self.SQLBrokerEvent(sender_id=body.get("sender_id"), data=json.dumps(body))
                for body in bodies
            )
            session.commit()


class SQLiteTrackerStore(SQLTrackerStore):  # type: ignore[misc]
    """Rasa's SQL tracker store; on SQLite in WAL mode with a full sync per commit."""

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store as Rasa does, then keep its connections open in WAL mode."""
        super().__init__(*args, **kwargs)
        self.engine = _journaled(self.engine, "FULL")
        self.sessionmaker = orm.sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events and publish them (Rasa's ``save``, one count less).

        Rasa's ``save`` first streams to the broker the events a freshly retrieved tracker
        lacks, then inserts the events beyond the stored count: both are the events after
        the number already stored in the current session, which is counted here once. The
        caller holds the conversation's lock, as for Rasa's own ``save``.
        """
        with self.session_scope() as session:
            stored = self._event_query(
                session, tracker.sender_id, fetch_events_from_all_sessions=False
            ).count()
        new_events = list(itertools.islice(tracker.events, stored, len(tracker.events)))
        if self.event_broker is not None:
            self._publish(tracker.sender_id, new_events)
        with self.session_scope() as session:
            session.add_all(self._rows(tracker.sender_id, new_events))
            session.commit()

    def _publish(self, sender_id: str, events: Sequence[Event]) -> None:
        """Publish ``events`` as Rasa's ``_stream_new_events`` does, in one batch if possible."""
        bodies = []
        for new_event in events:
            body: dict[str, Any] = {"sender_id": sender_id}
            body.update(new_event.as_dict())
            bodies.append(body)
        publish_many = getattr(self.event_broker, "publish_many", None)
        if callable(publish_many):
            publish_many(bodies)
            return
        for body in bodies:
            self.event_broker.publish(body)

    def _rows(self, sender_id: str, events: Iterable[Event]) -> Iterable[Any]:
        """Yield the table rows of ``events``, with the columns Rasa's ``save`` fills."""
        for new_event in events:
            data = new_event.as_dict()
            yield self.SQLEvent(
                sender_id=sender_id,
                type_name=new_event.type_name,
                timestamp=data.get("timestamp"),
                intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                action_name=data.get("name"),
                data=json.dumps(data),
            )
