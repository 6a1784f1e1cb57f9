"""The demo shop's landing page and the widget's static files.

``GET /`` shows the company (``settings.company_name``) with a few products from the
catalog and embeds the widget with one script tag; ``GET /widget.js`` and ``GET /widget.css``
serve the widget.
Nothing on these pages is loaded from another origin.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from bot.deps import SettingsDep
from bot.templating import render
from knowledge.catalog import STOCK_LABELS, Catalog, CatalogError, Product

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
HIGHLIGHTS = 4

PAGE_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Headers of the HTML pages: everything from this origin, nothing from elsewhere."""


def parse_products(data: Any) -> list[Product]:
    """Return the valid products of catalog JSON (a list, or ``{"products": [...]}``).

    Each product is checked by the catalog's own rules; one that fails is skipped (and
    logged) so a single typo does not empty the page.
    """
    currency: Any = "EUR"
    if isinstance(data, Mapping):
        currency = data.get("currency", "EUR")
        data = data.get("products", [])
    if not isinstance(data, list):
        return []
    products: list[Product] = []
    for index, item in enumerate(data):
        try:
            products.extend(Catalog.from_dict({"currency": currency, "products": [item]}))
        except CatalogError as error:
            logger.warning("pages.catalog.product_skipped index=%d error=%s", index, error)
    return products


def category_labeller(data: Any) -> Callable[[str], str]:
    """Return ``slug -> label`` from the catalog's ``categories`` block (else from the slug)."""
    block = data.get("categories", []) if isinstance(data, Mapping) else []
    try:
        catalog = Catalog.from_dict({"categories": block, "products": []})
    except CatalogError as error:
        logger.warning("pages.catalog.categories_invalid error=%s", error)
        catalog = Catalog([])
    return catalog.category_label


def read_catalog(path: Path) -> Any:
    """Return the catalog file's JSON, or None when it is missing or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        logger.warning("pages.catalog.unreadable path=%s error=%s", path, error)
        return None


def load_products(path: Path) -> list[Product]:
    """Return the catalog's valid products; [] if the file is missing or not JSON."""
    data = read_catalog(path)
    return parse_products(data) if data is not None else []


def load_offer(path: Path) -> str:
    """Return what the company sells, in a few words (the catalog's ``offer``), or ""."""
    try:
        return Catalog.load(path).offer
    except CatalogError:
        return ""


def pick_highlights(products: list[Product], limit: int = HIGHLIGHTS) -> list[Product]:
    """Pick up to ``limit`` products, in stock first and one per category where possible."""
    ordered = sorted(products, key=lambda p: not p.available)
    chosen: list[Product] = []
    categories: set[str] = set()
    for product in ordered:
        if product.category not in categories:
            chosen.append(product)
            categories.add(product.category)
        if len(chosen) == limit:
            return chosen
    for product in ordered:
        if len(chosen) == limit:
            break
        if product not in chosen:
            chosen.append(product)
    return chosen


def product_card(product: Product, category_label: Callable[[str], str] | None = None) -> str:
    """Return one product's card (price, stock and category worded by the catalog), escaped."""
    return render(
        "product_card.html",
        product=product,
        stock_labels=STOCK_LABELS,
        category_label=category_label or category_labeller({}),
    )


@router.get("/", response_class=HTMLResponse)
def index(settings: SettingsDep) -> HTMLResponse:
    """Show the demo shop's landing page with the widget embedded."""
    page = render(
        "index.html",
        company_name=settings.company_name,
        support_email=settings.support_email,
        offer=load_offer(settings.resolved_catalog_path),
        products=pick_highlights(load_products(settings.resolved_catalog_path)),
        category_label=category_labeller(read_catalog(settings.resolved_catalog_path)),
        stock_labels=STOCK_LABELS,
    )
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
