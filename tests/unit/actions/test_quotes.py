"""actions/quotes.py: "2 of the first one" resolved, priced, stored and shown itemised."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine

from actions import deps
from actions.quotes import ActionMakeQuote, requested_quantity, resolve_product
from core.storage import get_engine, session_scope
from core.storage.quotes import find_quote_by_token, quotes_for_conversation
from knowledge.catalog import Catalog
from tests.support.trackers import rendered, run, variables

from .sales_trackers import sales_tracker

RECOMMENDED = ["koa-1", "s-office", "c-office"]


def test_the_first_one_is_the_first_recommended_product(catalog: Catalog) -> None:
    tracker = sales_tracker(
        "what would 2 of the first one cost?",
        intent="ask_quote",
        slots={"recommended": RECOMMENDED, "product": "Office Bean Plan"},
    )
    product = resolve_product(tracker, catalog)
    assert product is not None and product.id == "koa-1"
    assert requested_quantity(tracker) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("and the second one?", "s-office"),
        ("price for 3 of the last one", "c-office"),
        ("quote for 4 Feather 54 please", "g-54"),
        ("how much for that?", "c-office"),
    ],
)
def test_references_named_products_and_the_last_one_discussed(
    catalog: Catalog, text: str, expected: str
) -> None:
    tracker = sales_tracker(
        text, intent="ask_quote", slots={"recommended": RECOMMENDED, "product": "Office Bean Plan"}
    )
    product = resolve_product(tracker, catalog)
    assert product is not None and product.id == expected


def test_a_quote_is_stored_and_shown_with_its_number_and_page(
    database: Engine, catalog: Catalog
) -> None:
    tracker = sales_tracker(
        "what would 2 of the first one cost?",
        intent="ask_quote",
        slots={"recommended": RECOMMENDED, "quote_numbers": []},
        entities=[{"entity": "quantity", "value": "2"}],
        sender="conv-quote-1",
    )
    events, dispatcher = run(ActionMakeQuote(), tracker)
    (message,) = dispatcher.messages
    assert message["response"] == "utter_quote"
    values = variables(message)
    with session_scope(database) as session:
        (stored,) = quotes_for_conversation(session, "conv-quote-1")
        assert find_quote_by_token(session, stored.token) == stored
    assert values["number"] == stored.number
    assert values["link"] == f"{deps.settings().base_url}/quotes/{stored.token}"
    assert stored.lines[0].sku == "koa-1" and stored.lines[0].quantity == 2
    # Office Auto: EUR 2,750 net; pallet freight EUR 149 (NL); VAT 21 % on both
    assert stored.total == Decimal("6835.29")
    assert stored.channel == "web" and stored.country == "NL"
    text = rendered(dispatcher, tracker)[0]["text"]
    assert text.startswith(f"Here is your quote {stored.number}, valid until ")
    assert "2 x Kestrel Office Auto at €2,750: €5,500" in text
    assert "Shipping: €149" in text
    assert "VAT 21% (NL): €1,186.29" in text
    assert "Total: €6,835.29 (EUR)" in text
    assert message["custom"] == {
        "kind": "quote",
        "number": stored.number,
        "url": values["link"],
        "total": "6835.29",
        "currency": "EUR",
    }
    slots = {e["name"]: e["value"] for e in events}
    assert slots["quote_numbers"] == [stored.number]
    assert slots["product"] == "Kestrel Office Auto"
    assert slots["quantity"] == "2"
    assert slots["products_asked"] == ["koa-1"]
    buttons = rendered(dispatcher, tracker)[0]["buttons"]
    assert buttons[0]["payload"] == '/buy{"product": "Kestrel Office Auto"}'


def test_a_volume_discount_is_itemised(database: Engine, catalog: Catalog) -> None:
    tracker = sales_tracker("quote for 12 Barista Pro 300", intent="ask_quote")
    _, dispatcher = run(ActionMakeQuote(), tracker)
    text = rendered(dispatcher, tracker)[0]["text"]
    assert "12 x Kestrel Barista Pro 300 at €1,066.12, less 10% volume discount: €11,514.10" in text
    assert "Volume discount: -€1,279.34" in text


def test_a_monthly_plan_is_quoted_per_month(database: Engine, catalog: Catalog) -> None:
    tracker = sales_tracker(
        "quote for the second one", intent="ask_quote", slots={"recommended": RECOMMENDED}
    )
    _, dispatcher = run(ActionMakeQuote(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_quote_monthly"
    assert "Total per month: €361.79 (EUR)" in rendered(dispatcher, tracker)[0]["text"]


def test_without_any_product_it_asks_which(catalog: Catalog) -> None:
    events, dispatcher = run(ActionMakeQuote(), sales_tracker("a quote please", "ask_quote"))
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_ask_quote_product"


def test_a_storage_failure_still_gives_the_price_honestly(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    broken = get_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    monkeypatch.setattr(deps, "get_database", lambda: broken)
    monkeypatch.setattr("actions.quotes.asyncio.sleep", _no_wait)
    tracker = sales_tracker("2 of the first one", "ask_quote", slots={"recommended": RECOMMENDED})
    events, dispatcher = run(ActionMakeQuote(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_quote_unsaved"
    text = rendered(dispatcher, tracker)[0]["text"]
    assert "Total: €6,835.29 (EUR)" in text
    assert "couldn't save it" in text
    assert "quote_numbers" not in {e["name"] for e in events}


async def _no_wait(_: float) -> None:
    return None


def test_the_delivery_country_named_sets_tax_and_shipping(
    database: Engine, catalog: Catalog
) -> None:
    earlier = [{"event": "user", "text": "we are an office in Munich, Germany", "parse_data": {}}]
    tracker = sales_tracker(
        "what would 2 of the first one cost?",
        intent="ask_quote",
        slots={"recommended": RECOMMENDED, "quote_numbers": []},
        entities=[{"entity": "quantity", "value": "2"}],
        sender="conv-quote-de",
        events=earlier,
    )
    _, dispatcher = run(ActionMakeQuote(), tracker)
    with session_scope(database) as session:
        (stored,) = quotes_for_conversation(session, "conv-quote-de")
    assert stored.country == "DE" and stored.tax_rate == Decimal("0.19")
    assert "VAT 19% (DE)" in rendered(dispatcher, tracker)[0]["text"]


def test_a_country_without_a_tax_rate_keeps_the_default() -> None:
    from actions.quotes import delivery_country

    tracker = sales_tracker("quote for 2 grinders, shipping to Norway", intent="ask_quote")
    assert delivery_country(tracker, {"NL", "DE"}) is None
    tracker = sales_tracker("2 grinders to Belgium please", intent="ask_quote")
    assert delivery_country(tracker, {"NL", "BE"}) == "BE"
