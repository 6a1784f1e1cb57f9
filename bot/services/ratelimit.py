"""Rate limits with the generic cell rate algorithm (GCRA), in this process or in Redis.

GCRA is the token bucket written as one number per key: the "theoretical arrival time"
(TAT) of the next request. A limit of ``rate`` requests per ``period`` with a ``burst``
spaces requests ``period / rate`` apart (the emission interval ``T``) and lets ``burst`` of
them come at once. A request at time ``now`` is allowed when ``max(TAT, now) + T - burst * T
<= now``, which moves ``TAT`` on by ``T``; otherwise it waits until that holds, which is the
exact ``Retry-After``. It was chosen over fixed windows (no double burst at a window's edge)
and over sliding logs (one value per key instead of one per request), and because a single
Lua script reads and writes that value atomically on Redis, with Redis's own clock, so all
replicas count the same way.

:class:`InProcessLimiter` is the embedded default (one gateway process);
:class:`RedisLimiter` shares the counts between replicas and fails open when Redis is down:
it allows the request, logs it once and says so in :attr:`RedisLimiter.degraded`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from core.redis import RedisConnection, RedisUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most ``rate`` requests per ``period_seconds``, of which ``burst`` may come at once."""

    rate: int
    period_seconds: float = 60.0
    burst: int = 1

    def __post_init__(self) -> None:
        if self.rate < 1 or self.burst < 1 or self.period_seconds <= 0:
            raise ValueError("a limit needs rate >= 1, burst >= 1 and a positive period")

    @property
    def interval(self) -> float:
        """Seconds between two requests at the sustained rate (GCRA's emission interval)."""
        return self.period_seconds / self.rate


@dataclass(frozen=True)
class Decision:
    """Whether one request may go on, and otherwise how many seconds to wait."""

    allowed: bool
    retry_after: float = 0.0

    @property
    def retry_after_seconds(self) -> int:
        """The wait as a ``Retry-After`` value: whole seconds, at least 1."""
        return max(1, math.ceil(self.retry_after))


ALLOWED = Decision(True)


class RateLimiter(Protocol):
    """Counts one request against ``limit`` for ``key`` and decides."""

    name: str
    """``memory`` or ``redis`` (for logs and the docs)."""

    async def hit(self, key: str, limit: Limit) -> Decision:
        """Count a request for ``key``; return whether it is within ``limit``."""
        ...


def gcra(tat: float | None, now: float, limit: Limit) -> tuple[Decision, float | None]:
    """One GCRA step: return the decision and the new TAT to store (None: leave it)."""
    interval = limit.interval
    start = now if tat is None or tat < now else tat
    new_tat = start + interval
    allow_at = new_tat - interval * limit.burst
    if now < allow_at:
        return Decision(False, allow_at - now), None
    return ALLOWED, new_tat


class InProcessLimiter:
    """GCRA in a dictionary: the embedded default, for one gateway process.

    Keys whose TAT has passed are forgotten (they would allow the next request anyway), so
    the dictionary holds only clients that were active within their last burst.
    """

    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        """Count with ``clock``; sweep old keys whenever more than ``max_keys`` are held."""
        self._clock = clock
        self._max_keys = max_keys
        self._tats: dict[str, float] = {}

    async def hit(self, key: str, limit: Limit) -> Decision:
        """Count a request for ``key`` (no awaiting inside: atomic on the event loop)."""
        now = self._clock()
        decision, new_tat = gcra(self._tats.get(key), now, limit)
        if new_tat is not None:
            self._tats[key] = new_tat
            if len(self._tats) > self._max_keys:
                self._sweep(now)
        return decision

    def _sweep(self, now: float) -> None:
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        if len(self._tats) > self._max_keys:  # all active: drop the oldest half
            kept = sorted(self._tats.items(), key=lambda item: item[1])[len(self._tats) // 2 :]
            self._tats = dict(kept)

    def __len__(self) -> int:
        """How many keys are held (for tests and sweeps)."""
        return len(self._tats)


GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if now < allow_at then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, 0}
"""
"""GCRA on one key in microseconds of Redis's clock; returns ``{allowed, wait_us}``."""


class RedisLimiter:
    """GCRA in Redis (one Lua script per request), shared by every replica; fails open."""

    name = "redis"

    def __init__(self, redis: RedisConnection, prefix: str = "concierge:") -> None:
        """Keep TATs in ``redis`` under ``<prefix>rl:<key>``."""
        self.redis = redis
        self.prefix = prefix
        self._script = redis.client.register_script(GCRA_SCRIPT)
        self.failed_open = 0
        """Requests allowed without counting because Redis was unavailable."""

    @property
    def degraded(self) -> bool:
        """Whether limits are not enforced right now (Redis unavailable: failing open)."""
        return not self.redis.available

    async def hit(self, key: str, limit: Limit) -> Decision:
        """Count a request in Redis; allow it (and log once) when Redis does not answer."""
        interval_us = max(1, round(limit.interval * 1_000_000))
        try:
            allowed, wait_us = await self.redis.run(
                lambda client: self._script(
                    keys=[f"{self.prefix}rl:{key}"], args=[interval_us, limit.burst], client=client
                )
            )
        except RedisUnavailable:
            self.failed_open += 1
            return ALLOWED
        if int(allowed) == 1:
            return ALLOWED
        return Decision(False, int(wait_us) / 1_000_000)
