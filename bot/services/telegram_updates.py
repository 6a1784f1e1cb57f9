"""Telegram updates, from the webhook or from polling: taken once, then answered.

:meth:`TelegramUpdates.claim` records the update's id in ``telegram_updates`` (the primary
key refuses a second claim, so concurrent deliveries of one update, on any replica, give one
reply); :meth:`TelegramUpdates.process` runs the turn and sends the replies through the
connector. Processing never raises: every failure is logged, since nobody waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.services.conversation import ConversationService
from channels.base import InvalidMessage, Undeliverable
from channels.telegram import HELP_COMMAND, TelegramChannel
from core.logging import sender_ref
from core.messages import OutgoingMessage
from core.storage import session_scope
from core.storage.models import utcnow
from core.storage.telegram import TelegramUpdate

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 86_400


class TelegramUpdates:
    """Takes and answers the updates of one bot."""

    def __init__(
        self,
        channel: TelegramChannel,
        conversation: ConversationService,
        engine: Engine,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
    ) -> None:
        """Answer ``channel``'s updates through ``conversation``; remember ids in ``engine``."""
        self.channel = channel
        self.conversation = conversation
        self.engine = engine
        self.ttl = timedelta(seconds=ttl_seconds)

    def claim(self, update_id: int) -> bool:
        """Record ``update_id`` as taken; False when it was taken before (blocking)."""
        now = utcnow()
        try:
            with session_scope(self.engine) as session:
                session.execute(
                    delete(TelegramUpdate).where(TelegramUpdate.received_at < now - self.ttl)
                )
                session.add(
                    TelegramUpdate(bot_id=self.channel.bot_id, update_id=update_id, received_at=now)
                )
        except IntegrityError:
            logger.info("telegram.update.duplicate update_id=%d", update_id)
            return False
        return True

    async def accept(self, update: Any) -> bool:
        """Whether ``update`` should be processed (not seen before, or the database is down)."""
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            logger.info("telegram.update.ignored reason=no_update_id")
            return False
        try:
            return await asyncio.to_thread(self.claim, update_id)
        except SQLAlchemyError as error:
            # Telegram got its 200 and will not resend: answering is better than dropping.
            logger.error("telegram.update.claim_failed error=%s", type(error).__name__)
            return True

    async def process(self, update: dict[str, Any]) -> None:
        """Answer one update; log instead of raising (it runs after the webhook answered)."""
        try:
            await self._process(update)
        except Exception:
            logger.exception("telegram.update.failed update_id=%s", update.get("update_id"))

    async def _process(self, update: dict[str, Any]) -> None:
        rep = self.channel.rep_reply(update)
        if rep is not None:  # the reps' group: never a customer conversation
            if self.conversation.handoff is not None:
                await self.conversation.handoff.rep_message(rep)
            return
        try:
            incoming = self.channel.parse(update)
        except InvalidMessage as error:
            logger.info("telegram.update.ignored reason=%s", error.message)
            return
        meta = incoming.metadata.get("telegram", {})
        query_id = meta.get("callback_query_id")
        if query_id:
            # Acknowledge first: the button stops spinning while the assistant thinks.
            try:
                await self.channel.answer_callback(str(query_id))
            except Undeliverable as error:
                logger.warning("telegram.callback.unanswered reason=%s", error.reason)
        if meta.get("command") == HELP_COMMAND:
            messages = [OutgoingMessage(text=self.channel.help_text)]
        else:
            turn = await self.conversation.turn(self.channel, update)
            messages = turn.messages
        if not messages:
            logger.info("telegram.update.silent sender=%s", sender_ref(incoming.sender_id))
            return
        await self.conversation.deliver(self.channel, incoming.sender_id, messages)
