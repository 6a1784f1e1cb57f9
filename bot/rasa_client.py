"""A thin client for the Rasa server: its REST webhook for messages, ``/status`` for health.

Every failure becomes a typed error (:class:`RasaUnavailable`, :class:`RasaTimeout`,
:class:`RasaBadResponse`) so the routers answer the customer politely instead of hanging.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from core.messages import IncomingMessage

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/rest/webhook"
STATUS_PATH = "/status"
STATUS_TIMEOUT_SECONDS = 2.0


class RasaError(Exception):
    """Base class of the errors talking to Rasa."""


class RasaUnavailable(RasaError):
    """Rasa could not be reached or answered with an error status."""


class RasaTimeout(RasaUnavailable):
    """Rasa did not answer within the time budget."""


class RasaBadResponse(RasaUnavailable):
    """Rasa answered, but not with the JSON shape its REST channel documents."""


class RasaClient:
    """Send customer messages to Rasa and read its status over one shared HTTP client."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout_seconds: float) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds

    async def send(self, message: IncomingMessage) -> list[dict[str, Any]]:
        """Post ``message`` to the REST webhook and return Rasa's list of bot messages."""
        body = {
            "sender": message.sender_id,
            "message": message.text,
            "metadata": {**message.metadata, "channel": message.channel},
        }
        data = await self._request("POST", WEBHOOK_PATH, self.timeout_seconds, json=body)
        if not isinstance(data, list):
            raise RasaBadResponse(
                f"expected a JSON list from the webhook, got {type(data).__name__}"
            )
        return [entry for entry in data if isinstance(entry, dict)]

    async def status(self, timeout_seconds: float = STATUS_TIMEOUT_SECONDS) -> dict[str, Any]:
        """Return Rasa's ``/status`` body (``model_file`` is set once a model is loaded)."""
        data = await self._request("GET", STATUS_PATH, timeout_seconds)
        if not isinstance(data, dict):
            raise RasaBadResponse(f"expected a JSON object from /status, got {type(data).__name__}")
        return data

    async def _request(
        self, method: str, path: str, timeout_seconds: float, json: Any = None
    ) -> Any:
        url = f"{self.base_url}{path}"
        try:
            # httpx's timeout applies per operation; wait_for bounds the whole exchange.
            response = await asyncio.wait_for(
                self._http.request(method, url, json=json, timeout=timeout_seconds),
                timeout=timeout_seconds,
            )
        except (TimeoutError, httpx.TimeoutException) as error:
            raise RasaTimeout(f"no answer from Rasa within {timeout_seconds:g} s") from error
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"cannot reach Rasa at {self.base_url}: {error!r}") from error
        if not response.is_success:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code} on {path}")
        try:
            return response.json()
        except ValueError as error:
            raise RasaBadResponse(f"Rasa answered something that is not JSON on {path}") from error
