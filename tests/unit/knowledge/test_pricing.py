"""knowledge/pricing.py: the pricing rules file and the itemised quotes made from it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from knowledge.catalog import Catalog, Product
from knowledge.pricing import PricingError, PricingRules, load_pricing, parse_pricing

DEMO = PROJECT_ROOT / "knowledge" / "demo"
RULES = """\
currency: EUR
valid_days: 14
default_country: NL
catalog_prices:
  include_tax: 0.21
  business_only_net: true
volume_discounts:
  - {min_quantity: 5, rate: 0.05, categories: [espresso-machines]}
  - {min_quantity: 10, rate: 0.10, categories: [espresso-machines]}
tax: {NL: 0.21, DE: 0.19}
freight_products: [office-auto]
shipping:
  default: {base: 9.95, free_from: 75, freight: 249}
  countries:
    NL: {base: 4.95, free_from: 75, freight: 149}
"""


def product(pid: str, price: float, **fields: object) -> Product:
    values: dict[str, object] = {"category": "espresso-machines", "currency": "EUR"}
    values.update(fields)
    return Product(id=pid, name=pid.title(), price=price, **values)  # type: ignore[arg-type]


@pytest.fixture
def rules() -> PricingRules:
    return parse_pricing(RULES, Path("pricing.yml"))


def test_the_demo_rules_load_and_match_the_catalog_currency() -> None:
    rules = load_pricing(DEMO / "pricing.yml")
    catalog = Catalog.load(DEMO / "catalog.json")
    assert rules.currency == catalog.currency
    assert rules.default_country in rules.tax_rates
    barista = catalog.get("kbp-300")
    assert barista is not None
    # docs/pricing.md lists the Barista Pro 300 at EUR 1,066.12 excl. VAT
    assert rules.net_unit_price(barista) == Decimal("1066.12")


def test_consumer_prices_lose_the_included_tax_and_business_prices_stay(
    rules: PricingRules,
) -> None:
    home = product("home", 121.0, audience=["consumer"])
    both = product("both", 121.0, audience=["consumer", "business"])
    office = product("office", 121.0, audience=["business"])
    assert rules.net_unit_price(home) == Decimal("100.00")
    assert rules.net_unit_price(both) == Decimal("100.00")
    assert rules.net_unit_price(office) == Decimal("121.00")


def test_an_itemised_quote_adds_discount_shipping_and_tax(rules: PricingRules) -> None:
    machine = product("machine", 1210.0)
    quote = rules.quote([(machine, 6)], country="DE", today=date(2026, 3, 1))
    (line,) = quote.lines
    assert line.unit_price == Decimal("1000.00")
    assert line.discount_rate == Decimal("0.05")
    assert line.line_total == Decimal("5700.00")
    assert quote.subtotal == Decimal("6000.00")
    assert quote.discount_total == Decimal("300.00")
    assert quote.shipping == Decimal("0.00")  # above free_from
    assert quote.tax_rate == Decimal("0.19")
    assert quote.tax == Decimal("1083.00")
    assert quote.total == Decimal("6783.00")
    assert quote.valid_until == date(2026, 3, 15)
    assert quote.country == "DE" and quote.currency == "EUR"


def test_the_highest_tier_reached_applies_only_in_its_categories(rules: PricingRules) -> None:
    machine = product("machine", 100.0, audience=["business"])
    beans = product("beans", 100.0, category="coffee", audience=["business"])
    assert rules.discount_rate(machine, 4) == 0
    assert rules.discount_rate(machine, 9) == Decimal("0.05")
    assert rules.discount_rate(machine, 10) == Decimal("0.10")
    assert rules.discount_rate(beans, 50) == 0


def test_small_orders_pay_parcel_shipping_and_freight_products_pay_freight(
    rules: PricingRules,
) -> None:
    tamper = product("tamper", 12.1, category="accessories", audience=["consumer"])
    small = rules.quote([(tamper, 1)])
    assert small.country == "NL"
    assert small.shipping == Decimal("4.95")
    assert small.tax == Decimal("3.14")  # (10.00 + 4.95) * 0.21 = 3.1395
    assert small.total == Decimal("18.09")
    auto = product("office-auto", 2750.0, audience=["business"])
    big = rules.quote([(auto, 2)], country="DE")
    assert big.shipping == Decimal("249.00")  # freight is never free
    assert not big.freight_on_request


def test_monthly_plans_are_quoted_per_month_without_shipping(rules: PricingRules) -> None:
    plan = product(
        "plan", 299.0, category="service-plans", price_unit="per month", audience=["business"]
    )
    quote = rules.quote([(plan, 1)])
    assert quote.recurring
    assert quote.shipping == 0
    assert quote.total == Decimal("361.79")
    machine = product("machine", 100.0)
    with pytest.raises(PricingError, match="not both"):
        rules.quote([(plan, 1), (machine, 1)])


@pytest.mark.parametrize(
    ("items", "country", "message"),
    [
        ([], None, "at least one product"),
        ([("machine", 0)], None, "at least 1"),
        ([("machine", 1)], "US", "no tax rate for country 'US'"),
    ],
)
def test_quotes_that_cannot_be_priced_say_why(
    rules: PricingRules, items: list[tuple[str, int]], country: str | None, message: str
) -> None:
    with pytest.raises(PricingError, match=message):
        rules.quote([(product(pid, 10.0), n) for pid, n in items], country=country)


def test_a_product_in_another_currency_is_refused(rules: PricingRules) -> None:
    with pytest.raises(PricingError, match="not GBP"):
        rules.quote([(product("bike", 10.0, currency="GBP"), 1)])


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("rate: 0.05,", "rate: 5,", 8, "volume_discounts[0].rate: must be a rate between 0 and 1"),
        ("DE: 0.19", "DE: lots", 10, "tax.DE: must be a rate"),
        ("tax: {NL: 0.21, DE: 0.19}", "tax: {DE: 0.19}", 3, "default_country: NL has no tax"),
        ("valid_days: 14", "valid_days: soon", 2, "valid_days: must be a whole number"),
        ("    NL: {base: 4.95", "    Netherlands: {base: 4.95", 15, "must be a two-letter"),
        (
            "free_from: 75, freight: 249",
            "free_form: 75",
            13,
            "shipping.default.free_form: unknown key",
        ),
        ("min_quantity: 10,", "min_quantity: -1,", 9, "must be a whole number of at least 1"),
        ("currency: EUR", "currency: euro", 1, "currency: must be a code"),
        ("[espresso-machines]}\n  - {min", "[Espresso Machines]}\n  - {min", 8, "not a catalog id"),
        ("  business_only_net: true", "  business_only_net: maybe", 6, "must be true or false"),
    ],
)
def test_a_bad_line_is_named_with_its_number(old: str, new: str, line: int, message: str) -> None:
    assert old in RULES
    with pytest.raises(PricingError) as error:
        parse_pricing(RULES.replace(old, new, 1), Path("content/pricing.yml"))
    assert str(error.value).startswith(f"content/pricing.yml:{line}: ")
    assert message in str(error.value)


def test_a_missing_section_or_broken_yaml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PricingError, match=r"pricing.yml:1: shipping: is required"):
        parse_pricing(RULES.split("freight_products")[0], Path("pricing.yml"))
    with pytest.raises(PricingError, match=r"pricing.yml:2: not valid YAML"):
        parse_pricing("currency: EUR\n  tax: [\n", Path("pricing.yml"))
    with pytest.raises(PricingError, match="pricing rules not found"):
        load_pricing(tmp_path / "missing.yml")
    duplicate = tmp_path / "pricing.yml"
    duplicate.write_text(RULES + "valid_days: 7\n")
    with pytest.raises(PricingError, match=rf"{duplicate}:16: valid_days: appears twice"):
        load_pricing(duplicate)
