"""The app's own copy of Rasa's event stream, for analytics and the console.

Fed by the worker from Rasa's event broker (RabbitMQ in production, Rasa's SQL event broker
in the embedded default), idempotent by ``event_key``; nothing reads Rasa's tracker store.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``app_events`` and ``event_feed_cursors``."""
    op.create_table(
        "app_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_key", sa.String(64), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("type", sa.String(32), nullable=False),  # Rasa's event name: user, bot, action
        sa.Column("name", sa.String(128), nullable=True),  # intent or action name
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_app_events_conversation_id_timestamp", "app_events", ["conversation_id", "timestamp"]
    )
    op.create_index("ix_app_events_timestamp", "app_events", ["timestamp"])
    op.create_table(
        "event_feed_cursors",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("position", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop ``event_feed_cursors`` and ``app_events``."""
    op.drop_table("event_feed_cursors")
    op.drop_index("ix_app_events_timestamp", table_name="app_events")
    op.drop_index("ix_app_events_conversation_id_timestamp", table_name="app_events")
    op.drop_table("app_events")
