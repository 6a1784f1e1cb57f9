"""Helpers of the demo page: prices, stock, the choice of highlights."""

from __future__ import annotations

import json
from pathlib import Path

from bot.routers.pages import format_price, load_products, pick_highlights, product_card


def test_format_price() -> None:
    assert format_price({"price": 1290, "currency": "EUR", "price_unit": "one-off"}) == "€1,290"
    assert format_price({"price": 12.5, "currency": "EUR"}) == "€12.50"
    assert format_price({"price": 22, "currency": "EUR", "price_unit": "per month"}) == (
        "€22 per month"
    )
    assert format_price({"price": 9, "currency": "SEK"}) == "9 SEK"
    assert format_price({"price": "n/a"}) == ""
    assert format_price({}) == ""


def test_pick_highlights_prefers_stock_and_variety() -> None:
    products = [
        {"id": "a", "name": "A", "category": "grinders", "stock": "out_of_stock"},
        {"id": "b", "name": "B", "category": "grinders", "stock": "in_stock"},
        {"id": "c", "name": "C", "category": "grinders", "stock": "low_stock"},
        {"id": "d", "name": "D", "category": "coffee", "stock": "in_stock"},
    ]
    assert [p["id"] for p in pick_highlights(products, limit=2)] == ["b", "d"]
    assert [p["id"] for p in pick_highlights(products, limit=4)] == ["b", "d", "c", "a"]


def test_load_products_accepts_both_shapes(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"products": [{"name": "X"}, {"id": "no-name"}, 3]}))
    assert load_products(path) == [{"name": "X"}]
    path.write_text(json.dumps([{"name": "Y"}]))
    assert load_products(path) == [{"name": "Y"}]
    path.write_text("{broken")
    assert load_products(path) == []
    assert load_products(tmp_path / "missing.json") == []


def test_product_card_escapes() -> None:
    card = product_card({"id": '"x', "name": "<img src=x>", "summary": "a & b", "price": 5})
    assert "<img" not in card
    assert "&lt;img src=x&gt;" in card
    assert 'id="product-&quot;x"' in card
