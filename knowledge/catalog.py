"""The product catalog: load and validate ``catalog.json``, look products up, recommend some.

Schema::

    {"company": str, "currency": "EUR",
     "offer": str,
     "categories": [{"id", "label", "aliases": [...]}],
     "products": [{"id", "name", "aliases": [...], "category", "price", "currency",
                   "price_unit": "one-off" | "per month", "audience": ["consumer", "business"],
                   "specs": {...}, "use_cases": [...],
                   "stock": "in_stock" | "low_stock" | "out_of_stock" | "preorder",
                   "features": [...],
                   "capacity": {"people": [min, max], "cups_per_day": [min, max]},
                   "summary"}]}

``offer`` (optional) says in a few words what the company sells ("machines, grinders and
beans"); the assistant's greeting uses it, and without it the category labels are joined.
``categories`` (optional) gives each category slug its display label and the words customers
use for it (``aliases``, used as NLU synonyms); a category without an entry is labelled after
its slug ("service-plans" -> "Service plans"). The catalog is the one list of categories:
the NLU lookup tables and synonyms are generated from it (``knowledge.training_data``).

For recommendations (``knowledge.recommend``, docs/sales.md): ``features`` (optional) lists
what a customer may insist on, in a few words each ("plumbed-in water", "fresh milk
system"); a must-have the customer names is a hard constraint matched against them.
``capacity`` (optional) says for how many people (``people``) and how many cups a day
(``cups_per_day``) the product is rated, each an inclusive ``[min, max]`` range of whole
numbers; a product with a capacity is recommended only for team sizes inside it.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import KnowledgeSettings
from knowledge.text import normalize, tokenize

if TYPE_CHECKING:
    from knowledge.entities import ProductMatcher

logger = logging.getLogger(__name__)

PRICE_UNITS = ("one-off", "per month")
AUDIENCES = ("consumer", "business")
STOCK_STATES = ("in_stock", "low_stock", "out_of_stock", "preorder")
STOCK_LABELS = {
    "in_stock": "in stock",
    "low_stock": "only a few left",
    "out_of_stock": "out of stock",
    "preorder": "available for pre-order",
}
_STOCK_ORDER = {"in_stock": 0, "low_stock": 0, "preorder": 1, "out_of_stock": 2}
_CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
CURRENCY_WORDS = {
    "EUR": ("euro", "euros"),
    "USD": ("dollar", "dollars"),
    "GBP": ("pound", "pounds", "quid"),
    "SEK": ("krona", "kronor", "kr"),
    "NOK": ("krone", "kroner", "kr"),
    "DKK": ("krone", "kroner", "kr"),
    "CHF": ("franc", "francs"),
}
"""Words customers write after an amount, per currency (for the NLU's money regex)."""
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SpecValue = str | int | float | bool


class CatalogError(ValueError):
    """The catalog file is missing, not JSON, or does not follow the schema."""


def currency_symbol(currency: str) -> str | None:
    """Return the sign written before an amount (``€``), or None for codes written after it."""
    return _CURRENCY_SYMBOLS.get(currency.upper())


def format_money(amount: float, currency: str) -> str:
    """Return an amount as a customer reads it: ``€1,290``, ``€12.50``, ``9 SEK``."""
    text = f"{amount:,.2f}".removesuffix(".00")
    symbol = currency_symbol(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def label_from_slug(slug: str) -> str:
    """Return a display label derived from a slug: ``service-plans`` -> ``Service plans``."""
    text = slug.replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Category:
    """A product category: its slug, display label and the words customers use for it."""

    id: str
    label: str
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Capacity:
    """What a product is rated for: a range of people and of cups a day (either may be None)."""

    people: tuple[int, int] | None = None
    cups_per_day: tuple[int, int] | None = None

    def fits(self, team_size: int, cups_per_person: int) -> bool:
        """Whether a team of ``team_size`` is inside the rated ranges (people, else cups)."""
        if self.people is not None:
            return self.people[0] <= team_size <= self.people[1]
        if self.cups_per_day is not None:
            low, high = self.cups_per_day
            return low <= team_size * cups_per_person <= high
        return True

    @property
    def declared(self) -> bool:
        """Whether the catalog gives any range."""
        return self.people is not None or self.cups_per_day is not None


@dataclass(frozen=True)
class Product:
    """One product or service plan of the catalog."""

    id: str
    name: str
    category: str
    price: float
    currency: str
    price_unit: str = "one-off"
    aliases: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=lambda: list(AUDIENCES))
    specs: dict[str, SpecValue] = field(default_factory=dict)
    use_cases: list[str] = field(default_factory=list)
    stock: str = "in_stock"
    summary: str = ""
    features: list[str] = field(default_factory=list)
    capacity: Capacity = field(default_factory=Capacity)

    @property
    def available(self) -> bool:
        """Whether it can be bought and shipped now."""
        return self.stock in ("in_stock", "low_stock")

    @property
    def display_price(self) -> str:
        """The price as a customer reads it, e.g. ``€1,290`` or ``€22 per month``."""
        text = format_money(self.price, self.currency)
        return text if self.price_unit == "one-off" else f"{text} {self.price_unit}"

    @property
    def names(self) -> list[str]:
        """The name followed by its aliases."""
        return [self.name, *self.aliases]

    def render(self) -> str:
        """Describe the product in readable lines (one knowledge-base chunk per product)."""
        lines = [self.name + (f" (also called {', '.join(self.aliases)})" if self.aliases else "")]
        category = self.category.replace("-", " ")
        lines.append(f"Category: {category}.")
        unit = "one-off price" if self.price_unit == "one-off" else "subscription"
        lines.append(f"Price: {self.display_price} ({unit}).")
        lines.append(f"Availability: {STOCK_LABELS.get(self.stock, self.stock)}.")
        who = " and ".join(
            {"consumer": "home users", "business": "businesses"}.get(a, a) for a in self.audience
        )
        lines.append(f"Made for {who}.")
        if self.summary:
            lines.append(self.summary.strip())
        # One line per specification, so an answer can quote just the one asked about.
        lines.extend(f"{_humanize_key(k)}: {_format_spec(v)}." for k, v in self.specs.items())
        if self.use_cases:
            lines.append(f"Good for: {', '.join(self.use_cases)}.")
        if self.features:
            lines.append(f"Features: {', '.join(self.features)}.")
        if self.capacity.people:
            lines.append(f"Rated for {self.capacity.people[0]}-{self.capacity.people[1]} people.")
        if self.capacity.cups_per_day:
            low, high = self.capacity.cups_per_day
            lines.append(f"Rated for {low}-{high} cups a day.")
        return "\n".join(lines)


def _humanize_key(key: str) -> str:
    text = key.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def _format_spec(value: SpecValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Catalog:
    """The products of one company, with lookup and simple recommendations."""

    def __init__(
        self,
        products: list[Product],
        company: str = "",
        currency: str = "EUR",
        categories: list[Category] | None = None,
        offer: str = "",
    ) -> None:
        self.products = list(products)
        self.company = company
        self.currency = currency
        self.declared_categories = list(categories or [])
        self._offer = offer
        self._by_id = {p.id: p for p in self.products}
        self._categories = {c.id: c for c in self.declared_categories}
        self._matcher: ProductMatcher | None = None

    def __iter__(self) -> Iterator[Product]:
        return iter(self.products)

    def __len__(self) -> int:
        return len(self.products)

    @classmethod
    def load(cls, path: Path) -> Catalog:
        """Read and validate a catalog file; raise ``CatalogError`` saying what is wrong."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise CatalogError(f"catalog not found: {path}") from error
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CatalogError(f"{path}: not valid JSON: {error}") from error
        try:
            return cls.from_dict(raw)
        except CatalogError as error:
            raise CatalogError(f"{path}: {error}") from error

    @classmethod
    def from_dict(cls, raw: Any) -> Catalog:
        """Validate the parsed JSON of a catalog and build it."""
        if not isinstance(raw, dict) or not isinstance(raw.get("products"), list):
            raise CatalogError('expected an object with a "products" list')
        currency = raw.get("currency", "EUR")
        if not isinstance(currency, str) or len(currency) != 3:
            raise CatalogError('"currency" must be a three-letter code such as "EUR"')
        company = raw.get("company", "")
        if not isinstance(company, str):
            raise CatalogError('"company" must be a string')
        offer = raw.get("offer", "")
        if not isinstance(offer, str):
            raise CatalogError('"offer" must be a string')
        categories = _parse_categories(raw.get("categories", []))
        declared = {c.id for c in categories}
        products: list[Product] = []
        seen: set[str] = set()
        for index, item in enumerate(raw["products"]):
            product = _parse_product(item, index, currency)
            if product.id in seen:
                raise CatalogError(f"products[{index}]: duplicate id {product.id!r}")
            if declared and product.category not in declared:
                logger.warning(
                    "kb.catalog.undeclared_category product=%s category=%s",
                    product.id,
                    product.category,
                )
            seen.add(product.id)
            products.append(product)
        return cls(products, company=company, currency=currency, categories=categories, offer=offer)

    def get(self, product_id: str) -> Product | None:
        """Return the product with this id, or None."""
        return self._by_id.get(product_id)

    def categories(self) -> list[str]:
        """Return the categories that have products: declared ones first, then catalog order."""
        used = {p.category for p in self.products}
        declared = [c.id for c in self.declared_categories if c.id in used]
        return list(dict.fromkeys([*declared, *(p.category for p in self.products)]))

    def category(self, slug: str) -> Category:
        """Return a category's entry; an undeclared slug gets a label derived from it."""
        return self._categories.get(slug) or Category(id=slug, label=label_from_slug(slug))

    def category_label(self, slug: str) -> str:
        """Return the display label of a category (``Filter & cold brew``)."""
        return self.category(slug).label

    def category_labels(self) -> dict[str, str]:
        """Return the categories that have products mapped to their labels, in order."""
        return {slug: self.category_label(slug) for slug in self.categories()}

    @property
    def offer(self) -> str:
        """What the company sells in a few words; the lowercased labels joined if not given."""
        if self._offer.strip():
            return self._offer.strip()
        labels = [label[:1].lower() + label[1:] for label in self.category_labels().values()]
        if len(labels) <= 1:
            return labels[0] if labels else "our products"
        return f"{', '.join(labels[:-1])} and {labels[-1]}"

    @property
    def matcher(self) -> ProductMatcher:
        """The spaCy matcher of product names and aliases (built on first use)."""
        if self._matcher is None:
            from knowledge.entities import ProductMatcher

            self._matcher = ProductMatcher(self)
        return self._matcher

    def find(self, text: str) -> Product | None:
        """Return the product named in ``text`` (exact, alias or fuzzy match), or None."""
        if not text.strip():
            return None
        wanted = normalize(text).strip()
        for product in self.products:
            if wanted == product.id.lower() or wanted in (normalize(n) for n in product.names):
                return product
        mentions = self.matcher.mentions(text)
        if mentions:
            return self._by_id[mentions[0].product_id]
        return self._fuzzy_find(wanted)

    def _fuzzy_find(self, wanted: str) -> Product | None:
        names = {normalize(n): p for p in self.products for n in p.names}
        best = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.75)
        if best:
            return names[best[0]]
        words = wanted.split()
        best_product, best_ratio = None, 0.0
        for name, product in names.items():
            width = len(name.split())
            for start in range(max(1, len(words) - width + 1)):
                window = " ".join(words[start : start + width])
                ratio = difflib.SequenceMatcher(None, window, name).ratio()
                if ratio > best_ratio:
                    best_product, best_ratio = product, ratio
        return best_product if best_ratio >= 0.85 else None

    def recommend(
        self,
        category: str | None = None,
        budget: float | None = None,
        use_case: str | None = None,
        audience: str | None = None,
        limit: int = 3,
    ) -> list[Product]:
        """Suggest up to ``limit`` products: in stock first, within budget, fitting the use.

        Relevance to ``use_case`` is the keyword overlap with the product's use cases (double
        weight), name, summary and category; products with no overlap come after those with
        some. Ties go to the cheaper product. Numbers in ``use_case`` are ignored: they are
        budgets or quantities ("under £2,000"), not uses, and must not match "Tempo 2".
        """
        candidates = [
            p
            for p in self.products
            if (category is None or p.category == category)
            and (budget is None or p.price <= budget)
            and (audience is None or audience in p.audience)
        ]
        wanted = {t for t in _stems(use_case or "") if not t.isdigit()}

        def relevance(product: Product) -> float:
            if not wanted:
                return 0.0
            strong = _stems(" ".join(product.use_cases))
            weak = _stems(f"{product.name} {product.summary} {product.category}")
            return 2.0 * len(wanted & strong) + len(wanted & (weak - strong))

        ranked = sorted(
            candidates,
            key=lambda p: (_STOCK_ORDER.get(p.stock, 3), -relevance(p), p.price),
        )
        return ranked[: max(0, limit)]


def _stems(text: str) -> set[str]:
    """Tokens with a crude plural strip, for keyword overlap."""
    return {t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t
            for t in tokenize(text)}  # fmt: skip


def _require_str(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: {key!r} must be a non-empty string")
    return value.strip()


def _str_list(item: dict[str, Any], key: str, where: str, default: list[str]) -> list[str]:
    value = item.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: {key!r} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _parse_categories(raw: Any) -> list[Category]:
    """Validate the optional ``categories`` block."""
    if not isinstance(raw, list):
        raise CatalogError('"categories" must be a list of {"id", "label"} objects')
    categories: list[Category] = []
    for index, item in enumerate(raw):
        where = f"categories[{index}]"
        if not isinstance(item, dict):
            raise CatalogError(f"{where}: expected an object")
        slug = _require_str(item, "id", where)
        if not _SLUG_RE.match(slug):
            raise CatalogError(f"{where}: 'id' must be a slug such as 'grinders'")
        if any(c.id == slug for c in categories):
            raise CatalogError(f"{where}: duplicate category {slug!r}")
        label = item.get("label")
        if label is not None and (not isinstance(label, str) or not label.strip()):
            raise CatalogError(f"{where} ({slug}): 'label' must be a non-empty string")
        categories.append(
            Category(
                id=slug,
                label=label.strip() if label else label_from_slug(slug),
                aliases=_str_list(item, "aliases", f"{where} ({slug})", []),
            )
        )
    return categories


def _parse_product(item: Any, index: int, currency: str) -> Product:
    where = f"products[{index}]"
    if not isinstance(item, dict):
        raise CatalogError(f"{where}: expected an object")
    product_id = _require_str(item, "id", where)
    where = f"products[{index}] ({product_id})"
    if not _SLUG_RE.match(product_id):
        raise CatalogError(f"{where}: 'id' must be lowercase letters, digits and hyphens")
    category = _require_str(item, "category", where)
    if not _SLUG_RE.match(category):
        raise CatalogError(f"{where}: 'category' must be a slug such as 'grinders'")
    price = item.get("price")
    if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
        raise CatalogError(f"{where}: 'price' must be a number >= 0")
    price_unit = item.get("price_unit", "one-off")
    if price_unit not in PRICE_UNITS:
        raise CatalogError(f"{where}: 'price_unit' must be one of {', '.join(PRICE_UNITS)}")
    stock = item.get("stock", "in_stock")
    if stock not in STOCK_STATES:
        raise CatalogError(f"{where}: 'stock' must be one of {', '.join(STOCK_STATES)}")
    audience = _str_list(item, "audience", where, list(AUDIENCES))
    if not audience or any(a not in AUDIENCES for a in audience):
        raise CatalogError(f"{where}: 'audience' must list some of {', '.join(AUDIENCES)}")
    specs = item.get("specs", {})
    if not isinstance(specs, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in specs.items()
    ):
        raise CatalogError(f"{where}: 'specs' must map names to strings, numbers or booleans")
    product_currency = item.get("currency", currency)
    if not isinstance(product_currency, str) or len(product_currency) != 3:
        raise CatalogError(f"{where}: 'currency' must be a three-letter code")
    summary = item.get("summary", "")
    if not isinstance(summary, str):
        raise CatalogError(f"{where}: 'summary' must be a string")
    capacity = _parse_capacity(item.get("capacity", {}), where)
    return Product(
        id=product_id,
        name=_require_str(item, "name", where),
        category=category,
        price=float(price),
        currency=product_currency.upper(),
        price_unit=price_unit,
        aliases=_str_list(item, "aliases", where, []),
        audience=audience,
        specs=dict(specs),
        use_cases=_str_list(item, "use_cases", where, []),
        stock=stock,
        summary=summary.strip(),
        features=_str_list(item, "features", where, []),
        capacity=capacity,
    )


def _parse_capacity(raw: Any, where: str) -> Capacity:
    """Validate a product's optional ``capacity`` block."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: 'capacity' must be an object with 'people'/'cups_per_day'")
    unknown = sorted(set(raw) - {"people", "cups_per_day"})
    if unknown:
        raise CatalogError(f"{where}: 'capacity' has an unknown key {unknown[0]!r}")
    ranges: dict[str, tuple[int, int] | None] = {"people": None, "cups_per_day": None}
    for key in ranges:
        value = raw.get(key)
        if value is None:
            continue
        valid = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
            and value[0] <= value[1]
        )
        if not valid:
            raise CatalogError(f"{where}: 'capacity.{key}' must be [min, max] whole numbers")
        ranges[key] = (value[0], value[1])
    return Capacity(people=ranges["people"], cups_per_day=ranges["cups_per_day"])


@lru_cache(maxsize=4)
def get_catalog(settings: KnowledgeSettings) -> Catalog:
    """Return the catalog at ``settings.catalog_path`` (cached; ``cache_clear()``)."""
    return Catalog.load(settings.catalog_path)
