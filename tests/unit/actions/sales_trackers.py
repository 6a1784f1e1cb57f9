"""Trackers for the sales action tests: a conversation state built from slots and a message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def sales_tracker(
    text: str = "",
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    requested: str | None = None,
    events: list[dict[str, Any]] | None = None,
    sender: str = "conv-sales-1",
) -> Tracker:
    """Return a tracker whose latest message is ``text`` with ``intent``, mid-form if asked."""
    all_slots: dict[str, Any] = {"requested_slot": requested, **(slots or {})}
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "metadata": {"channel": "web"},
    }
    history = events if events is not None else []
    history = [
        *history,
        {
            "event": "user",
            "text": text,
            "timestamp": 1_780_000_000.0,
            "parse_data": {"intent": message["intent"], "entities": message["entities"]},
        },
    ]
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": all_slots,
            "latest_message": message,
            "events": history,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )
