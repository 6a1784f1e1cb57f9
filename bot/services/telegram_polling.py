"""Polling mode for a machine Telegram cannot reach: ``getUpdates`` in a loop, same answers.

Every update goes through :class:`~bot.services.telegram_updates.TelegramUpdates`, as the
webhook's do (claimed once, then answered), so a poller and a webhook replica never answer
one update twice. Telegram refuses ``getUpdates`` while a webhook is set; polling removes it
first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
from telegram.error import Conflict, RetryAfter, TelegramError

from bot.messages import fallback_message, fallback_text
from bot.rasa_pool import rasa_client_for
from bot.services.conversation import ConversationService
from bot.services.handoff import handoff_service_for
from bot.services.realtime import RealtimeHub
from bot.services.telegram_updates import TelegramUpdates
from channels.base import Channel
from channels.registry import build_channels, channel_credentials
from channels.telegram import TelegramChannel, retry_seconds
from channels.web import WebChannel
from core.config import Settings
from core.storage import get_engine

logger = logging.getLogger(__name__)

LONG_POLL_SECONDS = 30
"""How long one ``getUpdates`` waits for an update."""
ERROR_PAUSE_SECONDS = 5.0
"""Pause after a failed ``getUpdates`` (network down, another poller)."""
ALLOWED_UPDATES = ("message", "callback_query")
"""The update kinds the connector answers (asked of Telegram, so it sends no others)."""


def telegram_channel(settings: Settings) -> TelegramChannel:
    """Return the connector of the configured bot (``CONCIERGE_TELEGRAM_TOKEN``)."""
    return TelegramChannel.from_credentials(channel_credentials(settings)["telegram"])


def _reachable(channel: TelegramChannel, realtime: RealtimeHub) -> dict[str, Channel]:
    """Channels a rep's reply from the group can reach from this process.

    Widget customers are reached through the stored live-push events, which the gateway's
    streams read from the database.
    """
    channels = build_channels(["web"])
    web = channels["web"]
    if isinstance(web, WebChannel):
        web.push = realtime.publish_messages
    channels[channel.name] = channel
    return channels


async def poll(
    settings: Settings,
    *,
    once: bool = False,
    stopped: Callable[[], bool] = lambda: False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Answer updates until ``stopped()`` (or after one batch with ``once``); return the count.

    ``transport`` replaces the network under the HTTP client for Rasa (tests).
    """
    channel = telegram_channel(settings)
    engine = get_engine(settings.sqlalchemy_url)
    realtime = RealtimeHub(engine)
    token = settings.rasa_auth_token
    answered = 0
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(settings.rasa_timeout_seconds), trust_env=False, transport=transport
    ) as http:
        rasa = rasa_client_for(  # several replicas (CONCIERGE_RASA_URLS): balanced, failover
            http,
            settings.rasa_url,
            settings.rasa_urls,
            settings.rasa_timeout_seconds,
            token.get_secret_value() if token else None,
        )
        conversation = ConversationService(
            rasa,
            fallback_message(fallback_text(settings.company)),
            handoff_service_for(settings, rasa, engine, _reachable(channel, realtime), realtime),
        )
        updates = TelegramUpdates(
            channel, conversation, engine, settings.telegram_update_ttl_seconds
        )
        try:
            await channel.initialize()
            await channel.bot.delete_webhook()
            logger.info("telegram.polling.started bot=%s", channel.bot_id)
            offset: int | None = None
            while not stopped():
                try:
                    batch = await channel.bot.get_updates(
                        offset=offset,
                        timeout=0 if once else LONG_POLL_SECONDS,
                        allowed_updates=list(ALLOWED_UPDATES),
                    )
                except RetryAfter as error:
                    await asyncio.sleep(retry_seconds(error))
                    continue
                except (Conflict, TelegramError) as error:
                    logger.warning("telegram.polling.failed error=%s", type(error).__name__)
                    if once:
                        raise
                    await asyncio.sleep(ERROR_PAUSE_SECONDS)
                    continue
                for update in batch:
                    offset = update.update_id + 1
                    data = update.to_dict()
                    if await updates.accept(data):
                        await updates.process(data)
                        answered += 1
                if once:
                    break
        finally:
            await channel.shutdown()
    return answered


async def set_webhook(settings: Settings, url: str) -> None:
    """Point Telegram at ``url`` with the configured secret token (raises ``TelegramError``)."""
    secret = settings.telegram_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise ValueError(
            "set CONCIERGE_TELEGRAM_WEBHOOK_SECRET first: the webhook refuses updates without it"
        )
    channel = telegram_channel(settings)
    try:
        await channel.initialize()
        await channel.bot.set_webhook(
            url, secret_token=secret.get_secret_value(), allowed_updates=list(ALLOWED_UPDATES)
        )
    finally:
        await channel.shutdown()
