"""``GET /quotes/{token}``: the printable page of a quote the assistant made in the chat.

The token is the quote's unguessable page token (``secrets.token_urlsafe(24)``); an unknown
one is a 404 that says nothing about which quotes exist. The page carries a customer's
quote, so it is never cached (``Cache-Control: no-store``), never indexed, and sends no
referrer that would leak its address to another site.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from bot.deps import EngineDep, SettingsDep
from bot.routers.errors import ApiError
from bot.routers.pages import PAGE_SECURITY_HEADERS
from bot.templating import render
from core.storage import session_scope
from core.storage.quotes import StoredQuote, find_quote_by_token
from knowledge.catalog import format_money

logger = logging.getLogger(__name__)

router = APIRouter(tags=["quotes"], include_in_schema=False)

QUOTE_PAGE_HEADERS = {
    **PAGE_SECURITY_HEADERS,
    "Cache-Control": "no-store, private",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
"""The pages' security headers, plus no caching, no indexing and no referrer."""
MAX_TOKEN_LENGTH = 128


def _find(engine: Engine, token: str) -> StoredQuote | None:
    with session_scope(engine) as session:
        return find_quote_by_token(session, token)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def quote_view(quote: StoredQuote) -> dict[str, object]:
    """Return what the template shows of a quote, amounts worded in its currency."""

    def amount(value: Decimal) -> str:
        return format_money(float(value), quote.currency)

    return {
        "number": quote.number,
        "created": f"{quote.created_at.day} {quote.created_at:%B %Y}",
        "valid_until": f"{quote.valid_until.day} {quote.valid_until:%B %Y}",
        "currency": quote.currency,
        "country": quote.country or "",
        "lines": [
            {
                "name": line.name,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": amount(line.unit_price),
                "discount": _percent(line.discount_rate) if line.discount_rate else "",
                "line_total": amount(line.line_total),
            }
            for line in quote.lines
        ],
        "subtotal": amount(quote.subtotal),
        "discount_total": amount(quote.discount_total) if quote.discount_total else "",
        "shipping": amount(quote.shipping),
        "tax_rate": _percent(quote.tax_rate),
        "tax": amount(quote.tax),
        "total": amount(quote.total),
        "notes": list(quote.notes),
    }


@router.get("/quotes/{token}", response_class=HTMLResponse)
async def quote_page(token: str, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """Show a stored quote, ready to print; 404 for a token that names none."""
    quote = None
    if 0 < len(token) <= MAX_TOKEN_LENGTH:
        quote = await asyncio.to_thread(_find, engine, token)
    if quote is None:
        raise ApiError(404, "there is no such quote")
    company = settings.company
    page = render(
        "quote.html",
        quote=quote_view(quote),
        company_name=company.name,
        sales_email=company.sales_email,
    )
    return HTMLResponse(page, headers=QUOTE_PAGE_HEADERS)
