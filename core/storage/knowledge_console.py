"""The knowledge console's tables: background ingestion jobs and unanswered questions.

``kb_jobs`` holds one row per upload, replacement, deletion or re-index that staff asked
for; the worker (or the gateway's background task) claims a ``queued`` row by a conditional
update, so one job runs once, and writes each file's outcome into ``files`` as it goes.
``unanswered_questions`` is the queue of what customers asked that the bot could not answer,
one row per origin (a declined answer, a fallback turn, a handoff, a thumbs-down).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base, new_id, utcnow

JOB_KINDS = ("upload", "replace", "delete", "reindex")
JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"

REASONS = ("no_answer", "fallback", "handoff", "thumbs_down")
OPEN = "open"
ANSWERED = "answered"
LINKED = "linked"
DISMISSED = "dismissed"
STATUSES = (OPEN, ANSWERED, LINKED, DISMISSED)


class KBJob(Base):
    """One knowledge-base change staff asked for, with its progress file by file."""

    __tablename__ = "kb_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    """``upload``, ``replace``, ``delete`` or ``reindex``."""
    status: Mapped[str] = mapped_column(String(16), default=JOB_QUEUED)
    requested_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """``[{name, status, chunks, error}]``: one entry per file, in order."""
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UnansweredQuestion(Base):
    """A question that ended without an answer, kept with its conversation until resolved."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (
        UniqueConstraint("reason", "origin_id", name="uq_unanswered_questions_origin"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))
    """``no_answer``, ``fallback``, ``handoff`` or ``thumbs_down``."""
    origin_id: Mapped[str] = mapped_column(String(64))
    """The id of the row it came from (answer, event, handoff or feedback)."""
    group_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    """Similar questions share a group (the id of the group's first question)."""
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
