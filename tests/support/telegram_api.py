"""A local Telegram Bot API for tests: ``/bot<token>/<method>`` in the documented shapes.

Answers ``{"ok": true, "result": ...}``; errors are ``{"ok": false, "error_code": N,
"description": "..."}``, a 429 with ``"parameters": {"retry_after": N}``, as
https://core.telegram.org/bots/api#making-requests documents. Parameters come as a form
(python-telegram-bot's way, objects such as ``reply_markup`` JSON-encoded) or a JSON body.
It checks what the real API checks that these tests rely on: the token, a non-empty text of
at most 4096 characters (UTF-16 units), ``callback_data`` of at most 64 bytes.

Methods: ``getMe``, ``sendMessage``, ``answerCallbackQuery``, ``setWebhook``,
``deleteWebhook``, ``getWebhookInfo``, ``getUpdates`` (long polling over :meth:`push`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.rasa import serve

TOKEN = "123456789:AAH-stand-in-token_for_tests"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Concierge",
    "username": "concierge_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64


@dataclass
class BotApiCall:
    """One request the stand-in received."""

    method: str
    params: dict[str, Any]


@dataclass
class StandInBotApi:
    """State of the local Bot API: calls made, rate limits to answer, updates to hand out."""

    token: str = TOKEN
    calls: list[BotApiCall] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    _limited: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_message_id: int = 1
    url: str = ""

    def rate_limit(self, method: str, times: int, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``retry_after``."""
        with self._lock:
            self._limited.setdefault(method, []).extend([retry_after] * times)

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for ``getUpdates``."""
        with self._lock:
            self.updates.append(update)

    def of(self, method: str) -> list[BotApiCall]:
        """Return the calls of ``method`` in order (429 answers included)."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent_texts(self) -> list[str]:
        """Return the texts of the ``sendMessage`` calls that were answered ok."""
        with self._lock:
            return [
                str(c.params["text"])
                for c in self.calls
                if c.method == "sendMessage" and c.params.get("_answered") == "ok"
            ]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[BotApiCall]:
        """Wait until ``method`` was answered ok ``count`` times; return those calls."""
        deadline = time.monotonic() + timeout
        while True:
            done = [c for c in self.of(method) if c.params.get("_answered") == "ok"]
            if len(done) >= count or time.monotonic() > deadline:
                return done
            time.sleep(0.05)

    # --- answering ------------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Return the status and body the Bot API gives for one call."""
        call = BotApiCall(method, params)
        with self._lock:
            self.calls.append(call)
            limited = self._limited.get(method)
            if limited:
                retry_after = limited.pop(0)
                params["_answered"] = "429"
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                }
        status, body = self._result(method, params)
        params["_answered"] = "ok" if status == 200 else str(status)
        return status, body

    def _result(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getMe":
            return _ok(BOT_USER)
        if method == "sendMessage":
            return self._send_message(params)
        if method == "answerCallbackQuery":
            if not params.get("callback_query_id"):
                return _error(400, "Bad Request: query is too old and response timeout expired")
            return _ok(True)
        if method == "setWebhook":
            self.webhook = {
                "url": params.get("url", ""),
                "secret_token": params.get("secret_token"),
            }
            return _ok(True)
        if method == "deleteWebhook":
            self.webhook = {}
            return _ok(True)
        if method == "getWebhookInfo":
            return _ok({"url": self.webhook.get("url", ""), "pending_update_count": 0})
        return _error(404, "Not Found")

    def _send_message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        text = str(params.get("text") or "")
        if not params.get("chat_id"):
            return _error(400, "Bad Request: chat_id is empty")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and len(str(data).encode()) > MAX_CALLBACK_BYTES:
                        return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        with self._lock:
            message_id = self._next_message_id
            self._next_message_id += 1
        chat_id = int(params["chat_id"])
        return _ok(
            {
                "message_id": message_id,
                "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "date": int(time.time()),
                "text": text,
                **({"reply_markup": markup} if isinstance(markup, dict) else {}),
            }
        )

    def take_updates(self, offset: int) -> list[dict[str, Any]]:
        """Return the queued updates from ``offset`` on, forgetting the older ones."""
        with self._lock:
            self.updates = [u for u in self.updates if int(u["update_id"]) >= offset]
            return list(self.updates)


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(code: int, description: str) -> tuple[int, dict[str, Any]]:
    return code, {"ok": False, "error_code": code, "description": description}


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, value in form.items():
            if not isinstance(value, str):
                continue
            if value[:1] in "{[":
                try:
                    params[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            params[key] = value
    return params


def build_app(api: StandInBotApi) -> FastAPI:
    """Return the HTTP app answering for ``api``."""
    app = FastAPI()

    @app.api_route("/bot{token}/{method}", methods=["GET", "POST"])
    async def bot_method(token: str, method: str, request: Request) -> JSONResponse:
        if token != api.token:
            api.calls.append(BotApiCall(method, {"_answered": "401"}))
            status, body = _error(401, "Unauthorized")
            return JSONResponse(body, status_code=status)
        params = await _params(request)
        if method == "getUpdates":
            api.calls.append(BotApiCall(method, {**params, "_answered": "ok"}))
            offset = int(params.get("offset") or 0)
            deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
            while True:
                found = api.take_updates(offset)
                if found or time.monotonic() >= deadline:
                    return JSONResponse({"ok": True, "result": found})
                await asyncio.sleep(0.05)
        status, body = api.answer(method, params)
        return JSONResponse(body, status_code=status)

    return app


@contextmanager
def running_bot_api(token: str = TOKEN) -> Iterator[StandInBotApi]:
    """Serve a stand-in Bot API on a free localhost port; ``api.url`` is its base URL."""
    api = StandInBotApi(token=token)
    with serve(build_app(api)) as url:
        api.url = url
        yield api
