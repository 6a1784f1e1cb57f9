"""Rasa's SQL tracker store and SQL event broker on SQLite files, without needless disk waits.

Rasa opens its SQLite files with SQLite's defaults and SQLAlchemy 1.4's ``NullPool``: every
operation opens a new connection and closes it again, and closing the last connection of a
WAL file checkpoints and deletes the WAL, so every commit paid for the disk. The SQL event
broker commits each event on its own, several a turn, in Rasa's event loop
(``benchmarks/tracker_store.py`` measures Rasa's pair against these; ``docs/benchmarks.md``).

Here both keep their connections open (a ``QueuePool``) in WAL mode, and:

- :class:`SQLiteTrackerStore`: the conversations' record, with a full sync on every commit
  (a committed turn survives a power cut); it saves a turn as
  ``rasa_addons.tracker_store.SQLTrackerStore`` does, without rebuilding the stored tracker,
  and hands the broker a turn's events in one batch.
- :class:`SQLiteEventBroker`: the copy of the events the worker feeds into the app's
  ``app_events`` table, with ``synchronous=NORMAL``: a commit does not wait for the disk; a
  crash of Rasa loses nothing, a power cut may lose the last moment of events (SQLite's
  documented WAL trade-off), which the tracker store still holds. ``publish_many`` writes a
  turn's events in one commit.

Both are plain Rasa classes otherwise (same tables, same options); on PostgreSQL (the
production endpoints file) the tracker store is ``rasa_addons.tracker_store.SQLTrackerStore``
and the broker Rasa's Pika broker.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from sqlalchemy import event, orm
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from rasa_addons.tracker_store import SQLTrackerStore


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


class SQLiteTrackerStore(SQLTrackerStore):
    """The SQL tracker store; on SQLite in WAL mode with a full sync per commit."""

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store as Rasa does, then keep its connections open in WAL mode."""
        super().__init__(*args, **kwargs)
        self.engine = _journaled(self.engine, "FULL")
        self.sessionmaker = orm.sessionmaker(bind=self.engine)
