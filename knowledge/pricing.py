"""Pricing rules (``pricing.yml`` in the content folder) and the itemised quotes made from them.

The rules file gives volume-discount tiers, tax rates by country and shipping fees; the
catalog gives the unit prices. :func:`load_pricing` validates the file and names the line of
any mistake (``pricing.yml:14: tax.DE: must be a rate between 0 and 1``), so the action server
and the gateway refuse to start on a bad file instead of quoting wrong prices.
:meth:`PricingRules.quote` turns products and quantities into a :class:`PricedQuote`
(lines, discount, tax, shipping, total, currency, validity date) in exact decimals.

Format (docs/sales.md has a worked example)::

    currency: EUR                 # three letters; must match the catalog's prices
    valid_days: 30                # a quote's validity from the day it is made
    default_country: NL           # used when the customer has not said where it ships
    catalog_prices:               # how catalog prices are meant (optional; default: net)
      include_tax: 0.21           # consumer prices include this rate; quotes take it out
      business_only_net: true     # products for businesses only are listed without tax
    volume_discounts:             # per line; the highest tier reached applies
      - {min_quantity: 5, rate: 0.05, categories: [espresso-machines]}
    tax: {NL: 0.21, DE: 0.19}     # rate by ISO country code; default_country must be listed
    freight_products: [kc-2g]     # product ids shipped by pallet freight
    shipping:
      default: {base: 9.95, free_from: 75, freight: 249}
      countries: {NL: {base: 4.95, free_from: 75, freight: 149}}

Quotes are business quotes: lines are net of tax and the delivery country's rate is added
to the net amounts and shipping.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from knowledge.catalog import Product

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TOP_KEYS = (
    "currency",
    "valid_days",
    "default_country",
    "catalog_prices",
    "volume_discounts",
    "tax",
    "freight_products",
    "shipping",
)


class PricingError(ValueError):
    """The pricing file is missing or wrong, or a quote cannot be priced."""


def money(value: Decimal) -> Decimal:
    """Round an amount to cents, halves up (as invoices do)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class DiscountTier:
    """A volume discount: ``rate`` off a line of at least ``min_quantity`` units."""

    min_quantity: int
    rate: Decimal
    categories: frozenset[str] = frozenset()

    def applies(self, product: Product, quantity: int) -> bool:
        """Whether this tier covers ``quantity`` units of ``product``."""
        in_scope = not self.categories or product.category in self.categories
        return in_scope and quantity >= self.min_quantity


@dataclass(frozen=True)
class ShippingRule:
    """Shipping of one order: a parcel fee free from a subtotal, plus pallet freight if needed."""

    base: Decimal
    free_from: Decimal | None = None
    freight: Decimal | None = None
    """Fee once per order holding a freight product; None: freight is quoted by sales."""

    def parcel(self, subtotal: Decimal) -> Decimal:
        """Return the parcel fee for an order of this discounted subtotal."""
        if self.free_from is not None and subtotal >= self.free_from:
            return Decimal("0.00")
        return money(self.base)


@dataclass(frozen=True)
class PricedLine:
    """One line of a quote: the net unit price, the discount rate and the net line total."""

    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount_rate: Decimal
    line_total: Decimal

    @property
    def gross(self) -> Decimal:
        """Unit price times quantity, before the discount."""
        return money(self.unit_price * self.quantity)


@dataclass(frozen=True)
class PricedQuote:
    """An itemised quote: what :meth:`PricingRules.quote` computes, before it is stored."""

    currency: str
    country: str
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    """Sum of net unit price times quantity, before discounts."""
    discount_total: Decimal
    tax_rate: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal
    valid_until: date
    recurring: bool
    """True when every line is a monthly plan: the amounts are per month."""
    freight_on_request: bool = False
    """True when a freight product ships where the rules give no freight fee."""

    @property
    def net(self) -> Decimal:
        """Subtotal after discounts, before shipping and tax."""
        return self.subtotal - self.discount_total


@dataclass(frozen=True)
class PricingRules:
    """The validated contents of ``pricing.yml``."""

    currency: str
    valid_days: int
    default_country: str
    included_tax: Decimal
    business_only_net: bool
    tiers: tuple[DiscountTier, ...]
    tax_rates: Mapping[str, Decimal]
    freight_products: frozenset[str]
    shipping_default: ShippingRule
    shipping_by_country: Mapping[str, ShippingRule]

    def net_unit_price(self, product: Product) -> Decimal:
        """Return the product's price without tax, as the quote lists it."""
        price = Decimal(str(product.price))
        if self.business_only_net and list(product.audience) == ["business"]:
            return money(price)
        return money(price / (1 + self.included_tax))

    def discount_rate(self, product: Product, quantity: int) -> Decimal:
        """Return the highest volume discount rate that ``quantity`` units of ``product`` reach."""
        rates = [t.rate for t in self.tiers if t.applies(product, quantity)]
        return max(rates, default=Decimal(0))

    def shipping_rule(self, country: str) -> ShippingRule:
        """Return the shipping rule for a country (the default when it has none of its own)."""
        return self.shipping_by_country.get(country, self.shipping_default)

    def quote(
        self,
        items: Iterable[tuple[Product, int]],
        country: str | None = None,
        today: date | None = None,
    ) -> PricedQuote:
        """Price products and quantities for ``country``; raise ``PricingError`` if impossible."""
        wanted = [(product, int(quantity)) for product, quantity in items]
        if not wanted:
            raise PricingError("a quote needs at least one product")
        if any(quantity < 1 for _, quantity in wanted):
            raise PricingError("quantities must be at least 1")
        code = (country or self.default_country).upper()
        if code not in self.tax_rates:
            raise PricingError(f"no tax rate for country {code!r} in the pricing rules")
        wrong = sorted({p.currency for p, _ in wanted if p.currency != self.currency})
        if wrong:
            raise PricingError(f"the pricing rules are in {self.currency}, not {', '.join(wrong)}")
        units = {p.price_unit for p, _ in wanted}
        if len(units) > 1:
            raise PricingError("a quote holds either one-off products or monthly plans, not both")
        recurring = units == {"per month"}
        lines = tuple(self._line(product, quantity) for product, quantity in wanted)
        subtotal = sum((line.gross for line in lines), Decimal(0))
        net = sum((line.line_total for line in lines), Decimal(0))
        shipping, on_request = self._shipping(wanted, code, net, recurring)
        rate = self.tax_rates[code]
        tax = money((net + shipping) * rate)
        return PricedQuote(
            currency=self.currency,
            country=code,
            lines=lines,
            subtotal=money(subtotal),
            discount_total=money(subtotal - net),
            tax_rate=rate,
            tax=tax,
            shipping=money(shipping),
            total=money(net + shipping + tax),
            valid_until=(today or date.today()) + timedelta(days=self.valid_days),
            recurring=recurring,
            freight_on_request=on_request,
        )

    def _line(self, product: Product, quantity: int) -> PricedLine:
        unit_price = self.net_unit_price(product)
        rate = self.discount_rate(product, quantity)
        total = money(unit_price * quantity * (1 - rate))
        return PricedLine(product.id, product.name, quantity, unit_price, rate, total)

    def _shipping(
        self, items: Sequence[tuple[Product, int]], country: str, net: Decimal, recurring: bool
    ) -> tuple[Decimal, bool]:
        """Return the shipping fee and whether freight still has to be quoted by sales."""
        if recurring:
            return Decimal("0.00"), False
        rule = self.shipping_rule(country)
        parcels = [p for p, _ in items if p.id not in self.freight_products]
        fee = rule.parcel(net) if parcels else Decimal(0)
        needs_freight = len(parcels) < len(items)
        if needs_freight and rule.freight is not None:
            fee += rule.freight
        return money(fee), needs_freight and rule.freight is None


# --- Loading and validation (each error names the file's line) -------------------------------


class _Where:
    """Builds error messages that name the file, the line and the key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, node: Node, key: str, problem: str) -> PricingError:
        line = node.start_mark.line + 1
        return PricingError(f"{self.path}:{line}: {key}: {problem}")


Items = dict[str, tuple[Node, Node]]


def _mapping(where: _Where, node: Node, key: str, allowed: Sequence[str] | None = None) -> Items:
    """Return a mapping node's items by name (key node, value node); refuse unknown keys."""
    if not isinstance(node, MappingNode):
        raise where.error(node, key or "file", "expected a mapping of names to values")
    items: Items = {}
    for key_node, value_node in node.value:
        name = str(key_node.value) if isinstance(key_node, ScalarNode) else ""
        path = f"{key}.{name}" if key else name
        if not name:
            raise where.error(key_node, key or "file", "keys must be plain names")
        if name in items:
            raise where.error(key_node, path, "appears twice")
        if allowed is not None and name not in allowed:
            raise where.error(key_node, path, f"unknown key (known: {', '.join(allowed)})")
        items[name] = (key_node, value_node)
    return items


def _scalar(where: _Where, node: Node, key: str) -> str:
    if not isinstance(node, ScalarNode):
        raise where.error(node, key, "expected a single value")
    return str(node.value)


def _decimal(where: _Where, node: Node, key: str, *, rate: bool = False) -> Decimal:
    text = _scalar(where, node, key)
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite():
        value = Decimal(-1)
    if rate and not Decimal(0) <= value < Decimal(1):
        raise where.error(node, key, f"must be a rate between 0 and 1 (0.05 = 5 %), not {text!r}")
    if value < 0:
        raise where.error(node, key, f"must be an amount of at least 0, not {text!r}")
    return value


def _integer(where: _Where, node: Node, key: str, minimum: int) -> int:
    text = _scalar(where, node, key)
    if not re.fullmatch(r"\d+", text) or int(text) < minimum:
        raise where.error(node, key, f"must be a whole number of at least {minimum}, not {text!r}")
    return int(text)


def _boolean(where: _Where, node: Node, key: str) -> bool:
    text = _scalar(where, node, key).lower()
    if text not in ("true", "false"):
        raise where.error(node, key, f"must be true or false, not {text!r}")
    return text == "true"


def _country(where: _Where, node: Node, key: str) -> str:
    text = _scalar(where, node, key)
    if not _COUNTRY.match(text):
        raise where.error(node, key, f"must be a two-letter country code such as NL, not {text!r}")
    return text


def _slugs(where: _Where, node: Node, key: str) -> frozenset[str]:
    if not isinstance(node, SequenceNode) or not node.value:
        raise where.error(node, key, "expected a list of ids such as [espresso-machines]")
    names = [_scalar(where, item, key) for item in node.value]
    for item, name in zip(node.value, names, strict=True):
        if not _SLUG.match(name):
            raise where.error(item, key, f"not a catalog id: {name!r}")
    return frozenset(names)


def _tiers(where: _Where, node: Node) -> tuple[DiscountTier, ...]:
    if not isinstance(node, SequenceNode):
        raise where.error(node, "volume_discounts", "expected a list of tiers")
    tiers = []
    for index, item in enumerate(node.value):
        key = f"volume_discounts[{index}]"
        fields = _mapping(where, item, key, ("min_quantity", "rate", "categories"))
        for required in ("min_quantity", "rate"):
            if required not in fields:
                raise where.error(item, key, f"needs {required!r}")
        categories = fields.get("categories")
        tiers.append(
            DiscountTier(
                min_quantity=_integer(where, fields["min_quantity"][1], f"{key}.min_quantity", 1),
                rate=_decimal(where, fields["rate"][1], f"{key}.rate", rate=True),
                categories=(
                    _slugs(where, categories[1], f"{key}.categories") if categories else frozenset()
                ),
            )
        )
    return tuple(tiers)


def _shipping_rule(where: _Where, node: Node, key: str) -> ShippingRule:
    fields = _mapping(where, node, key, ("base", "free_from", "freight"))
    if "base" not in fields:
        raise where.error(node, key, "needs 'base' (the parcel fee per order)")

    def optional(name: str) -> Decimal | None:
        entry = fields.get(name)
        return _decimal(where, entry[1], f"{key}.{name}") if entry else None

    return ShippingRule(
        base=_decimal(where, fields["base"][1], f"{key}.base"),
        free_from=optional("free_from"),
        freight=optional("freight"),
    )


def parse_pricing(text: str, path: Path) -> PricingRules:
    """Validate the text of a pricing file; raise ``PricingError`` naming the bad line."""
    where = _Where(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise PricingError(f"{path}:{line}: not valid YAML: {error.problem}") from error
    if root is None:
        raise PricingError(f"{path}:1: the file is empty")
    top = _mapping(where, root, "", TOP_KEYS)
    for required in ("currency", "default_country", "tax", "shipping"):
        if required not in top:
            raise where.error(root, required, "is required")
    currency = _scalar(where, top["currency"][1], "currency")
    if not _CURRENCY.match(currency):
        raise where.error(top["currency"][1], "currency", f"must be a code like EUR: {currency!r}")
    valid_days = (
        _integer(where, top["valid_days"][1], "valid_days", 1) if "valid_days" in top else 30
    )
    included, business_net = Decimal(0), False
    if "catalog_prices" in top:
        prices = _mapping(
            where, top["catalog_prices"][1], "catalog_prices", ("include_tax", "business_only_net")
        )
        if "include_tax" in prices:
            included = _decimal(
                where, prices["include_tax"][1], "catalog_prices.include_tax", rate=True
            )
        if "business_only_net" in prices:
            business_net = _boolean(
                where, prices["business_only_net"][1], "catalog_prices.business_only_net"
            )
    tax_rates: dict[str, Decimal] = {}
    for name, (key_node, value_node) in _mapping(where, top["tax"][1], "tax").items():
        code = _country(where, key_node, f"tax.{name}")
        tax_rates[code] = _decimal(where, value_node, f"tax.{name}", rate=True)
    default_node = top["default_country"][1]
    default_country = _country(where, default_node, "default_country")
    if default_country not in tax_rates:
        raise where.error(default_node, "default_country", f"{default_country} has no tax rate")
    shipping = _mapping(where, top["shipping"][1], "shipping", ("default", "countries"))
    if "default" not in shipping:
        raise where.error(top["shipping"][1], "shipping", "needs a 'default' rule")
    by_country: dict[str, ShippingRule] = {}
    if "countries" in shipping:
        countries = _mapping(where, shipping["countries"][1], "shipping.countries")
        for name, (key_node, value_node) in countries.items():
            code = _country(where, key_node, f"shipping.countries.{name}")
            by_country[code] = _shipping_rule(where, value_node, f"shipping.countries.{name}")
    freight = top.get("freight_products")
    return PricingRules(
        currency=currency,
        valid_days=valid_days,
        default_country=default_country,
        included_tax=included,
        business_only_net=business_net,
        tiers=_tiers(where, top["volume_discounts"][1]) if "volume_discounts" in top else (),
        tax_rates=tax_rates,
        freight_products=(
            _slugs(where, freight[1], "freight_products") if freight else frozenset()
        ),
        shipping_default=_shipping_rule(where, shipping["default"][1], "shipping.default"),
        shipping_by_country=by_country,
    )


def load_pricing(path: Path) -> PricingRules:
    """Read and validate ``pricing.yml``; raise ``PricingError`` naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise PricingError(f"pricing rules not found: {path}") from error
    except UnicodeDecodeError as error:
        raise PricingError(f"{path}: not UTF-8 text") from error
    return parse_pricing(text, Path(path))


@lru_cache(maxsize=4)
def get_pricing(path: Path) -> PricingRules:
    """Return the pricing rules at ``path`` (cached; ``cache_clear()`` after changing it)."""
    return load_pricing(path)


PRICING_FILE = "pricing.yml"


def check_pricing(content_dir: Path, currency: str | None = None) -> PricingRules | None:
    """Validate the content folder's pricing rules at start-up; None when it has none.

    A folder without ``pricing.yml`` runs without instant quotes (the assistant hands quote
    requests to sales); a file that is wrong, or in another currency than the catalog,
    raises ``PricingError`` so that the process refuses to start with the line to fix.
    """
    path = content_dir / PRICING_FILE
    if not path.exists():
        logger.warning("kb.pricing.missing path=%s instant quotes are off", path)
        return None
    rules = load_pricing(path)
    if currency and rules.currency != currency.upper():
        raise PricingError(
            f"{path}: currency {rules.currency} differs from the catalog's {currency}"
        )
    return rules
