"""Rasa's SQL tracker store, saving a turn without rebuilding the stored tracker first.

Rasa 3.6's ``SQLTrackerStore.save`` with an event broker first retrieves the conversation
and rebuilds a whole tracker from its stored events (``TrackerStore.stream_events``), only
to learn how many of its events are new, publishes those, then counts the stored events
again to insert the same new ones. :class:`SQLTrackerStore` counts once (the query Rasa
itself uses for what to insert), publishes the new events (in one batch when the broker has
``publish_many``, else one by one as Rasa does) and inserts them: the same rows and the same
published events, in the same order, without the rebuild. The caller holds the
conversation's lock, as for Rasa's own ``save``.

Used by ``endpoints.production.yml`` (PostgreSQL); ``rasa_addons.sqlite`` builds the
embedded default's SQLite store on it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

INTENT_NAME_KEY = "name"


class SQLTrackerStore(RasaSQLTrackerStore):  # type: ignore[misc]
    """Rasa's SQL tracker store; a save counts the stored events once and rebuilds nothing."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Publish and store the tracker's new events (Rasa's ``save`` without the rebuild).

        Rasa's ``save`` streams to the broker the events a freshly retrieved tracker lacks,
        then inserts the events beyond the stored count: both are the events after the
        number already stored in the current session, which is counted here once.
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
