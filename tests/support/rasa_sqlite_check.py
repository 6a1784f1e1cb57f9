"""Run in Rasa's environment: load endpoints.yml as Rasa does, use its stores, print JSON.

Used by tests/unit/rasa_addons/test_sqlite.py (Rasa is not installed in the app's
environment). The files go to the folder named by the first argument.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any


async def check(folder: Path) -> dict[str, Any]:
    """Create the tracker store and broker from endpoints.yml, write a turn, report."""
    from rasa.core.brokers.broker import EventBroker
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    os.environ["CONCIERGE_ACTION_ENDPOINT"] = "http://127.0.0.1:9/webhook"
    os.environ["CONCIERGE_TRACKER_DB"] = str(folder / "tracker.db")
    os.environ["CONCIERGE_EVENTS_DB"] = str(folder / "events.db")
    endpoints = AvailableEndpoints.read_endpoints(str(Path("endpoints.yml").resolve()))
    domain = Domain.empty()
    broker = await EventBroker.create(endpoints.event_broker)
    store = TrackerStore.create(endpoints.tracker_store, domain=domain, event_broker=broker)
    tracker = DialogueStateTracker.from_events(
        "sender-1",
        [
            ActionExecuted("action_listen"),
            UserUttered("hello", {"name": "greet", "confidence": 1.0}),
            BotUttered("Hi!"),
            ActionExecuted("action_listen"),
        ],
    )
    await store.save(tracker)
    # a second turn, then a new session: only the new events are stored and published
    for later in (
        UserUttered("bye", {"name": "goodbye", "confidence": 0.9}),
        BotUttered("Goodbye!"),
        ActionExecuted("action_listen"),
    ):
        tracker.update(later)
    await store.save(tracker)
    for later in (
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ):
        tracker.update(later)
    await store.save(tracker)
    again = await store.retrieve("sender-1")
    out: dict[str, Any] = {
        "broker": type(broker).__name__,
        "tracker_store": type(getattr(store, "_tracker_store", store)).__name__,
        "retrieved_events": len(again.events) if again else 0,
    }
    for name in ("tracker", "events"):
        with sqlite3.connect(folder / f"{name}.db") as connection:
            out[f"{name}_journal"] = connection.execute("PRAGMA journal_mode").fetchone()[0]
    with sqlite3.connect(folder / "events.db") as connection:
        out["published"] = connection.execute("SELECT count(*) FROM events").fetchone()[0]
    out["same_as_rasa"] = await _same_as_rasa(folder, tracker.events, out)
    out["broker_synchronous"] = _synchronous(broker)
    out["tracker_synchronous"] = _synchronous(getattr(store, "_tracker_store", store))
    return out


async def _same_as_rasa(folder: Path, events: Any, out: dict[str, Any]) -> bool:
    """Whether Rasa's own classes, saving the same turns, write the same rows."""
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    plain = folder / "plain"
    plain.mkdir()
    broker = SQLEventBroker(db=str(plain / "events.db"))
    store = SQLTrackerStore(Domain.empty(), db=str(plain / "tracker.db"), event_broker=broker)
    tracker = DialogueStateTracker("sender-1", [])
    for count, event in enumerate(events, start=1):
        tracker.update(event)
        if count in (4, 7, len(events)):  # the three saves of ``check``
            await store.save(tracker)
    same = True
    for name, query in (
        ("tracker", "SELECT sender_id, type_name, intent_name, action_name, data FROM events"),
        ("events", "SELECT sender_id, data FROM events"),
    ):
        rows = []
        for where in (folder, plain):
            with sqlite3.connect(where / f"{name}.db") as connection:
                rows.append(connection.execute(f"{query} ORDER BY id").fetchall())
        out[f"{name}_rows"] = len(rows[0])
        same = same and rows[0] == rows[1]
    return same


def _synchronous(component: Any) -> int:
    """The ``synchronous`` setting of a new connection of the component's engine."""
    with component.engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA synchronous").scalar())


def main() -> int:
    """Print the report of :func:`check` as one JSON line."""
    print(json.dumps(asyncio.run(check(Path(sys.argv[1])))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
