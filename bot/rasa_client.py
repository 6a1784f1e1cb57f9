"""A thin client for the Rasa server: the REST webhook, ``/status`` and the tracker API.

Messages go to the REST webhook, health to ``/status``; a conversation's tracker is read
(``GET /conversations/{id}/tracker``) and appended to (``POST .../tracker/events``, the
handoff's human turns).

Every failure becomes a typed error (:class:`RasaUnavailable`, :class:`RasaTimeout`,
:class:`RasaBadResponse`) so the routers answer the customer politely instead of hanging.

Rasa's HTTP API (``/status``, ``/conversations/...``) runs with ``--auth-token`` and wants the
token as a ``?token=`` query parameter; the REST channel's webhook is not protected by it
(Rasa's ``requires_auth`` wraps only the API routes), so the token is not sent there. The
token never appears in an error message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from core.messages import IncomingMessage

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/rest/webhook"
STATUS_PATH = "/status"
TRACKER_PATH = "/conversations/{conversation_id}/tracker"
EVENTS_PATH = "/conversations/{conversation_id}/tracker/events"
STATUS_TIMEOUT_SECONDS = 2.0


class RasaError(Exception):
    """Base class of the errors talking to Rasa."""


class RasaUnavailable(RasaError):
    """Rasa could not be reached or answered with an error status."""


class RasaTimeout(RasaUnavailable):
    """Rasa did not answer within the time budget."""


class RasaBadResponse(RasaUnavailable):
    """Rasa answered, but not with the JSON shape its REST channel documents."""


class RasaNotConnected(RasaUnavailable):
    """No connection to Rasa could be opened: nothing was sent (another replica may take it)."""


class RasaClient:
    """Send customer messages to Rasa and read its status over one shared HTTP client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        timeout_seconds: float,
        auth_token: str | None = None,
    ) -> None:
        """Talk to Rasa at ``base_url``; ``auth_token`` is its ``--auth-token`` (if any)."""
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self._auth_token = auth_token

    async def send(
        self, message: IncomingMessage, timeout_seconds: float | None = None
    ) -> list[dict[str, Any]]:
        """Post ``message`` to the REST webhook and return Rasa's list of bot messages."""
        timeout = self.timeout_seconds if timeout_seconds is None else timeout_seconds
        body = {
            "sender": message.sender_id,
            "message": message.text,
            "metadata": {**message.metadata, "channel": message.channel},
        }
        data = await self._request("POST", WEBHOOK_PATH, timeout, json=body)
        if not isinstance(data, list):
            raise RasaBadResponse(
                f"expected a JSON list from the webhook, got {type(data).__name__}"
            )
        return [entry for entry in data if isinstance(entry, dict)]

    async def status(self, timeout_seconds: float = STATUS_TIMEOUT_SECONDS) -> dict[str, Any]:
        """Return Rasa's ``/status`` body (``model_file`` is set once a model is loaded)."""
        data = await self._request("GET", STATUS_PATH, timeout_seconds, api=True)
        if not isinstance(data, dict):
            raise RasaBadResponse(f"expected a JSON object from /status, got {type(data).__name__}")
        return data

    async def tracker(
        self, conversation_id: str, timeout_seconds: float | None = None
    ) -> dict[str, Any]:
        """Return the conversation's tracker (``events`` holds its ``user``/``bot`` events)."""
        path = TRACKER_PATH.format(conversation_id=quote(conversation_id, safe=""))
        timeout = self.timeout_seconds if timeout_seconds is None else timeout_seconds
        # Errors name the route, not the conversation id (they end up in log lines).
        data = await self._request("GET", path, timeout, api=True, label=TRACKER_PATH)
        if not isinstance(data, dict):
            raise RasaBadResponse(f"expected a JSON object tracker, got {type(data).__name__}")
        return data

    async def append_events(
        self,
        conversation_id: str,
        events: list[dict[str, Any]],
        timeout_seconds: float | None = None,
    ) -> None:
        """Append ``events`` to the conversation's tracker (``POST .../tracker/events``).

        Raises :class:`RasaUnavailable` (or a subclass) when Rasa does not take them. Rasa's
        answer (the tracker) is not wanted: ``include_events=NONE`` keeps it small.
        """
        path = EVENTS_PATH.format(conversation_id=quote(conversation_id, safe=""))
        timeout = self.timeout_seconds if timeout_seconds is None else timeout_seconds
        await self._request(
            "POST",
            path,
            timeout,
            json=events,
            api=True,
            label=EVENTS_PATH,
            params={"include_events": "NONE"},
        )

    async def _request(
        self,
        method: str,
        path: str,
        timeout_seconds: float,
        json: Any = None,
        api: bool = False,
        label: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        return await self._request_at(
            self.base_url, method, path, timeout_seconds, json, api, label, params
        )

    async def _request_at(
        self,
        base_url: str,
        method: str,
        path: str,
        timeout_seconds: float,
        json: Any = None,
        api: bool = False,
        label: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        url = f"{base_url}{path}"
        label = label or path
        query = dict(params or {})
        if api and self._auth_token:
            query["token"] = self._auth_token
        try:
            # httpx's timeout applies per operation; wait_for bounds the whole exchange.
            response = await asyncio.wait_for(
                self._http.request(
                    method, url, json=json, params=query or None, timeout=timeout_seconds
                ),
                timeout=timeout_seconds,
            )
        except httpx.ConnectError as error:  # refused, unknown host: the request was not sent
            reason = self._reason(error, path, label)
            raise RasaNotConnected(f"cannot reach Rasa at {base_url}: {reason}") from error
        except (TimeoutError, httpx.TimeoutException) as error:
            raise RasaTimeout(f"no answer from Rasa within {timeout_seconds:g} s") from error
        except httpx.HTTPError as error:
            reason = self._reason(error, path, label)
            raise RasaUnavailable(f"cannot reach Rasa at {base_url}: {reason}") from error
        if not response.is_success:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code} on {label}")
        try:
            return response.json()
        except ValueError as error:
            raise RasaBadResponse(f"Rasa answered something that is not JSON on {label}") from error

    def _reason(self, error: Exception, path: str, label: str) -> str:
        """Describe ``error`` without the token, nor the conversation id a URL in it may name."""
        text = _redact(str(error), self._auth_token).replace(path, label)
        return f"{type(error).__name__}({text!r})"


def _redact(text: str, secret: str | None) -> str:
    """Return ``text`` with ``secret`` blanked out (an error message may quote the URL)."""
    return text.replace(secret, "***") if secret else text
