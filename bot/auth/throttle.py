"""Sign-in throttling per account and per client address, counted in the database.

Failed attempts are stored (``login_attempts``), so the limits hold across a restart and
across replicas. An account is throttled after ``per_account`` failures within the window
(a successful sign-in starts its count again); a client address after ``per_address``
failures within the window, whatever accounts it tried. Only keyed hashes of the email and
the address are stored.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.auth.conversation_tokens import CONVERSATION_KEY_NAME
from bot.auth.keys import load_or_create_key
from core.config import Settings
from core.storage.accounts import LoginAttempt
from core.storage.models import as_utc

PURPOSE = b"concierge.login-throttle.v1\x00"


@dataclass(frozen=True)
class ThrottleLimits:
    """How many failures are allowed within how many seconds."""

    per_account: int
    per_address: int
    window_seconds: int


@dataclass(frozen=True)
class AttemptKeys:
    """The keyed hashes an attempt is counted under."""

    account: str
    address: str


class LoginThrottle:
    """Counts sign-in attempts and says how long a throttled account or address must wait."""

    def __init__(self, key: bytes, limits: ThrottleLimits) -> None:
        """Hash with ``key``; throttle by ``limits``."""
        self._key = key
        self.limits = limits

    def _hash(self, kind: str, value: str) -> str:
        text = f"{kind}\x00{value}".encode()
        return hmac.new(self._key, PURPOSE + text, hashlib.sha256).hexdigest()

    def keys(self, email: str, address: str) -> AttemptKeys:
        """Return the hashes of an attempt on ``email`` from ``address``."""
        return AttemptKeys(
            account=self._hash("account", email.strip().lower()),
            address=self._hash("address", address),
        )

    def retry_after(self, session: Session, keys: AttemptKeys, now: datetime) -> int | None:
        """Return the seconds to wait before trying again, or None when not throttled."""
        window = timedelta(seconds=self.limits.window_seconds)
        since = now - window
        last_success = session.scalar(
            select(func.max(LoginAttempt.created_at)).where(
                LoginAttempt.account_key == keys.account, LoginAttempt.succeeded.is_(True)
            )
        )
        account_since = max(since, as_utc(last_success)) if last_success is not None else since
        waits = [
            self._wait(
                session,
                LoginAttempt.account_key == keys.account,
                account_since,
                self.limits.per_account,
                window,
                now,
            ),
            self._wait(
                session,
                LoginAttempt.address_key == keys.address,
                since,
                self.limits.per_address,
                window,
                now,
            ),
        ]
        longest = max((w for w in waits if w is not None), default=None)
        return longest

    @staticmethod
    def _wait(
        session: Session,
        condition: object,
        since: datetime,
        limit: int,
        window: timedelta,
        now: datetime,
    ) -> int | None:
        failures = [
            as_utc(moment)
            for moment in session.scalars(
                select(LoginAttempt.created_at)
                .where(
                    condition,  # type: ignore[arg-type]
                    LoginAttempt.succeeded.is_(False),
                    LoginAttempt.created_at > since,
                )
                .order_by(LoginAttempt.created_at)
            )
        ]
        if len(failures) < limit:
            return None
        lifted = failures[len(failures) - limit] + window
        return max(1, math.ceil((lifted - now).total_seconds()))

    def record(
        self, session: Session, keys: AttemptKeys, *, succeeded: bool, now: datetime
    ) -> None:
        """Store one attempt and forget the ones too old to count."""
        horizon = now - timedelta(seconds=self.limits.window_seconds)
        session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < horizon))
        session.add(
            LoginAttempt(
                account_key=keys.account,
                address_key=keys.address,
                succeeded=succeeded,
                created_at=now,
            )
        )


def login_throttle_for(settings: Settings) -> LoginThrottle:
    """Return the throttle of the deployment ``settings`` describe (its own hashing key)."""
    key = load_or_create_key(
        settings.conversation_token_secret, settings.data_dir, CONVERSATION_KEY_NAME
    )
    limits = ThrottleLimits(
        per_account=settings.login_max_failures_per_account,
        per_address=settings.login_max_failures_per_address,
        window_seconds=settings.login_throttle_window_seconds,
    )
    return LoginThrottle(key, limits)
