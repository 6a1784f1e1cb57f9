"""One conversation turn, whatever the channel: guard payloads, ask Rasa, normalise, fall back.

Routers stay thin: they read the body, call :meth:`ConversationService.turn` with their
connector and render the :class:`Turn` in the channel's shape.

**Typed payloads.** Rasa treats a message that starts with ``/`` as an intent with entities
(``/inform{"email": "x@y.z"}``), skipping NLU. A customer may send one only by choosing a
button: a ``/`` message goes to Rasa unchanged only when it equals the payload of a button
the bot offered in its last reply to that conversation (the ``bot`` events after the last
``user`` event of Rasa's tracker, read only for such messages, so every gateway replica
agrees). Otherwise the leading slashes are removed and Rasa's NLU reads the rest as text
(a message of slashes only becomes ``?``); ``chat.payload.neutralised`` is logged. When
the tracker cannot be read the message is neutralised too (fail closed).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.messages import fallback_message, normalize
from bot.rasa_client import RasaBadResponse, RasaClient, RasaTimeout, RasaUnavailable
from bot.services.handoff import HandoffService, asked_for_person
from channels.base import Channel, PendingReplies, Undeliverable
from core.logging import sender_ref
from core.messages import IncomingMessage, OutgoingMessage

logger = logging.getLogger(__name__)

PAYLOAD_PREFIX = "/"
"""What makes Rasa read a message as an intent payload instead of text."""
EMPTY_NEUTRALISED_TEXT = "?"
"""What a message of only slashes becomes (something NLU reads as not understood)."""
UNAVAILABLE_ERROR = "the assistant is temporarily unavailable"
"""The ``error`` sentence of a 503 turn."""
TRACKER_TIMEOUT_SECONDS = 2.0
"""Longest wait for the tracker of a ``/`` message (the turn's budget bounds both calls)."""
MIN_WEBHOOK_SECONDS = 0.5


_LEADING_SLASHES = re.compile(r"^[\s/]+")


def neutralise(text: str) -> str:
    """Return ``text`` without the slashes and spaces it starts with, so NLU reads it as text.

    Rasa strips a message before it looks for a leading ``/``, so ``"/ /restart"`` must lose
    every slash and space at its start, not just the first run of slashes.
    """
    return _LEADING_SLASHES.sub("", text).strip() or EMPTY_NEUTRALISED_TEXT


def offered_payloads(tracker: Mapping[str, Any]) -> set[str]:
    """Return the button payloads of the bot's last reply (its events after the last user event)."""
    events = tracker.get("events")
    payloads: set[str] = set()
    if not isinstance(events, list):
        return payloads
    for event in reversed(events):
        if not isinstance(event, Mapping):
            continue
        kind = event.get("event")
        if kind == "user":
            break
        if kind != "bot":
            continue
        data = event.get("data")
        buttons = data.get("buttons") if isinstance(data, Mapping) else None
        payloads.update(_payloads(buttons))
    return payloads


def _payloads(buttons: Any) -> Iterable[str]:
    if not isinstance(buttons, list):
        return ()
    return (
        str(button["payload"])
        for button in buttons
        if isinstance(button, Mapping) and isinstance(button.get("payload"), str)
    )


@dataclass(frozen=True)
class Turn:
    """The outcome of one turn: what to show, and whether the assistant really answered."""

    incoming: IncomingMessage
    messages: list[OutgoingMessage]
    ok: bool
    """False when Rasa was unavailable and ``messages`` holds the fallback message."""


class ConversationService:
    """Runs turns against Rasa for every channel; built once per gateway process."""

    def __init__(
        self,
        rasa: RasaClient,
        fallback: OutgoingMessage | None = None,
        handoff: HandoffService | None = None,
    ) -> None:
        """Talk to ``rasa``; show ``fallback`` when it cannot answer; gate by ``handoff``."""
        self.rasa = rasa
        self.fallback = fallback or fallback_message()
        self.handoff = handoff

    async def turn(self, channel: Channel, payload: Any) -> Turn:
        """Parse ``payload`` with ``channel`` and run the turn (raises ``InvalidMessage``)."""
        incoming = channel.parse(payload)
        trusted: frozenset[str] = getattr(channel, "trusted_payloads", frozenset())
        try:
            held = await self._gate(incoming)
            if held is None:
                replies = await self.converse(incoming, trusted=trusted)
                if asked_for_person(replies):  # only that reply's turn recorded a request
                    replies = [*replies, *await self._after_turn(incoming)]
            else:
                replies = held
        except RasaUnavailable:
            return Turn(incoming, [self.fallback], ok=False)
        pending = (
            channel.take_pending(incoming.sender_id) if isinstance(channel, PendingReplies) else []
        )
        return Turn(incoming, [*pending, *replies], ok=True)

    async def _gate(self, incoming: IncomingMessage) -> list[OutgoingMessage] | None:
        """Return what to show instead of asking Rasa while a person has the conversation."""
        if self.handoff is None:
            return None
        try:
            return await self.handoff.gate(incoming)
        except SQLAlchemyError as error:
            # Without the database nobody can be answering: the bot keeps the conversation.
            logger.error("handoff.gate.db_failed error=%s", type(error).__name__)
            return None
        except RasaUnavailable as error:
            logger.warning(
                "handoff.tracker.unavailable sender=%s reason=%s",
                sender_ref(incoming.sender_id),
                error,
            )
            raise

    async def _after_turn(self, incoming: IncomingMessage) -> list[OutgoingMessage]:
        """Open the handoff a turn asked for; return any message about it.

        A request the database failed to take stays open, and the sweep opens it.
        """
        if self.handoff is None:
            return []
        try:
            return await self.handoff.after_turn(incoming)
        except (SQLAlchemyError, RasaUnavailable) as error:
            logger.error("handoff.open_failed error=%s", type(error).__name__)
            return []

    async def converse(
        self, incoming: IncomingMessage, trusted: frozenset[str] = frozenset()
    ) -> list[OutgoingMessage]:
        """Send one customer message to Rasa and return its normalised replies.

        ``trusted`` are payloads the channel itself sends (Telegram's commands): they pass
        the payload guard like the buttons of the bot's last reply.

        Raises :class:`RasaUnavailable` (or a subclass) after logging it for the operator.
        """
        started = time.perf_counter()
        who = f"channel={incoming.channel} sender={sender_ref(incoming.sender_id)}"
        try:
            if incoming.text not in trusted:
                incoming = await self.guard_payload(incoming)
            # One budget for the whole turn: the tracker read comes out of it.
            left = self.rasa.timeout_seconds - (time.perf_counter() - started)
            entries = await self.rasa.send(incoming, timeout_seconds=max(MIN_WEBHOOK_SECONDS, left))
        except RasaUnavailable as error:
            event = "chat.rasa.unavailable"
            if isinstance(error, RasaTimeout):
                event = "chat.rasa.timeout"
            elif isinstance(error, RasaBadResponse):
                event = "chat.rasa.bad_response"
            elapsed_ms = round((time.perf_counter() - started) * 1000)
            logger.warning("%s %s ms=%d reason=%s", event, who, elapsed_ms, error)
            raise
        messages = normalize(entries)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        logger.info(
            "chat.turn.ok %s chars=%d messages=%d ms=%d",
            who,
            len(incoming.text),
            len(messages),
            elapsed_ms,
        )
        return messages

    async def guard_payload(self, incoming: IncomingMessage) -> IncomingMessage:
        """Return ``incoming``, neutralised unless it is a payload the bot just offered."""
        if not incoming.text.strip().startswith(PAYLOAD_PREFIX):
            return incoming
        who = f"channel={incoming.channel} sender={sender_ref(incoming.sender_id)}"
        try:
            budget = min(TRACKER_TIMEOUT_SECONDS, self.rasa.timeout_seconds / 2)
            tracker = await self.rasa.tracker(incoming.sender_id, timeout_seconds=budget)
            offered = offered_payloads(tracker)
        except RasaUnavailable as error:
            logger.warning("chat.tracker.unavailable %s reason=%s", who, error)
            offered = set()
        if incoming.text in offered:
            return incoming
        logger.info("chat.payload.neutralised %s chars=%d", who, len(incoming.text))
        return IncomingMessage(
            sender_id=incoming.sender_id,
            text=neutralise(incoming.text),
            channel=incoming.channel,
            metadata=incoming.metadata,
        )

    async def deliver(
        self, channel: Channel, recipient_id: str, messages: Sequence[OutgoingMessage]
    ) -> bool:
        """Send replies that arrive outside a turn; log and return False when undeliverable."""
        try:
            await channel.send(recipient_id, messages)
        except Undeliverable as error:
            logger.warning(
                "channel.send.undeliverable channel=%s sender=%s reason=%s",
                channel.name,
                sender_ref(recipient_id),
                error.reason,
            )
            return False
        logger.info(
            "channel.send.ok channel=%s sender=%s messages=%d",
            channel.name,
            sender_ref(recipient_id),
            len(messages),
        )
        return True
