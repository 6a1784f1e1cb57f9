"""One Redis connection per process, shared by what replicas keep in common, with a breaker.

:class:`RedisConnection` wraps a ``redis.asyncio`` client. Nothing connects when it is built;
the first command does. When a command fails because Redis is down or slow, the connection
is marked unavailable and later calls fail at once with :class:`RedisUnavailable` (callers
fail open) until a backoff has passed (``backoff_base`` seconds, doubling up to
``backoff_cap``); then the next call tries again, and its success marks Redis available
again. So a restarted Redis is picked up without restarting the process, and a dead one
costs requests no connect timeouts. Log lines name the server without its password.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 0.5
"""Longest wait for a TCP connection to Redis."""
COMMAND_TIMEOUT_SECONDS = 0.5
"""Longest wait for one command's answer; a request never waits longer on Redis."""
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 5.0


class RedisUnavailable(Exception):
    """Redis did not answer (or is waiting out its backoff); the message says why."""


def redis_target(url: str) -> str:
    """Return ``redis://host:port/db`` of ``url`` without the user name and password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    path = parts.path if parts.path not in ("", "/") else ""
    return f"{parts.scheme}://{host}:{parts.port or 6379}{path}"


def _reason(error: BaseException) -> str:
    """Return a short, secret-free reason for a failed Redis call."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 5:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(e, RedisTimeoutError | TimeoutError) for e in chain):
        return "no answer in time"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Error 111 " in text:
        return "connection refused"
    if any(isinstance(e, socket.gaierror) for e in chain) or "Name or service" in text:
        return "unknown host name"
    return text[:200] or type(error).__name__


class RedisConnection:
    """A shared Redis client that marks Redis down on failure and retries after a backoff."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        command_timeout: float = COMMAND_TIMEOUT_SECONDS,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        backoff_cap: float = BACKOFF_CAP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare a client for ``url`` (no connection is made until the first command)."""
        self.target = redis_target(url)
        self.client: Redis = Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=command_timeout,
            # one immediate retry on a fresh connection: after a restart of Redis the pooled
            # connections are dead, and the retry's new connection is what recovers
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            health_check_interval=30,
        )
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._clock = clock
        self._failures = 0
        self._retry_at = 0.0
        self.problem: str | None = None
        """Why Redis was last found unavailable; None while it answers."""

    @property
    def available(self) -> bool:
        """Whether the last command got an answer (True before the first one)."""
        return self.problem is None

    def _failed(self, error: BaseException) -> RedisUnavailable:
        self._failures += 1
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (self._failures - 1))
        self._retry_at = self._clock() + delay
        reason = _reason(error)
        if self.problem is None:
            logger.warning(
                "redis.unavailable target=%s problem=%s retry_in=%.1fs",
                self.target,
                reason,
                delay,
            )
        self.problem = reason
        return RedisUnavailable(f"Redis at {self.target} is not reachable: {reason}")

    def _succeeded(self) -> None:
        if self.problem is not None:
            logger.info("redis.recovered target=%s failures=%d", self.target, self._failures)
        self.problem = None
        self._failures = 0
        self._retry_at = 0.0

    async def run(self, command: Callable[[Redis], Awaitable[T]]) -> T:
        """Run ``command`` on the client; raise :class:`RedisUnavailable` when Redis is down.

        While the backoff after a failure lasts, raises at once without trying.
        """
        if self.problem is not None and self._clock() < self._retry_at:
            raise RedisUnavailable(f"Redis at {self.target} is not reachable: {self.problem}")
        try:
            result = await command(self.client)
        except (RedisError, OSError) as error:
            raise self._failed(error) from error
        self._succeeded()
        return result

    async def ping(self) -> str | None:
        """Ask Redis for ``PING`` now, backoff or not; return the problem, None when it answers."""
        try:
            await self.client.ping()
        except (RedisError, OSError) as error:
            self._failed(error)
            return self.problem
        self._succeeded()
        return None

    def pubsub(self) -> PubSub:
        """Return a new publish/subscribe handle on this client (its own connection)."""
        return self.client.pubsub(ignore_subscribe_messages=True)

    def mark_failed(self, error: BaseException) -> None:
        """Record a failure seen outside :meth:`run` (a subscriber's connection dropped)."""
        self._failed(error)

    def mark_answered(self) -> None:
        """Record an answer seen outside :meth:`run` (a subscriber connected again)."""
        self._succeeded()

    async def close(self) -> None:
        """Close the client's connections."""
        try:
            await self.client.aclose()
        except (RedisError, OSError) as error:  # closing a dead connection
            logger.debug("redis.close.failed error=%s", type(error).__name__)
