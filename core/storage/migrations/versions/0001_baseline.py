"""Baseline: answers, feedback, handoff and contact requests (the tables of release 0.1).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create the four tables of release 0.1."""
    op.create_table(
        "kb_answers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("chunk_ids", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_kb_answers_sender_id", "kb_answers", ["sender_id"])
    op.create_table(
        "kb_feedback",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "answer_id",
            sa.String(32),
            sa.ForeignKey("kb_answers.id", name="fk_kb_feedback_answer_id_kb_answers"),
            nullable=False,
        ),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("chunk_ids", sa.JSON(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_kb_feedback_answer_id", "kb_feedback", ["answer_id"])
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("last_message", sa.Text(), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _created_at(),
    )
    op.create_index("ix_handoff_requests_sender_id", "handoff_requests", ["sender_id"])
    op.create_table(
        "contact_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_contact_requests_sender_id", "contact_requests", ["sender_id"])


def downgrade() -> None:
    """Drop the four tables."""
    for table in ("contact_requests", "handoff_requests", "kb_feedback", "kb_answers"):
        op.drop_table(table)
