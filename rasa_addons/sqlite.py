"""Rasa's SQL tracker store and SQL event broker on SQLite files with sensible journals.

Rasa opens its SQLite files with SQLite's defaults: a rollback journal and a full sync on
every commit (about 15 ms a commit on this project's machines against 1.6 ms in WAL mode).
The tracker store commits once a turn, but the SQL event broker commits each event on its
own, several a turn, in Rasa's event loop, so every turn waited for the disk many times.

- :class:`SQLiteTrackerStore`: the conversations' record, in WAL mode with a full sync
  (a committed turn survives a power cut).
- :class:`SQLiteEventBroker`: the copy of the events the worker feeds into the app's
  ``app_events`` table, in WAL mode with ``synchronous=NORMAL``: a commit does not wait for
  the disk; a crash of Rasa loses nothing, a power cut may lose the last moment of events
  (SQLite's documented WAL trade-off), which the tracker store still holds.

Both are plain Rasa classes otherwise (same tables, same options); on PostgreSQL (the
production endpoints file) Rasa's own classes are used.
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _use_journal(engine: Engine, synchronous: str) -> None:
    """Set WAL and ``synchronous`` on every new SQLite connection of ``engine``."""
    if engine.dialect.name != "sqlite":
        return

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections opened before the listener (table creation) are replaced


class SQLiteTrackerStore(SQLTrackerStore):  # type: ignore[misc]
    """Rasa's SQL tracker store; on SQLite in WAL mode with a full sync per commit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store as Rasa does, then set the journal of its connections."""
        super().__init__(*args, **kwargs)
        _use_journal(self.engine, "FULL")


class SQLiteEventBroker(SQLEventBroker):  # type: ignore[misc]
    """Rasa's SQL event broker; on SQLite in WAL mode without waiting for the disk."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the broker as Rasa does, then set the journal of its connections."""
        super().__init__(*args, **kwargs)
        _use_journal(self.engine, "NORMAL")
