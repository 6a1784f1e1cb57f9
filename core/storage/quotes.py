"""Quotes: save a priced draft with a number and an unguessable page token, find it again.

The pricing engine builds a :class:`QuoteDraft`; :func:`save_quote` stores it as a
:class:`StoredQuote` with a human-readable number (``Q-2026-000042``, from a per-year
counter) and a token for its page (``/quotes/{token}``). Amounts are kept as exact decimals.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.storage.models import NumberSequence, Quote, as_utc, utcnow


@dataclass(frozen=True)
class QuoteLine:
    """One line of a quote: a product, how many, its price and discount."""

    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount_rate: Decimal
    """e.g. ``Decimal("0.05")`` for 5 %."""
    line_total: Decimal
    """After the discount, before tax."""


@dataclass(frozen=True)
class QuoteDraft:
    """A priced quote not yet stored."""

    conversation_id: str
    channel: str
    currency: str
    country: str | None
    lines: tuple[QuoteLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_rate: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal
    valid_until: date
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StoredQuote(QuoteDraft):
    """A stored quote: the draft plus its number, page token and time of creation."""

    number: str
    token: str = field(repr=False)
    created_at: datetime


def _line_to_json(line: QuoteLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": str(line.unit_price),
        "discount_rate": str(line.discount_rate),
        "line_total": str(line.line_total),
    }


def _line_from_json(data: dict[str, Any]) -> QuoteLine:
    return QuoteLine(
        sku=str(data["sku"]),
        name=str(data["name"]),
        quantity=int(data["quantity"]),
        unit_price=Decimal(data["unit_price"]),
        discount_rate=Decimal(data["discount_rate"]),
        line_total=Decimal(data["line_total"]),
    )


def next_number(session: Session, name: str) -> int:
    """Return the next value of the counter ``name`` (one atomic increment, locked until commit)."""
    bump = (
        update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(value=NumberSequence.value + 1)
        .returning(NumberSequence.value)
        .execution_options(synchronize_session=False)
    )
    value = session.scalar(bump)
    if value is not None:
        return int(value)
    try:
        with session.begin_nested():
            session.add(NumberSequence(name=name, value=1))
        return 1
    except IntegrityError:  # another transaction created the counter first
        value = session.scalar(bump)
        assert value is not None
        return int(value)


def to_stored(row: Quote) -> StoredQuote:
    """Return the stored quote of a ``quotes`` row."""
    return StoredQuote(
        conversation_id=row.conversation_id,
        channel=row.channel,
        currency=row.currency,
        country=row.country,
        lines=tuple(_line_from_json(line) for line in row.lines),
        subtotal=Decimal(row.subtotal),
        discount_total=Decimal(row.discount_total),
        tax_rate=Decimal(row.tax_rate),
        tax=Decimal(row.tax),
        shipping=Decimal(row.shipping),
        total=Decimal(row.total),
        valid_until=row.valid_until,
        notes=tuple(row.notes),
        number=row.number,
        token=row.token,
        created_at=as_utc(row.created_at),
    )


def save_quote(session: Session, draft: QuoteDraft) -> StoredQuote:
    """Store ``draft`` with a new number and page token (in the caller's transaction)."""
    now = utcnow()
    sequence = next_number(session, f"quote-{now.year}")
    row = Quote(
        number=f"Q-{now.year}-{sequence:06d}",
        token=secrets.token_urlsafe(24),
        conversation_id=draft.conversation_id,
        channel=draft.channel,
        currency=draft.currency,
        country=draft.country,
        lines=[_line_to_json(line) for line in draft.lines],
        subtotal=str(draft.subtotal),
        discount_total=str(draft.discount_total),
        tax_rate=str(draft.tax_rate),
        tax=str(draft.tax),
        shipping=str(draft.shipping),
        total=str(draft.total),
        valid_until=draft.valid_until,
        notes=list(draft.notes),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return to_stored(row)


def find_quote_by_token(session: Session, token: str) -> StoredQuote | None:
    """Return the quote whose page token is ``token``, or None."""
    if not token:
        return None
    row = session.scalar(select(Quote).where(Quote.token == token))
    return to_stored(row) if row is not None else None


def quotes_for_conversation(session: Session, conversation_id: str) -> list[StoredQuote]:
    """Return the quotes made in a conversation, oldest first."""
    rows = session.scalars(
        select(Quote)
        .where(Quote.conversation_id == conversation_id)
        .order_by(Quote.created_at, Quote.number)
    )
    return [to_stored(row) for row in rows]
