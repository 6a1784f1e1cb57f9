"""``concierge telegram poll|set-webhook``: run the Telegram bot without or with a webhook."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from pydantic import ValidationError
from telegram.error import TelegramError

from bot.services.telegram_polling import poll, set_webhook
from core.config import Settings
from core.storage import get_engine
from core.storage.migrate import schema_problem


def _redacted(error: Exception, settings: Settings) -> str:
    """Return the error's message without the bot token (python-telegram-bot may quote it)."""
    text = str(error)
    token = settings.telegram_token
    return text.replace(token.get_secret_value(), "***") if token is not None else text


def _needs_token(settings: Settings) -> bool:
    token = settings.telegram_token
    if token is None or not token.get_secret_value().strip():
        print("error: set CONCIERGE_TELEGRAM_TOKEN (the token @BotFather gave)", file=sys.stderr)
        return True
    return False


def _cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    """Answer the bot's updates by long polling until interrupted."""
    if _needs_token(settings):
        return 1
    problem = schema_problem(get_engine(settings.sqlalchemy_url))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    try:
        answered = asyncio.run(poll(settings, once=args.once))
    except KeyboardInterrupt:
        return 0
    except (TelegramError, ValueError) as error:
        print(f"error: Telegram refused: {_redacted(error, settings)}", file=sys.stderr)
        return 1
    print(f"answered {answered} update(s)")
    return 0


def _cmd_set_webhook(args: argparse.Namespace, settings: Settings) -> int:
    """Tell Telegram to post the bot's updates to ``URL`` with the webhook secret."""
    if _needs_token(settings):
        return 1
    try:
        asyncio.run(set_webhook(settings, args.url))
    except (TelegramError, ValueError, ValidationError) as error:
        print(f"error: {_redacted(error, settings)}", file=sys.stderr)
        return 1
    print(f"Telegram now posts updates to {args.url}")
    return 0


def register(commands: Any) -> None:
    """Add ``telegram poll`` and ``telegram set-webhook`` to the ``concierge`` command."""
    telegram = commands.add_parser("telegram", help="the Telegram bot (polling or webhook)")
    sub = telegram.add_subparsers(dest="telegram_command", required=True, metavar="SUBCOMMAND")
    poll_cmd = sub.add_parser("poll", help="answer updates by long polling (no public address)")
    poll_cmd.add_argument("--once", action="store_true", help="answer what is waiting, then exit")
    poll_cmd.set_defaults(handler=_cmd_poll)
    hook = sub.add_parser("set-webhook", help="have Telegram post updates to URL")
    hook.add_argument(
        "url", metavar="URL", help="public HTTPS address of /channels/telegram/webhook"
    )
    hook.set_defaults(handler=_cmd_set_webhook)
