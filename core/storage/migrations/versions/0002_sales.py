"""Sales: contacts and their conversations, leads, consents, quotes, the delivery outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def _fk(column: str, target: str, table: str, *, nullable: bool = False) -> sa.Column[object]:
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.Column(column, sa.String(32), sa.ForeignKey(target, name=name), nullable=nullable)


def upgrade() -> None:
    """Create the sales tables."""
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("email_normalized", sa.String(320), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("company", sa.String(200), nullable=True),
        sa.Column("role", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.UniqueConstraint("email_normalized", name="uq_contacts_email_normalized"),
    )
    op.create_table(
        "contact_conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        _fk("contact_id", "contacts.id", "contact_conversations"),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.UniqueConstraint(
            "contact_id", "conversation_id", name="uq_contact_conversations_contact_id"
        ),
    )
    op.create_index("ix_contact_conversations_contact_id", "contact_conversations", ["contact_id"])
    op.create_index(
        "ix_contact_conversations_conversation_id", "contact_conversations", ["conversation_id"]
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.String(32), primary_key=True),
        _fk("contact_id", "contacts.id", "leads"),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("team_size", sa.Integer(), nullable=True),
        sa.Column("budget", sa.String(40), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("timeline", sa.String(200), nullable=True),
        sa.Column("need", sa.Text(), nullable=True),
        sa.Column("products_asked", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("contactable", sa.Boolean(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.UniqueConstraint("contact_id", name="uq_leads_contact_id"),
    )
    op.create_index("ix_leads_conversation_id", "leads", ["conversation_id"])
    op.create_table(
        "consents",
        sa.Column("id", sa.String(32), primary_key=True),
        _fk("contact_id", "contacts.id", "consents"),
        _fk("lead_id", "leads.id", "consents"),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("answered_at", _TZ, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_index("ix_consents_contact_id", "consents", ["contact_id"])
    op.create_index("ix_consents_lead_id", "consents", ["lead_id"])
    op.create_table(
        "quotes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        _fk("lead_id", "leads.id", "quotes", nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("subtotal", sa.String(40), nullable=False),
        sa.Column("discount_total", sa.String(40), nullable=False),
        sa.Column("tax_rate", sa.String(40), nullable=False),
        sa.Column("tax", sa.String(40), nullable=False),
        sa.Column("shipping", sa.String(40), nullable=False),
        sa.Column("total", sa.String(40), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.UniqueConstraint("number", name="uq_quotes_number"),
        sa.UniqueConstraint("token", name="uq_quotes_token"),
    )
    op.create_index("ix_quotes_conversation_id", "quotes", ["conversation_id"])
    op.create_index("ix_quotes_lead_id", "quotes", ["lead_id"])
    op.create_table(
        "number_sequences",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        _fk("lead_id", "leads.id", "outbox"),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TZ, nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("lease_until", _TZ, nullable=True),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("crm_id", sa.String(128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("delivered_at", _TZ, nullable=True),
        sa.UniqueConstraint("lead_id", "kind", name="uq_outbox_lead_id"),
    )
    op.create_index("ix_outbox_lead_id", "outbox", ["lead_id"])
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(32), primary_key=True),
        _fk("entry_id", "outbox.id", "delivery_attempts"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("finished_at", _TZ, nullable=False),
    )
    op.create_index("ix_delivery_attempts_entry_id", "delivery_attempts", ["entry_id"])


def downgrade() -> None:
    """Drop the sales tables (children first)."""
    for table in (
        "delivery_attempts",
        "outbox",
        "number_sequences",
        "quotes",
        "consents",
        "leads",
        "contact_conversations",
        "contacts",
    ):
        op.drop_table(table)
