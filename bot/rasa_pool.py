"""The gateway's client of several Rasa replicas: one per request, the next one if it is down.

Every caller of Rasa in the gateway and the Telegram poller goes through it: chat turns, the
handoff's tracker appends, tracker reads and ``/status``.

Each request goes to the next replica in turn (round robin). When no connection to that
replica can be opened (refused, unknown host: :class:`RasaNotConnected`, so nothing was sent)
the same request goes to the following replica, and so on once around the list. A request
that reached a replica and then failed (the replica died while answering, a timeout, an HTTP
error) is not repeated: Rasa may have processed the message, and sending it again would run
the turn twice. So a killed replica fails at most the turns it was answering.

The replicas share conversations through the SQL tracker store and the Redis lock store
(``endpoints.production.yml``), so any replica can answer any turn.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from bot.rasa_client import RasaClient, RasaNotConnected

logger = logging.getLogger(__name__)


class RasaPool(RasaClient):
    """A :class:`RasaClient` spreading its requests over ``base_urls`` with failover."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_urls: Sequence[str],
        timeout_seconds: float,
        auth_token: str | None = None,
    ) -> None:
        """Balance over ``base_urls`` (at least one), all with the same ``auth_token``."""
        urls = [url.rstrip("/") for url in base_urls if url.strip()]
        if not urls:
            raise ValueError("RasaPool needs at least one Rasa URL")
        super().__init__(http, urls[0], timeout_seconds, auth_token)
        self.base_urls = urls
        self._turn = itertools.count()

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
        first = next(self._turn) % len(self.base_urls)
        order = self.base_urls[first:] + self.base_urls[:first]
        for index, base_url in enumerate(order):
            try:
                return await self._request_at(
                    base_url, method, path, timeout_seconds, json, api, label, params
                )
            except RasaNotConnected:
                if index == len(order) - 1:
                    raise
                logger.warning(
                    "rasa.replica.unreachable url=%s next=%s", base_url, order[index + 1]
                )
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def rasa_client_for(
    http: httpx.AsyncClient,
    rasa_url: str,
    rasa_urls: Sequence[str],
    timeout_seconds: float,
    auth_token: str | None,
) -> RasaClient:
    """Return a pool over ``rasa_urls`` when set (more than one), else a client of ``rasa_url``."""
    urls = [url for url in rasa_urls if url.strip()]
    if len(urls) > 1:
        return RasaPool(http, urls, timeout_seconds, auth_token)
    return RasaClient(http, urls[0] if urls else rasa_url, timeout_seconds, auth_token)
