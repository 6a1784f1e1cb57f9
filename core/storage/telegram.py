"""Telegram updates already taken, so each ``update_id`` is processed once by every replica.

Telegram resends an update it thinks was not received; a replica claims an update by
inserting its row (the primary key refuses a second claim), and rows older than the
time-to-live are deleted, so the table stays small and an id is only remembered as long as
Telegram could still resend it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base, utcnow


class TelegramUpdate(Base):
    """One update a gateway replica has claimed for processing."""

    __tablename__ = "telegram_updates"
    __table_args__ = (Index("ix_telegram_updates_received_at", "received_at"),)

    bot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The bot's numeric id (the part of its token before ``:``), never the token."""
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
