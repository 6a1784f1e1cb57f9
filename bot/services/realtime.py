"""Live push to a customer's open chat: events stored in order, streamed to whoever listens.

:meth:`RealtimeHub.publish` stores an event (its row id is the event id) and wakes the
streams of that conversation in this process at once; streams also look at the database
every ``poll_seconds``, so an event published by another replica (or another thread) arrives
too. :meth:`RealtimeHub.stream` yields the events after the id a client resumes from, so a
reconnect neither loses nor repeats one.

With Redis (:class:`RedisFanout`), each stored event is also announced on one Redis channel
(``<prefix>realtime``, the conversation id and event id, never the payload); every replica
subscribes and wakes its own streams of that conversation, which read the event from the
database as usual. So the replica that holds a browser's connection sends an event another
replica stored at once, not at its next poll. The database stays the source of the events:
an announcement lost while Redis is down only delays the event until the next poll, and the
subscriber reconnects by itself with a backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from channels.base import Undeliverable
from core.logging import sender_ref
from core.messages import OutgoingMessage
from core.redis import RedisConnection, RedisUnavailable
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

    def __init__(
        self,
        engine: Engine,
        poll_seconds: float = POLL_SECONDS,
        fanout: RedisFanout | None = None,
    ) -> None:
        """Keep events in ``engine``'s ``conversation_events``; poll it every ``poll_seconds``.

        ``fanout`` announces stored events to the other replicas (and wakes this one's
        streams for theirs); without it only this process and the poll see them.
        """
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.fanout = fanout
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._lock = threading.Lock()
        if fanout is not None:
            fanout.wake = self._wake

    def _store(self, conversation_id: str, kind: str, payload: dict[str, Any]) -> int:
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

    def append(self, conversation_id: str, kind: str, payload: dict[str, Any]) -> int:
        """Store one event and return its id (blocking; from any thread).

        The announcement to other replicas is sent on the fan-out's event loop.
        """
        event_id = self._store(conversation_id, kind, payload)
        if self.fanout is not None:
            self.fanout.announce_soon(conversation_id, event_id)
        return event_id

    async def publish(self, conversation_id: str, kind: str, payload: dict[str, Any]) -> int:
        """Store one event, wake its streams here and on the other replicas; return its id."""
        event_id = await asyncio.to_thread(self._store, conversation_id, kind, payload)
        if self.fanout is not None:
            await self.fanout.announce(conversation_id, event_id)
        return event_id

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


class RedisFanout:
    """Announces stored events on a Redis channel and wakes this replica's streams for others'.

    :meth:`start` begins the subscriber (in the gateway's lifespan), :meth:`stop` ends it.
    Announcements carry this replica's id so its own are not handled twice.
    """

    def __init__(
        self,
        redis: RedisConnection,
        prefix: str = "concierge:",
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 5.0,
    ) -> None:
        """Announce on ``<prefix>realtime`` through ``redis``; resubscribe with a backoff."""
        self.redis = redis
        self.channel = f"{prefix}realtime"
        self.origin = uuid.uuid4().hex
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.wake: Callable[[str], None] = lambda conversation_id: None
        """Wakes this process's streams of a conversation (set by :class:`RealtimeHub`)."""
        self.subscribed = asyncio.Event()
        """Set while the subscriber is connected (tests wait for it)."""
        self.received = 0
        """Announcements of other replicas handled."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start the subscriber on the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._listen_forever(), name="realtime-fanout")

    async def stop(self) -> None:
        """Stop the subscriber and wait for announcements still being sent."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def _message(self, conversation_id: str, event_id: int) -> str:
        return json.dumps({"c": conversation_id, "id": event_id, "o": self.origin})

    async def announce(self, conversation_id: str, event_id: int) -> None:
        """Publish that ``conversation_id`` has event ``event_id`` (skipped if Redis is down).

        From another event loop than the gateway's (a script, a test), it is scheduled on
        the gateway's loop instead: the Redis client belongs to that loop.
        """
        if self._loop is not None and asyncio.get_running_loop() is not self._loop:
            self.announce_soon(conversation_id, event_id)
            return
        message = self._message(conversation_id, event_id)
        try:
            await self.redis.run(lambda client: client.publish(self.channel, message))
        except RedisUnavailable:
            logger.debug("realtime.fanout.skipped id=%d", event_id)

    def announce_soon(self, conversation_id: str, event_id: int) -> None:
        """Schedule :meth:`announce` on the subscriber's loop (callable from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def schedule() -> None:
            task = loop.create_task(self.announce(conversation_id, event_id))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(schedule)

    def handle(self, data: bytes | str) -> None:
        """Wake the streams of the conversation another replica announced an event for."""
        try:
            message = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            logger.warning("realtime.fanout.unreadable")
            return
        if not isinstance(message, dict) or message.get("o") == self.origin:
            return
        conversation_id = message.get("c")
        if isinstance(conversation_id, str) and conversation_id:
            self.received += 1
            self.wake(conversation_id)

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                self.redis.mark_answered()
                self.subscribed.set()
                if failures:
                    logger.info("realtime.fanout.resubscribed after_failures=%d", failures)
                failures = 0
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        await pubsub.ping()  # a dead connection shows here, not as silence
                        continue
                    if message.get("type") == "message":
                        self.handle(message["data"])
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                failures += 1
                self.redis.mark_failed(error)
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
                if failures == 1:
                    logger.warning(
                        "realtime.fanout.disconnected error=%s retry_in=%.1fs",
                        type(error).__name__,
                        delay,
                    )
                await asyncio.sleep(delay)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
