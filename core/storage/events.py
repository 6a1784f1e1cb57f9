"""Events pushed to a customer's open chat (an agent's reply, a notice), kept for resuming.

Each row's integer ``id`` is the event id the browser resumes from (``Last-Event-ID``): a
reconnect asks for the rows after the last id it saw, so nothing is lost or shown twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base, utcnow


class ConversationEvent(Base):
    """One event for one conversation, in the order it was published."""

    __tablename__ = "conversation_events"
    __table_args__ = (Index("ix_conversation_events_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    """``message`` (messages to show), ``agent_joined``, ``agent_left``..."""
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
