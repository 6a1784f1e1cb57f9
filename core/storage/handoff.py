"""Handoffs to a person: one row per request, and every change of its state with who and when.

States: ``waiting`` (for a person), ``active`` (a person is answering; the bot is silent),
``returned`` (handed back to the bot) and ``closed``. A conversation with no open handoff
(``waiting`` or ``active``) is with the bot. At most one handoff per conversation is open
(a partial unique index), and changes are conditional updates on the state they leave, so
two agents can never both claim one conversation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base, new_id, utcnow

WAITING = "waiting"
ACTIVE = "active"
RETURNED = "returned"
CLOSED = "closed"
OPEN_STATES = (WAITING, ACTIVE)
"""States in which the conversation does not reach Rasa's NLU."""
_OPEN = text("state IN ('waiting', 'active')")


class Handoff(Base):
    """One request for a person in one conversation, from the trigger to its end."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index("ix_handoffs_state_created_at", "state", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=WAITING)
    reason: Mapped[str] = mapped_column(String(64))
    """``customer_request``, ``fallback``, ``hot_lead``..."""
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    """What the customer asked, for the queue."""
    request_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The ``handoff_requests`` row the action server wrote, when there is one."""
    agent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    agent_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HandoffTransition(Base):
    """One change of a handoff's state: from, to, who and when."""

    __tablename__ = "handoff_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """None for the transition that opened the handoff (from the bot)."""
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(360))
    """``customer``, ``system`` or ``agent:<email>``."""
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HandoffThread(Base):
    """The message a Telegram group of reps got about a handoff (replies to it answer)."""

    __tablename__ = "handoff_threads"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
