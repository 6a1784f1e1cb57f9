"""Small helpers the actions share: who is talking, on which channel, and what they said."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

TRANSCRIPT_TURNS = 20
AFFIRMATION_ACTION = "action_default_ask_affirmation"


def channel_of(tracker: Tracker) -> str:
    """Return the customer's channel (``web``, ``telegram``, ``rest``...)."""
    metadata = tracker.latest_message.get("metadata") or {}
    channel = metadata.get("channel") if isinstance(metadata, dict) else None
    return str(channel or tracker.get_latest_input_channel() or "unknown")


def latest_text(tracker: Tracker) -> str:
    """Return the text of the customer's latest message ('' for button payloads)."""
    text = str(tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


def latest_intent(tracker: Tracker) -> str | None:
    """Return the name of the latest intent."""
    intent = tracker.latest_message.get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return str(name) if name else None


def confirmed_question(tracker: Tracker) -> str | None:
    """Return the text the customer confirmed through the fallback's "Did you mean...?".

    Rasa replays the confirmation button's payload as the message, so the question itself
    is the last text the customer typed before the affirmation was asked.
    """
    affirmation_seen = False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == AFFIRMATION_ACTION:
            affirmation_seen = True
        elif event.get("event") == "user":
            text = str(event.get("text") or "").strip()
            if text and not text.startswith("/"):
                return text if affirmation_seen else None
    return None


def previous_customer_text(tracker: Tracker) -> str | None:
    """Return the last message the customer typed before the latest one (not a button)."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if not seen_latest:
            seen_latest = True
            continue
        text = str(event.get("text") or "").strip()
        if text and not text.startswith("/"):
            return text
    return None


def transcript(tracker: Tracker, turns: int = TRANSCRIPT_TURNS) -> list[dict[str, Any]]:
    """Return the last ``turns`` messages of the conversation as ``{"from", "text"}`` items."""
    lines: list[dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind in {"user", "bot"} and event.get("text"):
            lines.append({"from": "customer" if kind == "user" else "bot", "text": event["text"]})
    return lines[-turns:]


class _KeepUnknown(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def domain_text(domain: DomainDict, response: str, **values: str) -> str | None:
    """Return the text of ``response`` in the domain, ``{variables}`` filled (None if absent).

    For words an action needs inside a message it builds itself (a button's title), so
    that they are edited and translated in ``domain.yml`` like every other response.
    """
    variations = (domain.get("responses") or {}).get(response) or []
    text = variations[0].get("text") if variations and isinstance(variations[0], dict) else None
    if not isinstance(text, str):
        return None
    return text.format_map(_KeepUnknown(values))
