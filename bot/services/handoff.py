"""Human takeover, one state machine for every channel: bot, waiting, person active, back, closed.

- **Trigger**: the action server records a ``handoff_requests`` row when the customer asks
  for a person (or the fallback hands over) and marks its reply ``custom.kind ==
  "handoff_requested"``; after a turn with that reply :meth:`HandoffService.after_turn` turns
  the row into a ``waiting`` handoff (other turns never read the table). A request whose
  turn never answered the gateway (Rasa timed out, a 500) is opened by the periodic sweep
  (:meth:`HandoffService.open_orphaned_requests`) once it is older than a grace period.
  Outside business hours no handoff opens: the customer is told when people answer and
  offered to leave a message (the domain's ``/leave_email`` flow, which records a ticket).
- **Gate**: while a handoff is ``waiting`` or ``active`` the customer's messages never reach
  Rasa's NLU. :meth:`HandoffService.gate` appends each one to the conversation's Rasa tracker
  as a ``user`` event (``POST /conversations/{id}/tracker/events``) and the bot says nothing;
  agents' replies are appended as ``bot`` events, so the tracker keeps one history and the
  bot knows what was said once it takes over again. A customer who waited longer than
  ``handoff_max_wait_seconds`` is handed back to the bot with the same offer.
- **Transitions** are conditional updates on the state they leave (two agents claiming at
  once: one row changes, the other gets :class:`HandoffConflict`), each stored with who and
  when in ``handoff_transitions``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.rasa_client import RasaClient, RasaUnavailable
from bot.services.business_hours import BusinessHours
from bot.services.realtime import RealtimeHub
from channels.base import Channel, Undeliverable
from channels.telegram import RepReply, TelegramChannel
from core.config import Settings
from core.logging import sender_ref
from core.messages import HANDOFF_REQUESTED, Button, IncomingMessage, OutgoingMessage
from core.storage import HandoffRequest, session_scope
from core.storage.handoff import (
    ACTIVE,
    CLOSED,
    OPEN_STATES,
    RETURNED,
    WAITING,
    Handoff,
    HandoffThread,
    HandoffTransition,
)
from core.storage.models import Lead, as_utc, utcnow

logger = logging.getLogger(__name__)

CUSTOMER_TURN_INTENT = "handoff_customer_turn"
"""Intent name on the ``user`` events of human turns (outside the domain: no policy reads it)."""
LEAVE_MESSAGE = Button("Leave my email", "/leave_email")
"""The offer to leave a message: the domain's contact flow, which records a ticket."""
SWEEP_SECONDS = 10.0
"""How often the gateway looks for handoffs nobody claimed in time."""
HOT_GRADE = "hot"
"""Lead grade whose conversations go first in the queue."""
REQUEST_OPEN = "open"
REQUEST_QUEUED = "queued"
REQUEST_AFTER_HOURS = "after_hours"
MIN_ORPHAN_GRACE_SECONDS = 30.0
"""Shortest age of an open request before the sweep takes it from the turn that recorded it."""
ORPHANS_PER_SWEEP = 100
"""Most orphaned requests one sweep reads (their conversations; the next sweep reads on)."""


def asked_for_person(messages: Sequence[OutgoingMessage]) -> bool:
    """Return whether one of Rasa's replies says the turn recorded a request for a person."""
    return any(m.custom.get("kind") == HANDOFF_REQUESTED for m in messages)


class HandoffError(Exception):
    """A handoff operation that cannot be done; ``status`` is the HTTP answer."""

    status = 400


class HandoffNotFound(HandoffError):
    """No handoff with that id."""

    status = 404


class HandoffConflict(HandoffError):
    """The handoff is not in a state that allows this (already claimed, closed...)."""

    status = 409


@dataclass(frozen=True)
class HandoffView:
    """A handoff as the queue and the console show it."""

    id: str
    conversation_id: str
    channel: str
    state: str
    reason: str
    summary: str | None
    agent_email: str | None
    created_at: datetime
    updated_at: datetime
    lead_score: int | None = None
    lead_grade: str | None = None

    def wait_seconds(self, now: datetime) -> int:
        """Return how long the customer has waited (since the handoff opened)."""
        return max(0, int((now - as_utc(self.created_at)).total_seconds()))


@dataclass(frozen=True)
class TransitionView:
    """One stored transition."""

    from_state: str | None
    to_state: str
    actor: str
    at: datetime


def _view(row: Handoff, lead: Lead | None = None) -> HandoffView:
    return HandoffView(
        id=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        state=row.state,
        reason=row.reason,
        summary=row.summary,
        agent_email=row.agent_email,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        lead_score=lead.score if lead is not None else None,
        lead_grade=lead.grade if lead is not None else None,
    )


class HandoffStore:
    """The handoff tables; every method is blocking (the service runs them in threads)."""

    def __init__(self, engine: Engine) -> None:
        """Keep handoffs in ``engine``'s database."""
        self.engine = engine

    def open_for(self, conversation_id: str) -> HandoffView | None:
        """Return the conversation's open (waiting or active) handoff, if any."""
        with session_scope(self.engine) as session:
            row = session.scalars(
                select(Handoff).where(
                    Handoff.conversation_id == conversation_id, Handoff.state.in_(OPEN_STATES)
                )
            ).first()
            return _view(row) if row is not None else None

    def get(self, handoff_id: str) -> HandoffView:
        """Return one handoff or raise :class:`HandoffNotFound`."""
        with session_scope(self.engine) as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound("no handoff with this id")
            lead = self._lead(session, row.conversation_id)
            return _view(row, lead)

    def _lead(self, session: Any, conversation_id: str) -> Lead | None:
        lead: Lead | None = session.scalars(
            select(Lead).where(Lead.conversation_id == conversation_id)
        ).first()
        return lead

    def open(
        self,
        conversation_id: str,
        channel: str,
        reason: str,
        summary: str | None,
        actor: str,
        request_id: str | None = None,
        *,
        retried: bool = False,
    ) -> tuple[HandoffView, bool]:
        """Open a waiting handoff; return it and whether it is new (an open one is kept)."""
        now = utcnow()
        try:
            with session_scope(self.engine) as session:
                row = Handoff(
                    conversation_id=conversation_id,
                    channel=channel,
                    state=WAITING,
                    reason=reason,
                    summary=summary,
                    request_id=request_id,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                session.add(
                    HandoffTransition(
                        handoff_id=row.id, from_state=None, to_state=WAITING, actor=actor, at=now
                    )
                )
                view = _view(row)
        except IntegrityError:
            existing = self.open_for(conversation_id)
            if existing is None:
                if retried:
                    raise
                # the open one ended between the two statements: try once more
                return self.open(
                    conversation_id, channel, reason, summary, actor, request_id, retried=True
                )
            return existing, False
        return view, True

    def transition(
        self,
        handoff_id: str,
        from_states: Sequence[str],
        to_state: str,
        actor: str,
        *,
        agent: tuple[str, str] | None = None,
        only_agent: str | None = None,
    ) -> HandoffView:
        """Move a handoff from one of ``from_states`` to ``to_state``, or raise a conflict.

        One conditional ``UPDATE``: of two concurrent calls leaving the same state, exactly
        one changes the row. ``agent`` (id, email) is recorded as the one answering;
        ``only_agent`` limits the change to the agent who claimed it.
        """
        now = utcnow()
        with session_scope(self.engine) as session:
            before = session.get(Handoff, handoff_id)
            if before is None:
                raise HandoffNotFound("no handoff with this id")
            previous = before.state
            values: dict[str, Any] = {"state": to_state, "updated_at": now}
            if agent is not None:
                values.update(agent_id=agent[0], agent_email=agent[1])
            statement = update(Handoff).where(
                Handoff.id == handoff_id,
                Handoff.state == previous,
                Handoff.state.in_(from_states),
            )
            if only_agent is not None:
                statement = statement.where(Handoff.agent_id == only_agent)
            changed = session.execute(statement.values(**values)).rowcount  # type: ignore[attr-defined]
            if changed != 1:
                session.rollback()
                current = self.get(handoff_id)
                raise HandoffConflict(self._conflict(current, to_state, only_agent))
            session.add(
                HandoffTransition(
                    handoff_id=handoff_id,
                    from_state=previous,
                    to_state=to_state,
                    actor=actor,
                    at=now,
                )
            )
        return self.get(handoff_id)

    def _conflict(self, current: HandoffView, to_state: str, only_agent: str | None) -> str:
        if current.state == ACTIVE and to_state == ACTIVE:
            return f"already claimed by {current.agent_email}"
        if only_agent is not None and current.state == ACTIVE:
            return f"this conversation is claimed by {current.agent_email}"
        return f"the handoff is {current.state}, it cannot become {to_state}"

    def queue(self) -> list[HandoffView]:
        """Return the open handoffs: hot leads first, then the longest waiting first."""
        with session_scope(self.engine) as session:
            rows = session.scalars(
                select(Handoff).where(Handoff.state.in_(OPEN_STATES)).order_by(Handoff.created_at)
            ).all()
            views = [_view(r, self._lead(session, r.conversation_id)) for r in rows]
        return sorted(views, key=lambda v: v.lead_grade != HOT_GRADE)  # stable: keeps the wait

    def transitions(self, handoff_id: str) -> list[TransitionView]:
        """Return a handoff's transitions, oldest first."""
        with session_scope(self.engine) as session:
            rows = session.scalars(
                select(HandoffTransition)
                .where(HandoffTransition.handoff_id == handoff_id)
                .order_by(HandoffTransition.id)
            ).all()
            return [TransitionView(r.from_state, r.to_state, r.actor, as_utc(r.at)) for r in rows]

    def add_thread(self, handoff_id: str, chat_id: int, message_id: int) -> None:
        """Remember the reps' group message about a handoff."""
        with session_scope(self.engine) as session:
            session.add(
                HandoffThread(handoff_id=handoff_id, chat_id=chat_id, message_id=message_id)
            )

    def thread_handoff(self, chat_id: int, message_id: int) -> str | None:
        """Return the handoff a reps' group message is about, if any."""
        with session_scope(self.engine) as session:
            found: str | None = session.scalars(
                select(HandoffThread.handoff_id).where(
                    HandoffThread.chat_id == chat_id, HandoffThread.message_id == message_id
                )
            ).first()
            return found

    def take_requests(self, conversation_id: str, status: str) -> list[HandoffRequest]:
        """Claim the conversation's open handoff requests: mark them ``status``, return them.

        One conditional ``UPDATE ... WHERE status = 'open' RETURNING``: of two callers (a
        turn and the sweep, or the sweeps of two replicas) only one gets each row. On
        PostgreSQL the second waits for the first's row locks, finds the rows no longer
        open and changes none; SQLite runs one writer at a time. Oldest first.
        """
        with session_scope(self.engine) as session:
            rows = list(
                session.scalars(
                    update(HandoffRequest)
                    .where(
                        HandoffRequest.sender_id == conversation_id,
                        HandoffRequest.status == REQUEST_OPEN,
                    )
                    .values(status=status)
                    .returning(HandoffRequest),
                    execution_options={"synchronize_session": False},
                ).all()
            )
            session.expunge_all()
        return sorted(rows, key=lambda r: (as_utc(r.created_at), r.id))

    def orphaned_requests(self, before: datetime, limit: int = ORPHANS_PER_SWEEP) -> dict[str, str]:
        """Return the conversations with requests still open since ``before``, with the channel.

        Each conversation once (oldest request first), with the channel of its latest one.
        """
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(HandoffRequest.sender_id, HandoffRequest.channel)
                .where(HandoffRequest.status == REQUEST_OPEN, HandoffRequest.created_at < before)
                .order_by(HandoffRequest.created_at, HandoffRequest.id)
                .limit(limit)
            ).all()
        found: dict[str, str] = {}
        for sender_id, channel in rows:
            found[sender_id] = channel
        return found


class TrackerEvents:
    """Appends events to a conversation's Rasa tracker through Rasa's HTTP API.

    It goes through the gateway's :class:`~bot.rasa_client.RasaClient`, so with several
    replicas (a :class:`~bot.rasa_pool.RasaPool`) appends are balanced and skip a replica
    that refuses connections, like chat turns.
    """

    def __init__(self, rasa: RasaClient) -> None:
        """Append through ``rasa`` (its URL or replicas, ``--auth-token`` and time budget)."""
        self.rasa = rasa

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Append ``events``; raise :class:`RasaUnavailable` when Rasa does not take them."""
        await self.rasa.append_events(conversation_id, events)


def customer_event(incoming: IncomingMessage, handoff_id: str) -> list[dict[str, Any]]:
    """Return the tracker events of one customer message during a handoff."""
    now = time.time()
    return [
        {
            "event": "user",
            "timestamp": now,
            "text": incoming.text,
            "parse_data": {
                "text": incoming.text,
                "intent": {"name": CUSTOMER_TURN_INTENT, "confidence": 1.0},
                "entities": [],
            },
            "input_channel": incoming.channel,
            "metadata": {"handoff": handoff_id},
        },
        {"event": "action", "timestamp": now, "name": "action_listen"},
    ]


def bot_event(message: OutgoingMessage, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Return the tracker's ``bot`` event of a message the customer is shown."""
    buttons = [b.to_dict() for b in message.buttons] or None
    return {
        "event": "bot",
        "timestamp": time.time(),
        "text": message.text,
        "data": {"buttons": buttons, "custom": message.custom or None},
        "metadata": dict(metadata),
    }


@dataclass(frozen=True)
class Agent:
    """The staff member acting."""

    id: str
    email: str

    @property
    def actor(self) -> str:
        """Return how transitions name this agent."""
        return f"agent:{self.email}"


class HandoffService:
    """The handoff state machine with its side effects: tracker, customer, notices."""

    def __init__(
        self,
        store: HandoffStore,
        tracker: TrackerEvents,
        channels: Mapping[str, Channel],
        hours: BusinessHours,
        max_wait_seconds: int = 300,
        realtime: RealtimeHub | None = None,
        rep_group: TelegramChannel | None = None,
        orphan_grace_seconds: float = MIN_ORPHAN_GRACE_SECONDS,
    ) -> None:
        """Keep handoffs in ``store``, turns in ``tracker``; reach customers by ``channels``.

        ``rep_group`` is the Telegram bot whose ``agent_chat_id`` group hears of new handoffs.
        ``orphan_grace_seconds`` is how old an open request must be before the sweep opens
        it: longer than a turn can take, so the turn that recorded it acts on it first.
        """
        self.store = store
        self.tracker = tracker
        self.channels = channels
        self.hours = hours
        self.max_wait = timedelta(seconds=max_wait_seconds)
        self.orphan_grace = timedelta(seconds=orphan_grace_seconds)
        self.realtime = realtime
        self.rep_group = rep_group if rep_group and rep_group.agent_chat_id is not None else None

    # --- the customer side ------------------------------------------------------------------

    async def gate(self, incoming: IncomingMessage) -> list[OutgoingMessage] | None:
        """Keep a message from Rasa's NLU while a person is waited for or answering.

        Returns None when the conversation is with the bot (the caller asks Rasa), else what
        to show the customer now (nothing while a person is there). Raises
        :class:`RasaUnavailable` when the message cannot be written to the tracker.
        """
        handoff = await asyncio.to_thread(self.store.open_for, incoming.sender_id)
        if handoff is None:
            return None
        await self.tracker.append(incoming.sender_id, customer_event(incoming, handoff.id))
        logger.info(
            "handoff.customer_turn sender=%s state=%s chars=%d",
            sender_ref(incoming.sender_id),
            handoff.state,
            len(incoming.text),
        )
        now = utcnow()
        if handoff.state == WAITING and now - handoff.created_at > self.max_wait:
            try:
                await asyncio.to_thread(
                    self.store.transition, handoff.id, [WAITING], RETURNED, "system"
                )
            except HandoffConflict:
                return []  # claimed in the meantime: the person answers
            return await self._offer_message(incoming.sender_id, now, waited=True)
        return []

    async def expire_waiting(self) -> int:
        """Hand back the handoffs nobody claimed in time, offering to take a message.

        Every replica may run this; the conditional update lets one of them act on each.
        Returns how many were handed back.
        """
        now = utcnow()
        expired = [
            v
            for v in await asyncio.to_thread(self.store.queue)
            if v.state == WAITING and now - v.created_at > self.max_wait
        ]
        done = 0
        for view in expired:
            try:
                await asyncio.to_thread(
                    self.store.transition, view.id, [WAITING], RETURNED, "system"
                )
            except HandoffConflict:
                continue  # claimed or handled meanwhile
            done += 1
            logger.info("handoff.expired sender=%s", sender_ref(view.conversation_id))
            try:
                offer = await self._offer_message(view.conversation_id, now, waited=True)
            except RasaUnavailable as error:
                logger.warning("handoff.tracker.unavailable reason=%s", error)
                offer = [self._offer(now, waited=True)]
            await self._deliver(view, offer)
        return done

    async def after_turn(self, incoming: IncomingMessage) -> list[OutgoingMessage]:
        """Open a handoff for a request the turn recorded; return extra messages to show.

        The conversation service calls it only after a turn whose replies carry
        ``custom.kind == "handoff_requested"`` (:func:`asked_for_person`).
        """
        now = utcnow()
        outcome = await self._take_requests(incoming.sender_id, incoming.channel, now)
        if outcome != REQUEST_AFTER_HOURS:
            return []
        return await self._offer_message(incoming.sender_id, now, waited=False)

    async def open_orphaned_requests(self) -> int:
        """Act on requests whose turn never reached the gateway, as :meth:`after_turn` would.

        A request still ``open`` after the grace period was recorded in a turn whose reply
        the gateway did not get (Rasa timed out, answered 500): within business hours its
        handoff opens (and the reps' group hears of it); outside them the customer's chat
        gets the offer to leave a message. Every replica may run this; taking the requests
        is the claim, so one of them acts on each. Returns how many conversations it acted on.
        """
        now = utcnow()
        orphans = await asyncio.to_thread(self.store.orphaned_requests, now - self.orphan_grace)
        done = 0
        for conversation_id, channel in orphans.items():
            outcome = await self._take_requests(conversation_id, channel, now)
            if outcome is None:
                continue  # a turn or another replica took them meanwhile
            done += 1
            logger.info(
                "handoff.orphan_taken sender=%s channel=%s outcome=%s",
                sender_ref(conversation_id),
                channel,
                outcome,
            )
            if outcome != REQUEST_AFTER_HOURS:
                continue
            try:
                offer = await self._offer_message(conversation_id, now, waited=False)
            except RasaUnavailable as error:
                logger.warning("handoff.tracker.unavailable reason=%s", error)
                offer = [self._offer(now, waited=False)]
            await self._send(conversation_id, channel, offer)
        return done

    async def _take_requests(self, conversation_id: str, channel: str, now: datetime) -> str | None:
        """Claim the conversation's open requests; within business hours open their handoff.

        Returns ``REQUEST_QUEUED`` (a handoff is waiting), ``REQUEST_AFTER_HOURS`` (the
        caller offers to leave a message) or None when there was no open request to take.
        """
        if not self.hours.is_open(now):
            taken = await asyncio.to_thread(
                self.store.take_requests, conversation_id, REQUEST_AFTER_HOURS
            )
            if not taken:
                return None
            logger.info("handoff.after_hours sender=%s", sender_ref(conversation_id))
            return REQUEST_AFTER_HOURS
        taken = await asyncio.to_thread(self.store.take_requests, conversation_id, REQUEST_QUEUED)
        if not taken:
            return None
        request = taken[-1]
        view, created = await asyncio.to_thread(
            self.store.open,
            conversation_id,
            channel,
            request.reason,
            request.last_message,
            "customer",
            request.id,
        )
        if created:
            logger.info(
                "handoff.opened sender=%s channel=%s reason=%s",
                sender_ref(conversation_id),
                channel,
                request.reason,
            )
            await self._announce(view)
        return REQUEST_QUEUED

    async def _announce(self, view: HandoffView) -> None:
        """Post a new handoff to the reps' Telegram group (when one is configured)."""
        if self.rep_group is None or self.rep_group.agent_chat_id is None:
            return
        chat_id = self.rep_group.agent_chat_id
        text = (
            f"A customer on {view.channel} asks for a person ({view.reason}).\n"
            f"They asked: {view.summary or '(nothing yet)'}\n\n"
            "Reply to this message to answer them (the first to reply takes the "
            "conversation); reply /handback to give it back to the bot, /close to end it."
        )
        try:
            message_id = await self.rep_group.post(chat_id, text)
            await asyncio.to_thread(self.store.add_thread, view.id, chat_id, message_id)
        except (Undeliverable, SQLAlchemyError) as error:
            logger.warning("handoff.rep_group.unannounced error=%s", type(error).__name__)

    async def rep_message(self, reply: RepReply) -> None:
        """Act on a rep's reply in the group: claim and answer, hand back or close."""
        if reply.thread_message_id is None or self.rep_group is None:
            return
        handoff_id = await asyncio.to_thread(
            self.store.thread_handoff, reply.chat_id, reply.thread_message_id
        )
        if handoff_id is None or not reply.text:
            return
        agent = Agent(id=f"tg{reply.user_id}", email=reply.rep)
        command = reply.text.split()[0].split("@")[0].lower()
        try:
            if command == "/handback":
                await self.handback(handoff_id, agent)
            elif command == "/close":
                await self.close(handoff_id, agent)
            else:
                view = await asyncio.to_thread(self.store.get, handoff_id)
                if view.state == WAITING:
                    await self.claim(handoff_id, agent)
                await self.reply(handoff_id, agent, reply.text)
        except HandoffError as error:
            await self._note(reply.chat_id, f"Not sent: {error}.")
        except RasaUnavailable:
            await self._note(reply.chat_id, "Not sent: the assistant is unavailable, try again.")

    async def _note(self, chat_id: int, text: str) -> None:
        if self.rep_group is None:
            return
        try:
            await self.rep_group.post(chat_id, text)
        except Undeliverable as error:
            logger.warning("handoff.rep_group.note_failed reason=%s", error.reason)

    async def _offer_message(
        self, conversation_id: str, now: datetime, *, waited: bool
    ) -> list[OutgoingMessage]:
        message = self._offer(now, waited=waited)
        # in the tracker too, so the button is an offer the payload guard lets through
        await self.tracker.append(conversation_id, [bot_event(message, {"handoff": "offer"})])
        return [message]

    def _offer(self, now: datetime, *, waited: bool) -> OutgoingMessage:
        """Return the message saying when people answer, with the offer to leave a message."""
        opening = self.hours.next_opening(now)
        first = (
            "Sorry, nobody from our team is free right now."
            if waited
            else "Our team is not available right now."
        )
        when = (
            "They will answer as soon as possible."
            if self.hours.is_open(now)
            else f"Someone will answer from {opening:%A %d %B, %H:%M} ({self.hours.zone.key})."
        )
        return OutgoingMessage(
            text=(
                f"{first} We answer chats {self.hours.describe()}. {when} "
                "You can leave a message with your email and we will get back to you."
            ),
            buttons=[LEAVE_MESSAGE],
            custom={"kind": "handoff_unavailable"},
        )

    # --- the agent side -----------------------------------------------------------------------

    async def request(
        self, conversation_id: str, channel: str, reason: str, summary: str | None, actor: str
    ) -> HandoffView:
        """Open a waiting handoff directly (a hot lead, a rep's choice)."""
        view, _ = await asyncio.to_thread(
            self.store.open, conversation_id, channel, reason, summary, actor
        )
        return view

    async def claim(self, handoff_id: str, agent: Agent) -> HandoffView:
        """Take a waiting conversation (one agent wins); the customer is told a person joined."""
        view = await asyncio.to_thread(
            self.store.transition,
            handoff_id,
            [WAITING],
            ACTIVE,
            agent.actor,
            agent=(agent.id, agent.email),
        )
        await self._tell(view, "A person from our team has joined the conversation.", "joined")
        return view

    async def reply(self, handoff_id: str, agent: Agent, text: str) -> HandoffView:
        """Send the agent's message to the customer and write it into the tracker."""
        view = await asyncio.to_thread(self.store.get, handoff_id)
        if view.state != ACTIVE or view.agent_email != agent.email:
            claimed = view.agent_email if view.state == ACTIVE else None
            raise HandoffConflict(
                f"this conversation is claimed by {claimed}"
                if claimed
                else f"claim the conversation first (it is {view.state})"
            )
        message = OutgoingMessage(text=text, custom={"kind": "agent", "agent": agent.email})
        await self.tracker.append(
            view.conversation_id, [bot_event(message, {"handoff": view.id, "agent": agent.email})]
        )
        await self._deliver(view, [message])
        return view

    async def handback(self, handoff_id: str, agent: Agent) -> HandoffView:
        """Give the conversation back to the bot; the customer is told."""
        view = await asyncio.to_thread(
            self.store.transition, handoff_id, [WAITING, ACTIVE], RETURNED, agent.actor
        )
        await self._tell(view, "You are back with the assistant. Ask me anything.", "left")
        return view

    async def close(self, handoff_id: str, agent: Agent) -> HandoffView:
        """End the handoff; the conversation is with the bot again."""
        view = await asyncio.to_thread(
            self.store.transition, handoff_id, [WAITING, ACTIVE], CLOSED, agent.actor
        )
        await self._tell(view, "This conversation with our team is closed. Thank you!", "left")
        return view

    async def _tell(self, view: HandoffView, text: str, notice: str) -> None:
        message = OutgoingMessage(text=text, custom={"kind": f"agent_{notice}"})
        try:
            await self.tracker.append(
                view.conversation_id, [bot_event(message, {"handoff": view.id})]
            )
        except RasaUnavailable as error:
            logger.warning("handoff.tracker.unavailable reason=%s", error)
        if self.realtime is not None and view.channel == "web":
            # the widget words these notices itself ("A person from our team has joined...")
            await self.realtime.publish(view.conversation_id, f"agent_{notice}", {})
            return
        await self._deliver(view, [message])

    async def _deliver(self, view: HandoffView, messages: list[OutgoingMessage]) -> None:
        await self._send(view.conversation_id, view.channel, messages)

    async def _send(
        self, conversation_id: str, channel_name: str, messages: list[OutgoingMessage]
    ) -> None:
        channel = self.channels.get(channel_name)
        who = f"channel={channel_name} sender={sender_ref(conversation_id)}"
        if channel is None:
            logger.warning("handoff.deliver.no_channel %s", who)
            return
        try:
            await channel.send(conversation_id, messages)
        except Undeliverable as error:
            logger.warning("handoff.deliver.undeliverable %s reason=%s", who, error.reason)


def handoff_service_for(
    settings: Settings,
    rasa: RasaClient,
    engine: Engine,
    channels: Mapping[str, Channel],
    realtime: RealtimeHub | None = None,
) -> HandoffService:
    """Build the service from the settings (raises ``HoursError`` on bad business hours).

    ``rasa`` is the process's Rasa client (a pool over the replicas when there are several).
    The sweep leaves a request to its turn for twice the turn's budget (at least 30 s).
    """
    hours = BusinessHours.parse(
        settings.handoff_timezone,
        settings.handoff_days,
        settings.handoff_hours,
        settings.handoff_holidays,
    )
    return HandoffService(
        HandoffStore(engine),
        TrackerEvents(rasa),
        channels,
        hours,
        settings.handoff_max_wait_seconds,
        realtime,
        rep_group=next((c for c in channels.values() if isinstance(c, TelegramChannel)), None),
        orphan_grace_seconds=max(MIN_ORPHAN_GRACE_SECONDS, 2 * settings.rasa_timeout_seconds),
    )


async def expire_forever(service: HandoffService, interval_seconds: float = SWEEP_SECONDS) -> None:
    """Run the sweep every ``interval_seconds`` until cancelled.

    :meth:`HandoffService.expire_waiting` hands back handoffs nobody claimed in time;
    :meth:`HandoffService.open_orphaned_requests` opens requests whose turn failed.
    """
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await service.expire_waiting()
        except SQLAlchemyError as error:
            logger.error("handoff.expire.db_failed error=%s", type(error).__name__)
        try:
            await service.open_orphaned_requests()
        except SQLAlchemyError as error:
            logger.error("handoff.orphans.db_failed error=%s", type(error).__name__)
