"""Telegram's webhook, ``POST /channels/telegram/webhook`` (``concierge telegram set-webhook``).

Telegram sends the secret given to ``setWebhook`` in ``X-Telegram-Bot-Api-Secret-Token``; a
request without it, or with another one, is refused (403) before anything is read. An
accepted update is answered 200 at once and processed in the background; the same
``update_id`` is processed once (see :mod:`bot.services.telegram_updates`). Nothing here
answers a 5xx, which would make Telegram resend the update.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Request
from fastapi.responses import JSONResponse

from bot.auth.bearer import same_secret
from bot.deps import StateDep
from bot.schemas import ErrorResponse
from bot.services.telegram_updates import TelegramUpdates
from channels.telegram import TelegramChannel

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/channels/telegram", tags=["channels"])

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_UPDATE_BYTES = 1_000_000
"""Largest update body read (Telegram's are a few kilobytes)."""


@router.post(
    "/webhook",
    responses={
        200: {"description": "Taken (or ignored: a duplicate or an update without a message)"},
        403: {"model": ErrorResponse, "description": "Secret token missing or wrong"},
        404: {"model": ErrorResponse, "description": "The telegram channel is not configured"},
    },
)
async def telegram_webhook(
    request: Request,
    background: BackgroundTasks,
    state: StateDep,
    secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> JSONResponse:
    """Take one update from Telegram: check the secret, de-duplicate, answer in the background."""
    expected = state.settings.telegram_webhook_secret
    if (
        expected is None
        or not expected.get_secret_value()
        or secret is None
        or not same_secret(secret, expected.get_secret_value())
    ):
        logger.warning(
            "telegram.webhook.refused reason=%s", "missing" if secret is None else "wrong"
        )
        return JSONResponse({"error": "the secret token is missing or wrong", "details": []}, 403)
    channel = state.channels.get(TelegramChannel.name)
    if not isinstance(channel, TelegramChannel):
        return JSONResponse(
            {"error": "the telegram channel is not enabled on this gateway", "details": []}, 404
        )
    body = await request.body()
    try:
        update = json.loads(body) if len(body) <= MAX_UPDATE_BYTES else None
    except ValueError:
        update = None
    updates = TelegramUpdates(
        channel, state.conversation, state.engine, state.settings.telegram_update_ttl_seconds
    )
    if not isinstance(update, dict) or not await updates.accept(update):
        return JSONResponse({"status": "ignored"})
    background.add_task(updates.process, update)
    return JSONResponse({"status": "accepted"})
