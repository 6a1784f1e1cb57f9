"""The demo shop's landing page and the widget's static files.

``GET /`` shows Kestrel Coffee Works with a few products from the catalog and embeds the
widget with one script tag; ``GET /widget.js`` and ``GET /widget.css`` serve the widget.
Nothing on these pages is loaded from another origin.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from string import Template
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from bot.deps import SettingsDep

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
HIGHLIGHTS = 4
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF "}

PAGE_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Headers of the HTML pages: everything from this origin, nothing from elsewhere."""


def render_template(name: str, **values: str) -> str:
    """Fill ``bot/templates/<name>``; callers escape the values they pass."""
    template = Template((TEMPLATES_DIR / name).read_text(encoding="utf-8"))
    return template.substitute(values)


def load_products(path: Path) -> list[dict[str, Any]]:
    """Return the catalog's products (a list, or ``{"products": [...]}``); [] if unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        logger.warning("pages.catalog.unreadable path=%s error=%s", path, error)
        return []
    if isinstance(data, Mapping):
        data = data.get("products", [])
    if not isinstance(data, list):
        return []
    return [dict(p) for p in data if isinstance(p, Mapping) and p.get("name")]


STOCK_LABELS = {
    "in_stock": "In stock",
    "low_stock": "Only a few left",
    "out_of_stock": "Out of stock",
    "preorder": "Pre-order",
}
"""How the catalog's ``stock`` states read on the page."""


def _in_stock(product: Mapping[str, Any]) -> bool:
    stock = product.get("stock", "in_stock")
    if isinstance(stock, bool):
        return stock
    if isinstance(stock, int | float):
        return stock > 0
    return str(stock) in {"in_stock", "low_stock"}


def _stock_label(product: Mapping[str, Any]) -> str:
    stock = product.get("stock", "in_stock")
    if isinstance(stock, str):
        return STOCK_LABELS.get(stock, stock.replace("_", " ").capitalize())
    return "In stock" if _in_stock(product) else "Out of stock"


def _category_label(product: Mapping[str, Any]) -> str:
    text = str(product.get("category") or "").replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def pick_highlights(
    products: list[dict[str, Any]], limit: int = HIGHLIGHTS
) -> list[dict[str, Any]]:
    """Pick up to ``limit`` products, in stock first and one per category where possible."""
    ordered = sorted(products, key=lambda p: not _in_stock(p))
    chosen: list[dict[str, Any]] = []
    categories: set[str] = set()
    for product in ordered:
        category = str(product.get("category") or "")
        if category not in categories:
            chosen.append(product)
            categories.add(category)
        if len(chosen) == limit:
            return chosen
    for product in ordered:
        if len(chosen) == limit:
            break
        if product not in chosen:
            chosen.append(product)
    return chosen


def format_price(product: Mapping[str, Any]) -> str:
    """Return a display price like ``€1,290``, ``€12.50`` or ``€22 per month``."""
    try:
        amount = Decimal(str(product.get("price")))
    except (InvalidOperation, ValueError):
        return ""
    if not amount.is_finite():
        return ""
    currency = str(product.get("currency") or "EUR").upper()
    symbol = CURRENCY_SYMBOLS.get(currency)
    number = f"{amount:,.2f}".removesuffix(".00")
    price = f"{symbol}{number}" if symbol else f"{number} {currency}"
    unit = str(product.get("price_unit") or "").strip()
    if unit and unit.lower() not in {"one-off", "each", "item", "unit"}:
        price += f" {unit}" if unit.lower().startswith("per ") else f" / {unit}"
    return price


def product_card(product: Mapping[str, Any]) -> str:
    """Return one product's card as escaped HTML."""
    esc = html.escape
    stock_class = "stock" if _in_stock(product) else "stock out"
    return (
        f'<article class="product" id="product-{esc(str(product.get("id", "")))}">'
        f'<span class="category">{esc(_category_label(product))}</span>'
        f"<h3>{esc(str(product['name']))}</h3>"
        f"<p>{esc(str(product.get('summary') or ''))}</p>"
        f'<div class="meta"><span class="price">{esc(format_price(product))}</span>'
        f'<span class="{stock_class}">{esc(_stock_label(product))}</span></div></article>'
    )


def products_html(path: Path) -> str:
    """Return the highlights grid, or a short note when the catalog has no products."""
    highlights = pick_highlights(load_products(path))
    if not highlights:
        return '<p class="empty">Our catalog is being updated. Ask the assistant what we stock.</p>'
    cards = "\n".join(product_card(p) for p in highlights)
    return f'<div class="grid">{cards}</div>'


@router.get("/", response_class=HTMLResponse)
def index(settings: SettingsDep) -> HTMLResponse:
    """Show the demo shop's landing page with the widget embedded."""
    page = render_template("index.html", products=products_html(settings.resolved_catalog_path))
    return HTMLResponse(page, headers=PAGE_SECURITY_HEADERS)


@router.get("/widget.js")
def widget_js() -> FileResponse:
    """Serve the chat widget: embed it with ``<script src=".../widget.js" defer>``."""
    return FileResponse(
        STATIC_DIR / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/widget.css")
def widget_css() -> FileResponse:
    """Serve the widget's stylesheet (the widget adds the link itself)."""
    return FileResponse(
        STATIC_DIR / "widget.css",
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )
