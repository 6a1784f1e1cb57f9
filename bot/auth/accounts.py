"""Staff accounts: create, list, disable, and check a sign-in (throttled, hashed passwords)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.auth.passwords import hash_password, needs_rehash, rehash_password, verify_password
from bot.auth.sessions import revoke_user_sessions, start_session
from bot.auth.throttle import LoginThrottle
from core.storage.accounts import ROLES, StaffUser

logger = logging.getLogger(__name__)

EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")


class AccountError(ValueError):
    """An account operation that cannot be done; ``str(error)`` says why."""


def normalize_email(email: str) -> str:
    """Return ``email`` stripped and lower-cased, or raise :class:`AccountError`."""
    value = email.strip().lower()
    if not EMAIL_PATTERN.fullmatch(value) or "." not in value.rsplit("@", 1)[1]:
        raise AccountError(f"{email!r} is not an email address")
    return value


def check_role(role: str) -> str:
    """Return ``role`` when it is one of :data:`ROLES`, else raise :class:`AccountError`."""
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    return role


def create_user(session: Session, email: str, password: str, role: str) -> StaffUser:
    """Add a staff account (raises :class:`AccountError` or ``WeakPassword``)."""
    address = normalize_email(email)
    check_role(role)
    if session.scalar(select(StaffUser.id).where(StaffUser.email == address)) is not None:
        raise AccountError(f"an account for {address} already exists")
    user = StaffUser(email=address, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    logger.info("auth.user.created role=%s", role)
    return user


def list_users(session: Session) -> list[StaffUser]:
    """Return every staff account, oldest first."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.created_at, StaffUser.email)))


def disable_user(session: Session, email: str, *, now: datetime) -> int:
    """Disable an account and end its sessions; return how many sessions were ended."""
    address = normalize_email(email)
    user = session.scalar(select(StaffUser).where(StaffUser.email == address))
    if user is None:
        raise AccountError(f"no account for {address}")
    user.disabled = True
    ended = revoke_user_sessions(session, user.id, now=now)
    logger.info("auth.user.disabled sessions_ended=%d", ended)
    return ended


SignInProblem = Literal["wrong", "disabled", "throttled"]


@dataclass(frozen=True)
class SignInResult:
    """The outcome of a sign-in: a session secret, or why not (and how long to wait)."""

    secret: str | None = None
    problem: SignInProblem | None = None
    retry_after: int | None = None


def sign_in(
    session: Session,
    throttle: LoginThrottle,
    *,
    email: str,
    password: str,
    address: str,
    ttl_seconds: int,
    now: datetime,
) -> SignInResult:
    """Check a sign-in and start a session; every attempt counts toward throttling.

    A throttled account or address is refused before the password is checked. A wrong
    email and a wrong password look the same to the caller and take the same time.
    """
    keys = throttle.keys(email, address)
    wait = throttle.retry_after(session, keys, now)
    if wait is not None:
        logger.warning("auth.signin.throttled retry_after=%d", wait)
        return SignInResult(problem="throttled", retry_after=wait)
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        throttle.record(session, keys, succeeded=False, now=now)
        logger.info("auth.signin.failed reason=credentials")
        return SignInResult(problem="wrong")
    if user.disabled:
        throttle.record(session, keys, succeeded=False, now=now)
        logger.info("auth.signin.failed reason=disabled")
        return SignInResult(problem="disabled")
    if needs_rehash(user.password_hash):
        user.password_hash = rehash_password(password)
    throttle.record(session, keys, succeeded=True, now=now)
    secret = start_session(session, user, ttl_seconds=ttl_seconds, now=now)
    logger.info("auth.signin.ok role=%s", user.role)
    return SignInResult(secret=secret)
