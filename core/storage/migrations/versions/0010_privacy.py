"""Data rights: a record of each export and erasure, without the personal data itself.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``privacy_requests``."""
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),  # export, erase
        sa.Column("subject_ref", sa.String(64), nullable=False, index=True),  # keyed hash
        sa.Column("requested_by", sa.String(320), nullable=False),  # staff email or "cli"
        sa.Column("counts", sa.JSON(), nullable=False),  # rows touched per store
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop ``privacy_requests``."""
    op.drop_table("privacy_requests")
