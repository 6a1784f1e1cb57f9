"""A stand-in Rasa server as an ``httpx.MockTransport`` handler, for the gateway's tests.

It answers the routes the gateway uses in the shapes Rasa documents: ``POST
/webhooks/rest/webhook`` (a list of bot messages, as Rasa's REST channel), ``GET /status``
(``model_file``...), ``GET /conversations/{id}/tracker`` (the conversation's ``user`` and
``bot`` events, built from what it answered), and ``GET /health`` for the action server.
Like Rasa started with ``--auth-token``, the API routes answer 401 without ``?token=``; the
webhook does not check it. Requests to another host fail like a closed port.

It runs in the process that makes the request, so it works under ``TestClient`` and under
uvicorn in a thread alike; inject it with ``create_app(settings, transport=rasa.transport)``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import uvicorn
from fastapi import FastAPI

STAND_IN_URL = "http://rasa.stand-in:5005"
STAND_IN_TOKEN = "stand-in-rasa-token"
HANG_SECONDS = 30.0

RASA_REPLY: list[dict[str, Any]] = [
    {
        "recipient_id": "test-user",
        "text": "You can return unused equipment within 30 days.",
        "buttons": [{"title": "Talk to a person", "payload": "/ask_human"}],
    },
    {
        "recipient_id": "test-user",
        "custom": {
            "kind": "kb_answer",
            "answer_id": "a1",
            "confidence": 0.81,
            "sources": [{"title": "Returns", "location": "docs/returns.md#return-window"}],
        },
    },
]

Reply = list[dict[str, Any]] | Callable[[dict[str, Any]], list[dict[str, Any]]]

_TRACKER_PREFIX = "/conversations/"
_TRACKER_SUFFIX = "/tracker"


class StandInRasa:
    """Answers like Rasa (and the action server's ``/health``) from inside the test process.

    ``mode``: ``ok`` (answer ``reply``), ``error`` (HTTP 500), ``garbage`` (not JSON),
    ``object`` (JSON but not a list), ``hang`` (never answer within the test's timeouts).
    ``requests`` records every webhook call (``{"path", "body"}``); ``calls`` every request
    (``{"method", "path", "token"}``); ``trackers`` the events per conversation.
    """

    def __init__(self, url: str = STAND_IN_URL, auth_token: str | None = STAND_IN_TOKEN) -> None:
        self.url = url
        self.auth_token = auth_token
        self.mode = "ok"
        self.reply: Reply = RASA_REPLY
        self.status: dict[str, Any] = {"model_file": "models/concierge.tar.gz"}
        self.requests: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.trackers: dict[str, list[dict[str, Any]]] = {}
        self._host = urlsplit(url).netloc

    @property
    def transport(self) -> httpx.MockTransport:
        """A transport to hand to ``create_app`` (or to an ``httpx.AsyncClient``)."""
        return httpx.MockTransport(self.handle)

    def offer(self, sender_id: str, *payloads: str) -> None:
        """Record a bot reply offering buttons with ``payloads`` in ``sender_id``'s tracker."""
        buttons = [{"title": p.lstrip("/"), "payload": p} for p in payloads]
        self.trackers.setdefault(sender_id, []).append(
            _bot_event({"text": "?", "buttons": buttons})
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request the way Rasa would."""
        if request.url.netloc.decode() != self._host:
            raise httpx.ConnectError("connection refused (not the stand-in Rasa)", request=request)
        path = request.url.path
        token = request.url.params.get("token")
        self.calls.append({"method": request.method, "path": path, "token": token})
        if request.method == "POST" and path == "/webhooks/rest/webhook":
            body = json.loads(request.content or b"null")
            self.requests.append({"path": path, "body": body})
            return await self._webhook(body)
        if self.mode == "hang":
            await asyncio.sleep(HANG_SECONDS)
        if request.method != "GET":
            return httpx.Response(405, json={"status": "failure", "code": 405})
        if path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        if path == "/status" or _tracker_id(path) is not None:
            if self.auth_token is not None and token != self.auth_token:
                return httpx.Response(401, json=_not_authenticated())
            if path == "/status":
                return httpx.Response(200, json=self.status)
            return httpx.Response(200, json=self.tracker(_tracker_id(path) or ""))
        return httpx.Response(404, json={"status": "failure", "code": 404})

    def tracker(self, sender_id: str) -> dict[str, Any]:
        """Return ``sender_id``'s tracker as ``GET /conversations/{id}/tracker`` does."""
        events = self.trackers.get(sender_id, [])
        latest = next((e for e in reversed(events) if e["event"] == "user"), None)
        return {
            "sender_id": sender_id,
            "slots": {},
            "latest_message": latest.get("parse_data", {}) if latest else {},
            "latest_event_time": events[-1]["timestamp"] if events else None,
            "followup_action": None,
            "paused": False,
            "events": events,
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        }

    async def _webhook(self, body: Any) -> httpx.Response:
        if self.mode == "hang":
            await asyncio.sleep(HANG_SECONDS)
        if self.mode == "error":
            return httpx.Response(500, text="Internal Server Error")
        if self.mode == "garbage":
            return httpx.Response(
                200, content=b"<html>definitely not json", headers={"content-type": "text/html"}
            )
        if self.mode == "object":
            return httpx.Response(200, json={"oops": True})
        reply = self.reply
        # A callable reply may block (a database write, a sleep): keep the event loop free.
        entries = await asyncio.to_thread(reply, body) if callable(reply) else reply
        if isinstance(body, dict):
            self._remember(body, entries)
        return httpx.Response(200, json=entries)

    def _remember(self, body: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        sender = str(body.get("sender") or "default")
        events = self.trackers.setdefault(sender, [])
        text = str(body.get("message") or "")
        events.append(
            {
                "event": "user",
                "timestamp": time.time(),
                "text": text,
                "parse_data": {"text": text, "intent": {"name": "stand_in", "confidence": 1.0}},
                "input_channel": "rest",
                "metadata": body.get("metadata") or {},
            }
        )
        events.extend(_bot_event(entry) for entry in entries if isinstance(entry, dict))
        events.append({"event": "action", "timestamp": time.time(), "name": "action_listen"})


def _bot_event(entry: dict[str, Any]) -> dict[str, Any]:
    """Return Rasa's ``bot`` event for one webhook entry."""
    return {
        "event": "bot",
        "timestamp": time.time(),
        "text": entry.get("text"),
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": entry.get("buttons"),
            "attachment": entry.get("attachment"),
            "image": entry.get("image"),
            "custom": entry.get("custom"),
        },
        "metadata": {},
    }


def _tracker_id(path: str) -> str | None:
    if path.startswith(_TRACKER_PREFIX) and path.endswith(_TRACKER_SUFFIX):
        return unquote(path[len(_TRACKER_PREFIX) : -len(_TRACKER_SUFFIX)]) or None
    return None


def _not_authenticated() -> dict[str, Any]:
    return {
        "version": "3.6.21",
        "status": "failure",
        "reason": "NotAuthenticated",
        "message": "User is not authenticated.",
        "help": "https://rasa.com/docs/rasa/",
        "code": 401,
    }


# --- real sockets, only where a test needs one ---------------------------------------------------


def closed_port() -> int:
    """Return a localhost port nothing listens on (connections are refused: Rasa is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free localhost port in a thread; yield its base URL.

    For the browser tests; a stand-in Rasa injected into ``app`` still answers in-process.
    """
    port = closed_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
