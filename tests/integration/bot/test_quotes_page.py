"""GET /quotes/{token}: the printable quote page, its 404 and its no-cache headers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.storage import get_engine, session_scope
from core.storage.quotes import QuoteDraft, QuoteLine, StoredQuote, save_quote
from knowledge.pricing import PricingError

from .conftest import ClientFactory, SettingsFactory

DRAFT = QuoteDraft(
    conversation_id="conv-page-1",
    channel="web",
    currency="EUR",
    country="NL",
    lines=(
        QuoteLine(
            sku="kg-50",
            name="Kestrel Grind <50>",
            quantity=6,
            unit_price=Decimal("1066.12"),
            discount_rate=Decimal("0.05"),
            line_total=Decimal("6076.88"),
        ),
    ),
    subtotal=Decimal("6396.72"),
    discount_total=Decimal("319.84"),
    tax_rate=Decimal("0.21"),
    tax=Decimal("1276.14"),
    shipping=Decimal("0.00"),
    total=Decimal("7353.02"),
    valid_until=date(2027, 1, 15),
    notes=("Freight to this country is quoted separately.",),
)


def stored(url: str) -> StoredQuote:
    engine = get_engine(url)
    with session_scope(engine) as session:
        return save_quote(session, DRAFT)


def test_the_page_shows_the_itemised_quote(make_client: ClientFactory) -> None:
    client = make_client()
    quote = stored(client.app.state.gateway.settings.sqlalchemy_url)  # type: ignore[attr-defined]
    response = client.get(f"/quotes/{quote.token}")
    assert response.status_code == 200
    page = response.text
    assert f"Quote {quote.number}" in page
    assert "Kestrel Grind &lt;50&gt;" in page and "<50>" not in page
    for shown in ("€1,066.12", "5%", "€6,076.88", "-€319.84", "VAT 21%", "€1,276.14"):
        assert shown in page, shown
    assert '<td class="num" id="total">€7,353.02</td>' in page
    assert '<dd id="valid-until">15 January 2027</dd>' in page
    assert "Freight to this country is quoted separately." in page
    assert "@media print" in page


def test_the_page_is_never_cached_indexed_or_referred(make_client: ClientFactory) -> None:
    client = make_client()
    quote = stored(client.app.state.gateway.settings.sqlalchemy_url)  # type: ignore[attr-defined]
    headers = client.get(f"/quotes/{quote.token}").headers
    assert headers["cache-control"] == "no-store, private"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-robots-tag"] == "noindex, nofollow"
    assert "default-src 'self'" in headers["content-security-policy"]


@pytest.mark.parametrize("token", ["nope", "x" * 200, "%2e%2e%2fetc"])
def test_an_unknown_token_is_a_404(make_client: ClientFactory, token: str) -> None:
    client = make_client()
    stored(client.app.state.gateway.settings.sqlalchemy_url)  # type: ignore[attr-defined]
    response = client.get(f"/quotes/{token}")
    assert response.status_code == 404
    assert "Kestrel Grind" not in response.text


def test_a_bad_pricing_file_stops_the_gateway(
    make_settings: SettingsFactory, content_dir: Path
) -> None:
    from fastapi.testclient import TestClient

    from bot.app import create_app

    (content_dir / "pricing.yml").write_text(
        "currency: EUR\ndefault_country: NL\ntax:\n  NL: 21\nshipping:\n  default: {base: 5}\n"
    )
    app = create_app(make_settings())
    with (
        pytest.raises(PricingError, match=r"pricing.yml:4: tax.NL: must be a rate"),
        TestClient(app),
    ):
        pass
