"""Helpers of the demo page: prices, stock, the choice of highlights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.routers.pages import (
    category_labeller,
    load_products,
    parse_products,
    pick_highlights,
    product_card,
)
from knowledge.catalog import Product


def item(**fields: Any) -> dict[str, Any]:
    """A valid catalog entry with ``fields`` changed."""
    base: dict[str, Any] = {
        "id": "x",
        "name": "X",
        "category": "grinders",
        "price": 10,
        "currency": "EUR",
    }
    return {**base, **fields}


def product(**fields: Any) -> Product:
    (built,) = parse_products([item(**fields)])
    return built


def test_cards_show_the_catalog_price() -> None:
    assert "€1,290" in product_card(product(price=1290, price_unit="one-off"))
    assert "€12.50" in product_card(product(price=12.5))
    assert "€22 per month" in product_card(product(price=22, price_unit="per month"))
    assert "9 SEK" in product_card(product(price=9, currency="SEK"))
    assert parse_products([item(price="n/a")]) == []
    assert parse_products([{"id": "x", "name": "X", "category": "grinders"}]) == []


def test_cards_use_the_catalog_stock_wording() -> None:
    assert "In stock" in product_card(product(stock="in_stock"))
    assert "Only a few left" in product_card(product(stock="low_stock"))
    out = product_card(product(stock="out_of_stock"))
    assert "Out of stock" in out and 'class="stock out"' in out


def test_pick_highlights_prefers_stock_and_variety() -> None:
    products = parse_products(
        [
            item(id="a", name="A", category="grinders", stock="out_of_stock"),
            item(id="b", name="B", category="grinders", stock="in_stock"),
            item(id="c", name="C", category="grinders", stock="low_stock"),
            item(id="d", name="D", category="coffee", stock="in_stock"),
        ]
    )
    assert [p.id for p in pick_highlights(products, limit=2)] == ["b", "d"]
    assert [p.id for p in pick_highlights(products, limit=4)] == ["b", "d", "c", "a"]


def test_load_products_accepts_both_shapes(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"products": [item(), {"id": "no-name"}, 3]}))
    assert [p.name for p in load_products(path)] == ["X"]
    path.write_text(json.dumps([item(name="Y")]))
    assert [p.name for p in load_products(path)] == ["Y"]
    path.write_text("{broken")
    assert load_products(path) == []
    assert load_products(tmp_path / "missing.json") == []


def test_product_card_escapes() -> None:
    card = product_card(
        Product(
            id='"x', name="<img src=x>", category="grinders", price=5, currency="EUR",
            summary="a & b",
        )
    )  # fmt: skip
    assert "<img" not in card
    assert "&lt;img src=x&gt;" in card
    assert "a &amp; b" in card
    assert 'id="product-&#34;x"' in card


def test_cards_name_the_category_as_the_catalog_labels_it() -> None:
    labels = category_labeller({"categories": [{"id": "brewers", "label": "Filter & cold brew"}]})
    assert "Filter &amp; cold brew" in product_card(product(category="brewers"), labels)
    assert "Service plans" in product_card(product(category="service-plans"), labels)
    assert category_labeller({"categories": "junk"})("e-bikes") == "E bikes"
