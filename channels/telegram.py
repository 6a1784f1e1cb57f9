"""The Telegram connector, through python-telegram-bot: updates in, Bot API calls out.

Incoming: a Bot API ``Update`` (webhook body or one ``getUpdates`` entry). A text message or
a button press (``callback_query``, whose ``data`` is the button's payload) becomes an
:class:`IncomingMessage` of the conversation ``telegram:<chat id>``. The commands ``/start``
and ``/human`` become the payloads :data:`COMMAND_PAYLOADS` names (the channel vouches for
them, see :attr:`TelegramChannel.trusted_payloads`); ``/help`` is answered by the connector.

Outgoing: one ``sendMessage`` per message (more when a text is over Telegram's 4,096
characters: it is split at paragraph, line or word boundaries), buttons as an inline keyboard
(one per row), sources as links under the text. A 429 is waited out (``retry_after``) and
retried; other Bot API errors raise :class:`Undeliverable`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self
from urllib.parse import quote

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.error import RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from channels.base import MAX_MESSAGE_LENGTH, InvalidMessage, Undeliverable
from core.messages import IncomingMessage, OutgoingMessage

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
"""Telegram's Bot API; tests point the connector at a local server instead."""
MAX_TEXT_UNITS = 4096
"""Telegram's limit on one message's text (counted in UTF-16 code units)."""
MAX_CALLBACK_BYTES = 64
"""Telegram's limit on a button's ``callback_data``."""
MAX_BUTTON_TITLE = 64
"""Longest button label sent (longer titles are cut with an ellipsis)."""
MAX_SEND_ATTEMPTS = 5
"""Calls of one Bot API method, counting the retries after 429 answers."""
MAX_RETRY_AFTER_SECONDS = 60.0
"""Longest ``retry_after`` waited; a longer one makes the message undeliverable."""
CONVERSATION_PREFIX = "telegram:"
"""Conversation ids of this channel: ``telegram:<chat id>``."""
COMMAND_PAYLOADS = {"start": "/greet", "human": "/ask_human"}
"""Telegram commands that reach Rasa as intents."""
HELP_COMMAND = "help"
CHOOSE_TEXT = "Please choose:"
"""Text of a message that only carries buttons (Telegram needs a text)."""
SOURCES_HEADING = "Sources:"
DEFAULT_HELP_TEXT = (
    "Ask me about our products, prices, orders, shipping and returns.\n"
    "/human: talk to a person\n/start: start over\n/help: this message"
)

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+.*)?$", re.DOTALL)


def conversation_id(chat_id: int) -> str:
    """Return the conversation id of a Telegram chat."""
    return f"{CONVERSATION_PREFIX}{chat_id}"


def chat_id_of(recipient_id: str) -> int:
    """Return the chat id of a ``telegram:<chat id>`` conversation or raise ``ValueError``."""
    if not recipient_id.startswith(CONVERSATION_PREFIX):
        raise ValueError("not a Telegram conversation")
    return int(recipient_id[len(CONVERSATION_PREFIX) :])


def utf16_len(text: str) -> int:
    """Return the length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> int:
    """Return how many characters of ``text`` fit in ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` units, at paragraphs, lines or words."""
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        fits = _cut(rest, limit)
        head = rest[:fits]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = head.rfind(separator)
            if cut > 0:
                break
        if cut <= 0:
            cut = fits  # one word longer than the limit: cut it
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _title(title: str) -> str:
    return title if len(title) <= MAX_BUTTON_TITLE else title[: MAX_BUTTON_TITLE - 1] + "…"


def _callback_data(payload: str, title: str) -> str:
    """Return the button's ``callback_data``: its payload, or its title when that is too long."""
    if len(payload.encode()) <= MAX_CALLBACK_BYTES:
        return payload
    data = title.encode()[:MAX_CALLBACK_BYTES]
    return data.decode(errors="ignore") or "?"


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


@dataclass(frozen=True)
class RepReply:
    """A message in the agents' group; ``thread_message_id`` is the bot's post it answers."""

    chat_id: int
    thread_message_id: int | None
    """None when the message answers nothing (it is ignored)."""
    user_id: int
    rep: str
    """How the rep is named in transitions: ``telegram:@username``."""
    text: str


def retry_seconds(error: RetryAfter) -> float:
    """Return how long a 429 asks to wait, in seconds."""
    with warnings.catch_warnings():  # the int form is deprecated; both are handled here
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | timedelta = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    """Connector of one Telegram bot; built by :meth:`from_credentials` like Rasa's."""

    name = "telegram"
    trusted_payloads = frozenset(COMMAND_PAYLOADS.values())
    """Payloads this channel itself sends for commands (the gateway passes them to Rasa)."""

    def __init__(
        self,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        public_url: str | None = None,
        help_text: str = DEFAULT_HELP_TEXT,
        agent_chat_id: int | None = None,
        max_send_attempts: int = MAX_SEND_ATTEMPTS,
        max_retry_after_seconds: float = MAX_RETRY_AFTER_SECONDS,
    ) -> None:
        """Act as the bot of ``token`` at ``api_url``; link cited sources to ``public_url``."""
        if not token or ":" not in token:
            raise ValueError("a Telegram bot token looks like '123456:ABC...'")
        self.api_url = api_url.rstrip("/")
        self.public_url = (public_url or "").rstrip("/")
        self.help_text = help_text
        self.agent_chat_id = agent_chat_id
        self.max_send_attempts = max(1, max_send_attempts)
        self.max_retry_after_seconds = max_retry_after_seconds
        self.bot_id = token.split(":", 1)[0]
        self.bot = Bot(
            token, base_url=f"{self.api_url}/bot", base_file_url=f"{self.api_url}/file/bot"
        )
        self._ready = asyncio.Lock()
        self._initialized = False

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None = None) -> Self:
        """Build the connector from ``token``, ``api_url`` and ``public_url``."""
        credentials = credentials or {}
        token = str(credentials.get("token") or "")
        if not token:
            raise ValueError("the telegram channel needs CONCIERGE_TELEGRAM_TOKEN")
        return cls(
            token,
            api_url=str(credentials.get("api_url") or DEFAULT_API_URL),
            public_url=credentials.get("public_url"),
            help_text=str(credentials.get("help_text") or DEFAULT_HELP_TEXT),
            agent_chat_id=_optional_int(credentials.get("agent_chat_id")),
        )

    # --- the reps' group ------------------------------------------------------------------

    def rep_reply(self, payload: Any) -> RepReply | None:
        """Return a rep's reply in the agents' group to one of the bot's posts, else None."""
        if self.agent_chat_id is None or not isinstance(payload, dict):
            return None
        message = payload.get("message")
        if not isinstance(message, dict):
            return None
        chat = message.get("chat") or {}
        if chat.get("id") != self.agent_chat_id:
            return None
        original = message.get("reply_to_message") or {}
        sender = message.get("from") or {}
        text = message.get("text")
        if not isinstance(original.get("message_id"), int) or not isinstance(text, str):
            return RepReply(self.agent_chat_id, None, 0, "", "")
        name = sender.get("username")
        return RepReply(
            chat_id=self.agent_chat_id,
            thread_message_id=int(original["message_id"]),
            user_id=int(sender.get("id") or 0),
            rep=f"telegram:@{name}" if name else f"telegram:{sender.get('id')}",
            text=text.strip()[:MAX_MESSAGE_LENGTH],
        )

    async def post(self, chat_id: int, text: str) -> int:
        """Send ``text`` to a chat (the agents' group) and return the message's id."""
        message = await self._call(
            "sendMessage",
            lambda: self.bot.send_message(
                chat_id=chat_id,
                text=split_text(text)[0] if text.strip() else CHOOSE_TEXT,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            ),
        )
        return int(message.message_id)

    # --- incoming -------------------------------------------------------------------------

    def parse(self, payload: Any) -> IncomingMessage:
        """Turn an update into a message, or raise :class:`InvalidMessage` for other updates."""
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            raise InvalidMessage("a Telegram update is a JSON object with an update_id")
        try:
            update = Update.de_json(payload, None)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidMessage(f"not a Telegram update: {type(error).__name__}") from None
        meta: dict[str, Any] = {"update_id": update.update_id}
        query = update.callback_query
        if query is not None:
            if not query.data or query.message is None:
                raise InvalidMessage("the button press carries no data")
            meta["callback_query_id"] = query.id
            return self._message(query.message.chat.id, query.data, meta, query.from_user)
        message = update.message
        if message is None or not message.text:
            raise InvalidMessage("the update carries no text message or button press")
        meta["chat_type"] = message.chat.type
        text = message.text.strip()
        command = _COMMAND.match(text)
        if command:
            name = command.group(1).lower()
            if name == HELP_COMMAND:
                meta["command"] = name
            elif name in COMMAND_PAYLOADS:
                meta["command"] = name
                text = COMMAND_PAYLOADS[name]
        return self._message(message.chat.id, text, meta, message.from_user)

    def _message(self, chat_id: int, text: str, meta: dict[str, Any], user: Any) -> IncomingMessage:
        text = text.strip()
        if not text:
            raise InvalidMessage("message must not be empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            text = text[:MAX_MESSAGE_LENGTH]
        language = getattr(user, "language_code", None)
        if language:
            meta["language_code"] = language
        return IncomingMessage(
            sender_id=conversation_id(chat_id),
            text=text,
            channel=self.name,
            metadata={"telegram": meta},
        )

    # --- outgoing -------------------------------------------------------------------------

    def source_url(self, location: str) -> str:
        """Return the link of a cited document on the gateway."""
        return f"{self.public_url}/sources/{quote(location, safe='/#')}"

    def render(
        self, messages: Sequence[OutgoingMessage], *, recipient_id: str
    ) -> list[dict[str, Any]]:
        """Return the ``sendMessage`` parameters of ``messages``, in order."""
        chat_id = chat_id_of(recipient_id)
        calls: list[dict[str, Any]] = []
        for message in messages:
            text = message.text.strip()
            if message.sources:
                links = [f"• {s.title}: {self.source_url(s.location)}" for s in message.sources]
                text = "\n".join([text, "", SOURCES_HEADING, *links]).strip()
            if not text and message.buttons:
                text = CHOOSE_TEXT
            parts = split_text(text)
            if not parts:
                continue
            for index, part in enumerate(parts):
                call: dict[str, Any] = {"chat_id": chat_id, "text": part}
                if message.buttons and index == len(parts) - 1:
                    call["reply_markup"] = {
                        "inline_keyboard": [
                            [
                                {
                                    "text": _title(b.title),
                                    "callback_data": _callback_data(b.payload, b.title),
                                }
                            ]
                            for b in message.buttons
                        ]
                    }
                calls.append(call)
        return calls

    async def send(self, recipient_id: str, messages: Sequence[OutgoingMessage]) -> None:
        """Send ``messages`` to the chat now; raise :class:`Undeliverable` when Telegram refuses."""
        try:
            calls = self.render(messages, recipient_id=recipient_id)
        except ValueError as error:
            raise Undeliverable(self.name, str(error)) from None
        for call in calls:
            markup = call.get("reply_markup")
            keyboard = (
                InlineKeyboardMarkup(
                    [
                        [InlineKeyboardButton(b["text"], callback_data=b["callback_data"])]
                        for [b] in markup["inline_keyboard"]
                    ]
                )
                if markup
                else None
            )
            await self._call(
                "sendMessage",
                lambda call=call, keyboard=keyboard: self.bot.send_message(
                    chat_id=call["chat_id"],
                    text=call["text"],
                    reply_markup=keyboard,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                ),
            )

    async def answer_callback(self, callback_query_id: str) -> None:
        """Acknowledge a button press (Telegram stops the button's spinner)."""
        await self._call(
            "answerCallbackQuery",
            lambda: self.bot.answer_callback_query(callback_query_id),
        )

    async def initialize(self) -> None:
        """Open the Bot API client once (python-telegram-bot calls ``getMe`` here)."""
        async with self._ready:
            if not self._initialized:
                await self.bot.initialize()
                self._initialized = True

    async def shutdown(self) -> None:
        """Close the Bot API client."""
        async with self._ready:
            if self._initialized:
                await self.bot.shutdown()
                self._initialized = False

    async def _call(self, method: str, request: Any) -> Any:
        """Run one Bot API call, waiting out 429s; raise :class:`Undeliverable` on other errors."""
        try:
            await self.initialize()
        except TelegramError as error:
            raise Undeliverable(self.name, f"getMe failed: {type(error).__name__}") from None
        for attempt in range(1, self.max_send_attempts + 1):
            try:
                return await request()
            except RetryAfter as error:
                wait = retry_seconds(error)
                if attempt == self.max_send_attempts or wait > self.max_retry_after_seconds:
                    raise Undeliverable(
                        self.name, f"{method} rate-limited (retry_after {wait:g} s)"
                    ) from None
                logger.warning(
                    "telegram.rate_limited method=%s retry_after=%g attempt=%d",
                    method,
                    wait,
                    attempt,
                )
                await asyncio.sleep(wait)
            except TelegramError as error:
                raise Undeliverable(self.name, f"{method} failed: {error.message}") from None
        raise Undeliverable(self.name, f"{method} failed")  # pragma: no cover (loop returns)


CONNECTOR = TelegramChannel
"""What :mod:`channels.registry` builds for ``telegram`` in ``CONCIERGE_CHANNELS``."""
