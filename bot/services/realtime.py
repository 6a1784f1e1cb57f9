"""Live push to a customer's open chat: events stored in order, streamed to whoever listens.

:meth:`RealtimeHub.publish` stores an event (its row id is the event id) and wakes the
streams of that conversation in this process at once; streams also look at the database
every ``poll_seconds``, so an event published by another replica (or another thread) arrives
too. :meth:`RealtimeHub.stream` yields the events after the id a client resumes from, so a
reconnect neither loses nor repeats one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from channels.base import Undeliverable
from core.logging import sender_ref
from core.messages import OutgoingMessage
from core.storage import ConversationEvent, session_scope

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0
"""Longest wait before a stream looks at the database again."""
BATCH = 100
"""Most events read from the database at once."""


@dataclass(frozen=True)
class PushedEvent:
    """One stored event as a stream sends it."""

    id: int
    kind: str
    payload: dict[str, Any]


class RealtimeHub:
    """Stores and streams the events of every conversation; one per gateway process."""

    def __init__(self, engine: Engine, poll_seconds: float = POLL_SECONDS) -> None:
        """Keep events in ``engine``'s ``conversation_events``; poll it every ``poll_seconds``."""
        self.engine = engine
        self.poll_seconds = poll_seconds
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._lock = threading.Lock()

    def append(self, conversation_id: str, kind: str, payload: dict[str, Any]) -> int:
        """Store one event and return its id (blocking; :meth:`publish` runs it in a thread)."""
        with session_scope(self.engine) as session:
            row = ConversationEvent(conversation_id=conversation_id, kind=kind, payload=payload)
            session.add(row)
            session.flush()
            event_id = int(row.id)
        self._wake(conversation_id)
        logger.info(
            "realtime.event.stored sender=%s kind=%s id=%d",
            sender_ref(conversation_id),
            kind,
            event_id,
        )
        return event_id

    async def publish(self, conversation_id: str, kind: str, payload: dict[str, Any]) -> int:
        """Store one event and wake this conversation's streams; return the event id."""
        return await asyncio.to_thread(self.append, conversation_id, kind, payload)

    async def publish_messages(
        self, conversation_id: str, messages: Sequence[OutgoingMessage]
    ) -> None:
        """Push messages to show (the web channel's ``send``) as one ``message`` event.

        Raises :class:`Undeliverable` when the event cannot be stored.
        """
        payload = {"messages": [m.to_dict() for m in messages]}
        try:
            await self.publish(conversation_id, "message", payload)
        except SQLAlchemyError as error:
            logger.error("realtime.event.store_failed error=%s", type(error).__name__)
            raise Undeliverable("web", "the live push is unavailable") from error

    def events_after(self, conversation_id: str, after_id: int) -> list[PushedEvent]:
        """Return the conversation's events with an id above ``after_id``, oldest first."""
        with session_scope(self.engine) as session:
            rows = session.scalars(
                select(ConversationEvent)
                .where(
                    ConversationEvent.conversation_id == conversation_id,
                    ConversationEvent.id > after_id,
                )
                .order_by(ConversationEvent.id)
                .limit(BATCH)
            ).all()
            return [PushedEvent(int(r.id), r.kind, dict(r.payload or {})) for r in rows]

    def _wake(self, conversation_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(conversation_id, ()))
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def stream(
        self,
        conversation_id: str,
        after_id: int,
        stopped: Callable[[], Awaitable[bool]],
    ) -> AsyncIterator[PushedEvent]:
        """Yield the conversation's events after ``after_id``, then new ones as they come.

        Ends when ``stopped()`` says so (the client went away).
        """
        signal = asyncio.Event()
        waiter = (asyncio.get_running_loop(), signal)
        with self._lock:
            self._waiters.setdefault(conversation_id, set()).add(waiter)
        last = after_id
        try:
            while not await stopped():
                signal.clear()
                for event in await asyncio.to_thread(self.events_after, conversation_id, last):
                    last = event.id
                    yield event
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(signal.wait(), timeout=self.poll_seconds)
        finally:
            with self._lock:
                waiting = self._waiters.get(conversation_id, set())
                waiting.discard(waiter)
                if not waiting:
                    self._waiters.pop(conversation_id, None)
