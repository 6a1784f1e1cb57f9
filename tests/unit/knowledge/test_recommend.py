"""knowledge/recommend.py: hard constraints, ranking by the need, reasons, what to relax."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from knowledge.catalog import Catalog, CatalogError
from knowledge.recommend import Needs, Recommender, split_must_haves
from tests.support.embeddings import HashingEmbeddings


def item(pid: str, price: float, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": pid,
        "name": pid.replace("-", " ").title(),
        "price": price,
        "category": "machines",
        "audience": ["business"],
    }
    base.update(fields)
    return base


CATALOG = Catalog.from_dict(
    {
        "currency": "EUR",
        "products": [
            item(
                "office-auto",
                2750,
                features=["plumbed-in water", "fresh milk system"],
                capacity={"people": [10, 60], "cups_per_day": [30, 150]},
                summary="Bean-to-cup machine for offices",
            ),
            item(
                "home-mini",
                349,
                features=["steam wand"],
                capacity={"people": [1, 2]},
                summary="Small espresso machine for a home kitchen",
                audience=["consumer"],
            ),
            item(
                "cafe-two",
                5900,
                features=["plumbed-in water", "two groups"],
                capacity={"people": [30, 400]},
                summary="Cafe espresso machine",
            ),
            item(
                "batch-brewer",
                429,
                features=["thermal carafe"],
                capacity={"cups_per_day": [12, 60]},
                summary="Filter coffee for offices",
            ),
            item(
                "office-plan",
                299,
                price_unit="per month",
                category="plans",
                capacity={"people": [10, 60]},
                summary="Office coffee service with a machine",
            ),
            item("sold-out", 500, stock="out_of_stock", summary="Office machine for offices"),
            item("beans", 24, category="coffee", summary="Office beans"),
        ],
    }
)


@pytest.fixture
def recommender() -> Recommender:
    return Recommender(CATALOG, HashingEmbeddings())


def ids(picks: Any) -> list[str]:
    return [pick.product.id for pick in picks]


def test_team_size_budget_and_stock_are_hard_constraints(recommender: Recommender) -> None:
    result = recommender.recommend(
        Needs(text="coffee for our office", budget=Decimal(5000), team_size=40)
    )
    picked = ids(result.picks)
    assert len(picked) == 3
    assert "home-mini" not in picked  # rated for 1-2 people
    assert "cafe-two" not in picked  # over budget
    assert "sold-out" not in picked
    assert "batch-brewer" not in picked  # 40 people x 2 cups is beyond 60 cups a day
    assert picked[0] in {"office-auto", "office-plan"}, "rated for the team, so ranked first"
    assert result.relax is None


def test_a_monthly_plan_counts_with_its_first_year(recommender: Recommender) -> None:
    result = recommender.recommend(Needs(text="office coffee", budget=Decimal(3000), team_size=20))
    assert "office-plan" not in ids(result.picks)  # 12 x 299 = 3,588
    result = recommender.recommend(Needs(text="office coffee", budget=Decimal(3600), team_size=20))
    assert "office-plan" in ids(result.picks)


def test_budget_covers_every_unit(recommender: Recommender) -> None:
    needs = Needs(text="espresso machine", category="machines", budget=Decimal(1100), quantity=3)
    assert ids(recommender.recommend(needs).picks) == ["home-mini"]  # 3 x 349; 3 x 429 is over
    needs = Needs(text="espresso machine", category="machines", budget=Decimal(1000), quantity=3)
    result = recommender.recommend(needs)
    assert result.picks == ()
    assert result.relax == "budget"


def test_must_haves_filter_and_become_reasons(recommender: Recommender) -> None:
    result = recommender.recommend(
        Needs(text="office", team_size=40, must_haves=("plumbed-in water",), budget=Decimal(9000))
    )
    assert ids(result.picks) == ["office-auto", "cafe-two"]
    reasons = result.picks[0].reasons
    assert [r.kind for r in reasons] == ["budget", "capacity_people", "capacity_cups", "feature"]
    assert reasons[0].values == {"budget": "€9,000"}
    assert reasons[1].values == {"low": "10", "high": "60"}
    assert reasons[2].values == {"low": "30", "high": "150"}
    assert reasons[3].values == {"feature": "plumbed-in water"}


def test_a_must_have_no_product_offers_is_reported_not_fatal(recommender: Recommender) -> None:
    result = recommender.recommend(
        Needs(text="office", team_size=40, must_haves=("karaoke machine", "fresh milk system"))
    )
    assert result.unmatched == ("karaoke machine",)
    assert ids(result.picks) == ["office-auto"]


def test_when_nothing_fits_it_names_the_constraint_and_the_nearest(
    recommender: Recommender,
) -> None:
    result = recommender.recommend(
        Needs(text="office machine", category="machines", team_size=40, budget=Decimal(1000))
    )
    assert result.picks == ()
    assert result.relax == "budget"
    assert ids(result.nearest)[0] == "office-auto", "the cheapest that fits everything else"
    result = recommender.recommend(Needs(text="plan", category="plans", team_size=200))
    assert result.relax == "team_size"
    assert ids(result.nearest) == ["office-plan"]


def test_low_stock_and_preorder_are_said() -> None:
    catalog = Catalog.from_dict(
        {"products": [item("a", 10, stock="low_stock"), item("b", 10, stock="preorder")]}
    )
    result = Recommender(catalog, HashingEmbeddings()).recommend(Needs(text="machine"))
    kinds = {pick.product.id: [r.kind for r in pick.reasons] for pick in result.picks}
    assert kinds == {"a": ["low_stock"], "b": ["preorder"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plumbed-in water and a milk system", ("plumbed-in water", "milk system")),
        ("it must have a steam wand, plus two groups", ("steam wand", "two groups")),
        ("no, nothing special", ()),
        ("no preference", ()),
        ("anything", ()),
    ],
)
def test_must_haves_are_split_from_the_answer(text: str, expected: tuple[str, ...]) -> None:
    assert split_must_haves(text) == expected


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ({"people": [10]}, "capacity.people' must be [min, max]"),
        ({"people": [60, 10]}, "capacity.people' must be [min, max]"),
        ({"cups_per_day": [1.5, 3]}, "capacity.cups_per_day' must be [min, max]"),
        ({"seats": [1, 2]}, "unknown key 'seats'"),
        ([1, 2], "'capacity' must be an object"),
    ],
)
def test_capacity_is_validated(capacity: object, message: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(message)):
        Catalog.from_dict({"products": [item("x", 1, capacity=capacity)]})


def test_features_and_capacity_appear_in_the_product_text() -> None:
    product = CATALOG.get("office-auto")
    assert product is not None
    text = product.render()
    assert "Features: plumbed-in water, fresh milk system." in text
    assert "Rated for 10-60 people." in text
    assert "Rated for 30-150 cups a day." in text
