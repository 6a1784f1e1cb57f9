"""Knowledge console: background ingestion jobs and the queue of unanswered questions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[datetime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create ``kb_jobs`` and ``unanswered_questions``."""
    op.create_table(
        "kb_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),  # upload, replace, delete, reindex
        sa.Column("status", sa.String(16), nullable=False),  # queued, running, done, failed
        sa.Column("requested_by", sa.String(320), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),  # [{name, status, chunks, error}]
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _created_at(),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        # reason: no_answer, fallback, handoff, thumbs_down
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("origin_id", sa.String(64), nullable=False),  # the row it came from
        sa.Column("group_id", sa.String(32), nullable=True, index=True),
        sa.Column("status", sa.String(16), nullable=False),  # open, answered, linked, dismissed
        sa.Column("resolution", sa.JSON(), nullable=True),
        sa.Column("resolved_by", sa.String(320), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.UniqueConstraint("reason", "origin_id", name="uq_unanswered_questions_origin"),
    )


def downgrade() -> None:
    """Drop ``unanswered_questions`` and ``kb_jobs``."""
    op.drop_table("unanswered_questions")
    op.drop_table("kb_jobs")
