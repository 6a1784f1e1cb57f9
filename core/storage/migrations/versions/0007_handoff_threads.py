"""Handoff threads: the message a rep group got for each handoff, so replies find it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``handoff_threads``."""
    op.create_table(
        "handoff_threads",
        sa.Column(
            "handoff_id",
            sa.String(32),
            sa.ForeignKey("handoffs.id", name="fk_handoff_threads_handoff_id_handoffs"),
            primary_key=True,
        ),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("chat_id", "message_id", name="uq_handoff_threads_chat_id"),
    )


def downgrade() -> None:
    """Drop ``handoff_threads``."""
    op.drop_table("handoff_threads")
