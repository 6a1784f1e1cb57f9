"""Write conversations into Rasa's own SQL tracker store and SQL event broker (Rasa's code).

Run with Rasa's interpreter (``.venv-rasa/bin/python``; the app's has no Rasa):
``python rasa_writer.py '{"tracker": path, "broker": path, "conversations": {...}}'`` where
each conversation is a list of ``["user", text]``, ``["bot", text]`` or ``[slot, value]``.
"""

import asyncio
import json
import sys

from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


async def write(spec: dict) -> None:  # type: ignore[type-arg]
    """Save each conversation as a tracker and publish its events to the broker."""
    store = SQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=spec["tracker"])
    broker = SQLEventBroker(dialect="sqlite", db=spec["broker"])
    for sender, turns in spec["conversations"].items():
        events = [ActionExecuted("action_session_start")]
        for kind, value in turns:
            if kind == "user":
                events.append(UserUttered(value, {"name": "inform", "confidence": 0.9}))
            elif kind == "bot":
                events.append(BotUttered(value))
            else:
                events.append(SlotSet(kind, value))
        await store.save(DialogueStateTracker.from_events(sender, events))
        for event in events:
            broker.publish({"sender_id": sender, **event.as_dict()})


if __name__ == "__main__":
    asyncio.run(write(json.loads(sys.argv[1])))
