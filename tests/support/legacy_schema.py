"""The tables exactly as release 0.1 created them with ``create_all`` (before migrations).

A frozen copy, so the adoption test keeps testing that schema however the models change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Return a new opaque identifier for a row."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base of the release 0.1 tables."""


class KBAnswer(Base):
    """One answer (or refusal) the knowledge base gave in a conversation."""

    __tablename__ = "kb_answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    """None when the assistant declined (below the confidence threshold)."""
    confidence: Mapped[float] = mapped_column(default=0.0)
    chunk_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Feedback(Base):
    """A customer's thumbs up or down on an answer, kept with what was asked and answered."""

    __tablename__ = "kb_feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    answer_id: Mapped[str] = mapped_column(ForeignKey("kb_answers.id"), index=True)
    sender_id: Mapped[str] = mapped_column(String(255))
    rating: Mapped[str] = mapped_column(String(8))
    """``up`` or ``down``."""
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    chunk_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class HandoffRequest(Base):
    """A customer asked for a person (or the fallback offered one and they accepted)."""

    __tablename__ = "handoff_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    reason: Mapped[str] = mapped_column(String(64))
    last_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ContactRequest(Base):
    """A customer left an email so that a person can follow up (sales or support)."""

    __tablename__ = "contact_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    email: Mapped[str] = mapped_column(String(320))
    topic: Mapped[str] = mapped_column(String(64))
    """``sales``, ``support`` or ``unanswered_question``."""
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
