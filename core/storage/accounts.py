"""Staff accounts: people who sign in (admin, support, sales), their sessions, sign-in attempts.

Sessions are stored server-side so they expire and can be revoked; only a hash of the
session's secret is kept, so a copy of the database does not sign anyone in. Sign-in attempts
are kept (keyed by hashes, not the typed email or the client address) so throttling survives
a restart and works across replicas.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base, new_id, utcnow

Role = Literal["admin", "support", "sales"]
"""What a staff account may do: administer, answer support conversations, or sales ones."""
ROLES: tuple[Role, ...] = get_args(Role)


class StaffUser(Base):
    """A person who signs in to the console; ``email`` is stored lower-cased."""

    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffSession(Base):
    """One sign-in: valid until ``expires_at`` unless ``revoked_at`` is set first."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 (hex) of the secret in the session cookie."""
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    """What every form and state-changing request of this session must send back."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginAttempt(Base):
    """One sign-in attempt, counted by account and by client address for throttling."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account_key_created_at", "account_key", "created_at"),
        Index("ix_login_attempts_address_key_created_at", "address_key", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_key: Mapped[str] = mapped_column(String(64))
    """Keyed hash of the email as typed (lower-cased)."""
    address_key: Mapped[str] = mapped_column(String(64))
    """Keyed hash of the client's address."""
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
