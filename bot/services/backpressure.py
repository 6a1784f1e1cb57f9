"""A bound on the conversation turns one gateway process runs at once.

Beyond ``limit`` turns in flight a new one is refused at once (the caller answers 503 with
``Retry-After`` and the fallback text) instead of queueing behind the others: under
overload customers get a fast, honest answer, and the turns already running keep their
latency. The count lives in the process (each replica bounds its own work); the event loop
runs one callback at a time, so plain integers are enough.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


class TurnGate:
    """Counts the turns in flight; :meth:`try_enter` refuses one beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        """Let at most ``limit`` turns run at once (``limit`` >= 1)."""
        if limit < 1:
            raise ValueError("the bound on turns in flight must be at least 1")
        self.limit = limit
        self.in_flight = 0
        self.refused = 0
        """Turns refused since the start (for logs and tests)."""

    def try_enter(self) -> bool:
        """Take a place for one turn; False (and nothing taken) when all are taken."""
        if self.in_flight >= self.limit:
            self.refused += 1
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        """Give back the place a turn took with :meth:`try_enter`."""
        if self.in_flight <= 0:
            raise RuntimeError("TurnGate.leave() without a matching try_enter()")
        self.in_flight -= 1
