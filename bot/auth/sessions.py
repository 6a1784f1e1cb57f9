"""Server-side staff sessions: created at sign-in, looked up per request, expired or revoked.

The cookie holds a random secret; the database keeps its SHA-256, the user, the session's
CSRF token and when it expires. A session stops working when it expires, when it is
revoked (sign-out) or when its account is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.storage.accounts import StaffSession, StaffUser
from core.storage.models import as_utc

SESSION_COOKIE = "concierge_session"
"""Name of the staff session cookie (HttpOnly, SameSite=Lax, Secure outside development)."""
MAX_COOKIE_LENGTH = 256


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request, and the session they use."""

    user_id: str
    email: str
    role: str
    session_hash: str
    csrf_token: str
    expires_at: datetime


def hash_secret(secret: str) -> str:
    """Return the hex SHA-256 of a session cookie's secret (what the database stores)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(session: Session, user: StaffUser, *, ttl_seconds: int, now: datetime) -> str:
    """Store a new session for ``user`` and return the secret for its cookie."""
    secret = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id_hash=hash_secret(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    return secret


def find_session(session: Session, secret: str, *, now: datetime) -> SignedIn | None:
    """Return who the cookie's ``secret`` signs in; None if unknown, expired, revoked, disabled."""
    if not secret or len(secret) > MAX_COOKIE_LENGTH:
        return None
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.id_hash == hash_secret(secret))
    ).first()
    if row is None:
        return None
    stored, user = row
    expires_at = as_utc(stored.expires_at)
    if stored.revoked_at is not None or expires_at <= now or user.disabled:
        return None
    return SignedIn(
        user_id=user.id,
        email=user.email,
        role=user.role,
        session_hash=stored.id_hash,
        csrf_token=stored.csrf_token,
        expires_at=expires_at,
    )


def revoke_session(session: Session, session_hash: str, *, now: datetime) -> None:
    """End one session (sign-out)."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.id_hash == session_hash, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_user_sessions(session: Session, user_id: str, *, now: datetime) -> int:
    """End every open session of ``user_id``; return how many there were."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
