"""The app's own copy of Rasa's event stream (``app_events``) and the feed's cursors.

The worker copies each event Rasa's event broker publishes into ``app_events``; analytics and
the console read this table, never Rasa's tracker store. An event's ``event_key`` is a hash of
its conversation id and its canonical JSON, so copying the same event twice (a replayed batch,
a restarted worker, a redelivered queue message) inserts nothing the second time.
``event_feed_cursors`` remembers, per source, how far the feed has read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Double, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.storage.models import Base, utcnow

TEXT_EVENTS = frozenset({"user", "bot"})
"""Rasa events whose ``text`` is a turn of the conversation."""
MAX_NAME = 128
MAX_TYPE = 32
MAX_CHANNEL = 32
MAX_CONVERSATION_ID = 255


class AppEvent(Base):
    """One event of one conversation, as Rasa published it."""

    __tablename__ = "app_events"
    __table_args__ = (
        Index("ix_app_events_conversation_id_timestamp", "conversation_id", "timestamp"),
        Index("ix_app_events_timestamp", "timestamp"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the conversation id and the event's canonical JSON."""
    conversation_id: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The channel of the conversation's latest ``user`` event (carried to later events)."""
    type: Mapped[str] = mapped_column(String(32))
    """Rasa's event name: ``user``, ``bot``, ``action``, ``slot``, ``session_started``..."""
    name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    """The intent of a ``user`` event, the action of an ``action`` event, a slot's name."""
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Double, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The whole event as Rasa published it."""
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventFeedCursor(Base):
    """How far the feed has read one source (the broker table's last id, a queue's tag)."""

    __tablename__ = "event_feed_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventError(ValueError):
    """A published event that cannot be stored (no conversation id, no event name)."""


def canonical_json(event: Mapping[str, Any]) -> str:
    """Return ``event`` as JSON with sorted keys and no spaces: the same bytes every time."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_key(conversation_id: str, event: Mapping[str, Any]) -> str:
    """Return the idempotency key of ``event`` in ``conversation_id`` (64 hex characters)."""
    digest = hashlib.sha256()
    digest.update(conversation_id.encode())
    digest.update(b"\x00")
    digest.update(canonical_json(event).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class IncomingEvent:
    """One event as read from the broker, checked and split into the table's columns."""

    event_key: str
    conversation_id: str
    type: str
    name: str | None
    text: str | None
    confidence: float | None
    timestamp: datetime
    input_channel: str | None
    data: dict[str, Any]


def _short(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def _confidence(event: Mapping[str, Any]) -> float | None:
    parse = event.get("parse_data")
    intent = parse.get("intent") if isinstance(parse, Mapping) else None
    value = intent.get("confidence") if isinstance(intent, Mapping) else event.get("confidence")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _name(event: Mapping[str, Any], kind: str) -> str | None:
    if kind == "user":
        parse = event.get("parse_data")
        intent = parse.get("intent") if isinstance(parse, Mapping) else None
        return _short(intent.get("name") if isinstance(intent, Mapping) else None, MAX_NAME)
    return _short(event.get("name"), MAX_NAME)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return utcnow()
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        return utcnow()


def _channel(event: Mapping[str, Any]) -> str | None:
    """Return the gateway's channel (``metadata.channel``), else Rasa's ``input_channel``.

    The gateway reaches Rasa through its REST webhook, so Rasa's ``input_channel`` is ``rest``
    for every conversation; the gateway names the customer's channel in the metadata.
    """
    metadata = event.get("metadata")
    named = metadata.get("channel") if isinstance(metadata, Mapping) else None
    return _short(named, MAX_CHANNEL) or _short(event.get("input_channel"), MAX_CHANNEL)


def parse_event(body: Mapping[str, Any]) -> IncomingEvent:
    """Check one published event (Rasa's ``event.as_dict()`` plus ``sender_id``).

    Raises :class:`EventError` for a body that is not an event of a conversation.
    """
    conversation_id = body.get("sender_id")
    kind = body.get("event")
    if not isinstance(conversation_id, str) or not conversation_id:
        raise EventError("the event has no sender_id")
    if len(conversation_id) > MAX_CONVERSATION_ID:
        raise EventError("the event's sender_id is longer than 255 characters")
    if not isinstance(kind, str) or not kind:
        raise EventError("the event has no event name")
    event = {key: value for key, value in body.items() if key != "sender_id"}
    text = body.get("text") if kind in TEXT_EVENTS else None
    return IncomingEvent(
        event_key=event_key(conversation_id, event),
        conversation_id=conversation_id,
        type=kind[:MAX_TYPE],
        name=_name(body, kind),
        text=text if isinstance(text, str) else None,
        confidence=_confidence(body) if kind == "user" else None,
        timestamp=_timestamp(body.get("timestamp")),
        input_channel=_channel(body) if kind == "user" else None,
        data=event,
    )


def known_channels(session: Session, conversation_ids: Iterable[str]) -> dict[str, str]:
    """Return the latest stored channel of each of ``conversation_ids`` that has one."""
    ids = sorted(set(conversation_ids))
    found: dict[str, str] = {}
    if not ids:
        return found
    rows = session.execute(
        select(AppEvent.conversation_id, AppEvent.channel)
        .where(AppEvent.conversation_id.in_(ids), AppEvent.channel.is_not(None))
        .order_by(AppEvent.id)
    )
    for conversation_id, channel in rows:
        if channel:
            found[conversation_id] = channel
    return found


def store_events(session: Session, events: Sequence[IncomingEvent]) -> int:
    """Insert the events not stored yet, in order; return how many were inserted.

    The channel of a ``user`` event is its ``input_channel``; every other event takes the
    conversation's latest channel (from this batch or from the table). Runs in the caller's
    transaction, so a cursor saved in the same one moves only if the rows commit.
    """
    if not events:
        return 0
    keys = [event.event_key for event in events]
    stored = set(session.scalars(select(AppEvent.event_key).where(AppEvent.event_key.in_(keys))))
    channels = known_channels(session, (event.conversation_id for event in events))
    inserted = 0
    now = utcnow()
    for event in events:
        if event.input_channel:
            channels[event.conversation_id] = event.input_channel
        if event.event_key in stored:
            continue
        stored.add(event.event_key)
        session.add(
            AppEvent(
                event_key=event.event_key,
                conversation_id=event.conversation_id,
                channel=channels.get(event.conversation_id),
                type=event.type,
                name=event.name,
                text=event.text,
                confidence=event.confidence,
                timestamp=event.timestamp,
                data=event.data,
                recorded_at=now,
            )
        )
        inserted += 1
    session.flush()
    return inserted


def cursor_position(session: Session, source: str) -> str | None:
    """Return how far ``source`` has been read, or None before the first batch."""
    cursor = session.get(EventFeedCursor, source)
    return cursor.position if cursor is not None else None


def save_cursor(session: Session, source: str, position: str) -> None:
    """Remember ``position`` for ``source`` (in the caller's transaction)."""
    cursor = session.get(EventFeedCursor, source)
    if cursor is None:
        session.add(EventFeedCursor(source=source, position=position, updated_at=utcnow()))
    else:
        cursor.position = position
        cursor.updated_at = utcnow()
    session.flush()
