"""Recommend catalog products for a customer's need: hard constraints, then semantic match.

Hard constraints, each applied only when the customer gave it: the category, the budget
(price times quantity; a monthly plan counts with its first year), stock (nothing out of
stock), the team size against the product's rated ``capacity`` where the catalog gives one,
and every must-have feature against the product's ``features``. The products left are ranked
by how close their description is to the need in the customer's words (the knowledge base's
sentence embeddings), with a bonus for a capacity rated for the team. Each pick carries its
reasons as data (:class:`Reason`), which the assistant words with its responses.

When nothing passes, :meth:`Recommender.recommend` finds the one constraint whose relaxation
lets products through (must-haves, then team size, budget, category, stock) and returns the
nearest products without it, so the customer hears what to change instead of "nothing".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

import numpy as np

from knowledge.catalog import Catalog, Product, format_money
from knowledge.embeddings import Matrix, VectorEncoder
from knowledge.text import normalize

CUPS_PER_PERSON = 2
"""Cups a day per person, to compare a team with a capacity given only in cups a day."""
FEATURE_MATCH = 0.62
"""Cosine similarity from which a must-have phrase counts as one of a product's features."""
CAPACITY_BONUS = 0.15
MONTHS_COUNTED = 12
"""A monthly plan is compared with a budget by its first year's cost."""
RELAX_ORDER = ("features", "team_size", "budget", "category", "stock")


@dataclass(frozen=True)
class Needs:
    """What the customer asked for; every field is optional."""

    text: str = ""
    """The need in the customer's words ("a coffee setup for our office")."""
    category: str | None = None
    budget: Decimal | None = None
    """The most the customer wants to spend in the catalog's currency (for all units)."""
    team_size: int | None = None
    quantity: int | None = None
    must_haves: tuple[str, ...] = ()

    @property
    def units(self) -> int:
        """How many units a budget must cover (1 unless a quantity was given)."""
        return self.quantity if self.quantity and self.quantity > 0 else 1


@dataclass(frozen=True)
class Reason:
    """One reason for a pick, as a kind and the values its wording needs."""

    kind: str
    """``budget``, ``capacity_people``, ``capacity_cups``, ``feature``, ``use_case``,
    ``low_stock`` or ``preorder``."""
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pick:
    """A recommended product with its reasons and its score."""

    product: Product
    reasons: tuple[Reason, ...]
    score: float


@dataclass(frozen=True)
class Recommendations:
    """Up to three picks, or (when nothing fits) the constraint to relax and the nearest."""

    picks: tuple[Pick, ...]
    relax: str | None = None
    """Which constraint kept every product out (one of :data:`RELAX_ORDER`)."""
    nearest: tuple[Pick, ...] = ()
    unmatched: tuple[str, ...] = ()
    """Must-haves no product of the catalog offers."""


def cost(product: Product, units: int) -> Decimal:
    """Return what ``units`` of the product cost against a budget (a plan: its first year)."""
    price = Decimal(str(product.price)) * units
    return price * MONTHS_COUNTED if product.price_unit == "per month" else price


def profile(product: Product, catalog: Catalog) -> str:
    """Return the text a need is compared with: name, category, summary, uses and features."""
    parts = [product.name, catalog.category_label(product.category), product.summary]
    parts.extend(product.use_cases)
    parts.extend(product.features)
    return ". ".join(p for p in parts if p)


class Recommender:
    """Ranks a catalog's products for :class:`Needs`; product vectors are computed once."""

    def __init__(self, catalog: Catalog, encoder: VectorEncoder, limit: int = 3) -> None:
        """Recommend from ``catalog`` with ``encoder``'s sentence vectors, ``limit`` at a time."""
        self.catalog = catalog
        self.encoder = encoder
        self.limit = limit
        self._lock = threading.Lock()
        self._vectors: Matrix | None = None
        self._features: dict[str, Matrix] = {}

    def warm_up(self) -> None:
        """Embed the catalog's product descriptions now rather than on the first request."""
        self._product_vectors()

    def _product_vectors(self) -> Matrix:
        with self._lock:
            if self._vectors is None:
                texts = [profile(p, self.catalog) for p in self.catalog.products]
                self._vectors = (
                    self.encoder.encode(texts)
                    if texts
                    else np.zeros((0, self.encoder.dimension), dtype=np.float32)
                )
            return self._vectors

    def _feature_vectors(self, product: Product) -> Matrix:
        with self._lock:
            if product.id not in self._features:
                self._features[product.id] = self.encoder.encode(list(product.features))
            return self._features[product.id]

    def matched_features(self, product: Product, must_haves: Sequence[str]) -> list[str] | None:
        """Return the product's feature matching each must-have, or None if one is missing."""
        if not must_haves:
            return []
        if not product.features:
            return None
        vectors = self._feature_vectors(product)
        wanted = self.encoder.encode(list(must_haves))
        matched: list[str] = []
        for phrase, vector in zip(must_haves, wanted, strict=True):
            words = normalize(phrase)
            literal = [
                f for f in product.features if words in normalize(f) or normalize(f) in words
            ]
            if literal:
                matched.append(literal[0])
                continue
            similarity = vectors @ vector
            best = int(np.argmax(similarity))
            if float(similarity[best]) < FEATURE_MATCH:
                return None
            matched.append(product.features[best])
        return matched

    def candidates(self, needs: Needs) -> list[Product]:
        """Return the products that pass every hard constraint but the must-haves."""
        return [p for p in self.catalog.products if self._passes(p, needs, "features")]

    def _passes(self, product: Product, needs: Needs, skip: str | None) -> bool:
        if skip != "category" and needs.category and product.category != needs.category:
            return False
        if skip != "stock" and product.stock == "out_of_stock":
            return False
        over_budget = needs.budget is not None and cost(product, needs.units) > needs.budget
        if skip != "budget" and over_budget:
            return False
        too_small_or_big = bool(
            needs.team_size
            and product.capacity.declared
            and not product.capacity.fits(needs.team_size, CUPS_PER_PERSON)
        )
        if skip != "team_size" and too_small_or_big:
            return False
        if skip != "features" and needs.must_haves:
            return self.matched_features(product, needs.must_haves) is not None
        return True

    def _rank(self, products: list[Product], needs: Needs) -> list[Pick]:
        if not products:
            return []
        index = {p.id: i for i, p in enumerate(self.catalog.products)}
        vectors = self._product_vectors()
        query = " ".join([needs.text, *needs.must_haves]).strip()
        similarity = (
            vectors @ self.encoder.encode([query])[0]
            if query
            else np.zeros(len(self.catalog.products))
        )
        picks = []
        for product in products:
            score = float(similarity[index[product.id]])
            fits = bool(
                needs.team_size
                and product.capacity.declared
                and product.capacity.fits(needs.team_size, CUPS_PER_PERSON)
            )
            score += CAPACITY_BONUS if fits else 0.0
            score -= 0.05 if product.stock == "preorder" else 0.0
            picks.append(Pick(product, self.reasons(product, needs), score))
        picks.sort(key=lambda pick: (-pick.score, pick.product.price))
        return picks

    def reasons(self, product: Product, needs: Needs) -> tuple[Reason, ...]:
        """Return why a product suits the needs, from the catalog's data."""
        reasons: list[Reason] = []
        currency = self.catalog.currency
        if needs.budget is not None and cost(product, needs.units) <= needs.budget:
            reasons.append(
                Reason("budget", {"budget": format_money(float(needs.budget), currency)})
            )
        people, cups = product.capacity.people, product.capacity.cups_per_day
        if people and (needs.team_size or not cups):
            reasons.append(
                Reason("capacity_people", {"low": str(people[0]), "high": str(people[1])})
            )
        if cups:
            reasons.append(Reason("capacity_cups", {"low": str(cups[0]), "high": str(cups[1])}))
        matched = self.matched_features(product, needs.must_haves) or []
        features = matched or product.features[:1]
        reasons.extend(Reason("feature", {"feature": feature}) for feature in features)
        if not product.features and product.use_cases:
            reasons.append(Reason("use_case", {"use_case": product.use_cases[0]}))
        if product.stock == "low_stock":
            reasons.append(Reason("low_stock"))
        elif product.stock == "preorder":
            reasons.append(Reason("preorder"))
        return tuple(reasons)

    def recommend(self, needs: Needs) -> Recommendations:
        """Return the best picks for ``needs``, or what to relax and the nearest products."""
        unmatched = tuple(
            phrase
            for phrase in needs.must_haves
            if not any(self.matched_features(p, [phrase]) for p in self.catalog.products)
        )
        if unmatched:
            kept = tuple(p for p in needs.must_haves if p not in unmatched)
            needs = replace(needs, must_haves=kept)
        fitting = [p for p in self.catalog.products if self._passes(p, needs, None)]
        if fitting:
            picks = self._rank(fitting, needs)[: self.limit]
            return Recommendations(tuple(picks), unmatched=unmatched)
        # Of the constraints whose relaxation lets products through, the one whose best
        # product ranks highest (ties: the earlier in RELAX_ORDER).
        # Out-of-stock products are offered only when relaxing nothing else helps.
        best: tuple[float, str, list[Pick]] | None = None
        for constraint in RELAX_ORDER:
            if not _given(needs, constraint) or (constraint == "stock" and best is not None):
                continue
            relaxed = [p for p in self.catalog.products if self._passes(p, needs, constraint)]
            ranked = self._rank(relaxed, needs)
            if ranked and (best is None or ranked[0].score > best[0]):
                best = (ranked[0].score, constraint, ranked)
        if best is not None:
            _, constraint, nearest = best
            if constraint == "budget":
                nearest = sorted(nearest[: self.limit], key=lambda p: cost(p.product, needs.units))
            return Recommendations(
                (), relax=constraint, nearest=tuple(nearest[: self.limit]), unmatched=unmatched
            )
        loose = Needs(text=needs.text, category=needs.category)
        nearest = self._rank(
            [p for p in self.catalog.products if self._passes(p, loose, None)], loose
        )
        return Recommendations(
            (), relax=None, nearest=tuple(nearest[: self.limit]), unmatched=unmatched
        )


def _given(needs: Needs, constraint: str) -> bool:
    """Whether the customer gave the constraint (only those can be relaxed)."""
    return {
        "features": bool(needs.must_haves),
        "team_size": bool(needs.team_size),
        "budget": needs.budget is not None,
        "category": bool(needs.category),
        "stock": True,
    }[constraint]


_SPLIT = re.compile(r",|;|\band\b|\bplus\b|\bwith\b|&", re.IGNORECASE)
_NO_PREFERENCE = re.compile(
    r"^(no|none|nothing|nope|not really|no preference|any|anything|doesn'?t matter|"
    r"no must[- ]haves?|nothing (special|in particular))\b",
    re.IGNORECASE,
)


def split_must_haves(text: str) -> tuple[str, ...]:
    """Split "plumbed-in water and a milk system" into phrases; () for "no preference"."""
    cleaned = text.strip().strip(".!")
    if not cleaned or _NO_PREFERENCE.match(cleaned):
        return ()
    phrases = []
    for part in _SPLIT.split(cleaned):
        words = re.sub(
            r"^(it )?(must|should|needs? to)( have| be)?\s+|^(a|an|the)\s+",
            "",
            part.strip(),
            flags=re.IGNORECASE,
        )
        words = re.sub(r"^(a|an|the)\s+", "", words.strip(), flags=re.IGNORECASE)
        if len(words) > 1:
            phrases.append(words)
    return tuple(phrases)
