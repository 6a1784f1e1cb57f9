import json
from pathlib import Path

import pytest

from core.config import Settings
from knowledge.catalog import (
    STOCK_LABELS,
    Catalog,
    CatalogError,
    Product,
    format_money,
    get_catalog,
)

from .conftest import CONTENT


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.load(CONTENT / "catalog.json")


def _product(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "p-1", "name": "Thing", "category": "grinders", "price": 10}
    base.update(overrides)
    return base


def test_load_and_lookup(catalog: Catalog) -> None:
    assert catalog.company == "Harbour Coffee"
    assert len(catalog) == 3
    grinder = catalog.get("hb-grinder")
    assert isinstance(grinder, Product)
    assert grinder.aliases == ["Grinder G2", "G2"]
    assert grinder.display_price == "€249"
    assert catalog.get("nope") is None
    assert catalog.categories() == ["espresso-machines", "grinders", "service-plans"]
    plan = catalog.get("hb-plan")
    assert plan is not None and plan.display_price == "€149 per month"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Harbour Grinder G2", "hb-grinder"),
        ("espresso one", "hb-espresso"),
        ("hb-plan", "hb-plan"),
        ("how much is the grinder g2?", "hb-grinder"),
        ("Is the Harbor Espreso One good?", "hb-espresso"),
        ("harbour grindr g2", "hb-grinder"),
        ("a toaster", None),
        ("", None),
    ],
)
def test_find_exact_alias_mention_and_fuzzy(
    catalog: Catalog, text: str, expected: str | None
) -> None:
    product = catalog.find(text)
    assert (product.id if product else None) == expected


def test_recommend_prefers_stock_budget_and_use(tmp_path: Path) -> None:
    raw = {
        "products": [
            _product(id="a", name="Alpha", price=100, stock="out_of_stock", use_cases=["espresso"]),
            _product(id="b", name="Beta", price=300, stock="in_stock", use_cases=["filter"]),
            _product(
                id="c", name="Gamma", price=150, stock="low_stock", use_cases=["espresso at home"]
            ),
            _product(id="d", name="Delta", price=90, stock="preorder", use_cases=["espresso"]),
            _product(id="e", name="Eps", price=80, stock="in_stock", audience=["business"]),
        ]
    }
    catalog = Catalog.from_dict(raw)
    assert [p.id for p in catalog.recommend(use_case="espresso")] == ["c", "e", "b"]
    assert [p.id for p in catalog.recommend(budget=120, limit=5)] == ["e", "d", "a"]
    assert [p.id for p in catalog.recommend(audience="consumer", limit=5)] == ["c", "b", "d", "a"]
    assert catalog.recommend(category="brewers") == []


def test_recommend_ignores_numbers_in_the_request() -> None:
    raw = {
        "products": [
            _product(id="t", name="Tempo 2", price=1149, use_cases=["first road bike"]),
            _product(id="v", name="Volt City", price=1899, use_cases=["electric commuting"],
                     summary="An electric bike."),
        ]
    }  # fmt: skip
    catalog = Catalog.from_dict(raw)
    wanted = "Can you recommend an electric bike under £2,000?"
    assert [p.id for p in catalog.recommend(budget=2000, use_case=wanted)] == ["v", "t"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "products"),
        ({"products": [_product(price=-1)]}, "price"),
        ({"products": [_product(price="10")]}, "price"),
        ({"products": [_product(stock="maybe")]}, "stock"),
        ({"products": [_product(price_unit="weekly")]}, "price_unit"),
        ({"products": [_product(audience=["aliens"])]}, "audience"),
        ({"products": [_product(id="Bad Id")]}, "'id'"),
        ({"products": [_product(), _product()]}, "duplicate id"),
        ({"products": [_product(specs={"x": [1]})]}, "specs"),
        ({"products": [_product(name="")]}, "'name'"),
        ({"currency": "EURO", "products": []}, "currency"),
    ],
)
def test_validation_errors_are_clear(raw: object, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        Catalog.from_dict(raw)


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not found"):
        Catalog.load(tmp_path / "missing.json")
    broken = tmp_path / "catalog.json"
    broken.write_text("{nope")
    with pytest.raises(CatalogError, match=r"catalog\.json: not valid JSON"):
        Catalog.load(broken)
    broken.write_text(json.dumps({"products": [_product(price=-5)]}))
    with pytest.raises(CatalogError, match=r"catalog\.json: products\[0\] \(p-1\)"):
        Catalog.load(broken)


def test_get_catalog_is_cached_per_settings(tmp_path: Path) -> None:
    get_catalog.cache_clear()
    settings = Settings(data_dir=tmp_path, content_dir=CONTENT)
    first = get_catalog(settings.knowledge)
    assert get_catalog(settings.knowledge) is first
    assert get_catalog(Settings(data_dir=tmp_path, content_dir=CONTENT).knowledge) is first
    get_catalog.cache_clear()
    assert get_catalog(settings.knowledge) is not first
    get_catalog.cache_clear()


def test_categories_block_gives_labels_and_order() -> None:
    raw = {
        "categories": [
            {"id": "service-plans", "label": "Care plans", "aliases": ["plan"]},
            {"id": "grinders", "label": "Grinders"},
            {"id": "unused", "label": "Nothing here"},
        ],
        "products": [
            _product(id="a", category="grinders"),
            _product(id="b", category="service-plans"),
            _product(id="c", category="road-bikes"),
        ],
    }
    catalog = Catalog.from_dict(raw)
    assert catalog.categories() == ["service-plans", "grinders", "road-bikes"]
    assert catalog.category_labels() == {
        "service-plans": "Care plans",
        "grinders": "Grinders",
        "road-bikes": "Road bikes",
    }
    assert catalog.category("service-plans").aliases == ["plan"]
    assert catalog.category_label("e-bikes") == "E bikes"
    assert catalog.offer == "care plans, grinders and road bikes"


def test_offer_from_the_catalog_and_without_categories() -> None:
    assert Catalog.from_dict({"offer": " bikes and repairs ", "products": []}).offer == (
        "bikes and repairs"
    )
    assert Catalog.from_dict({"products": [_product()]}).offer == "grinders"
    assert Catalog.from_dict({"products": []}).offer == "our products"


def test_demo_catalog_declares_its_categories() -> None:
    from core.config import PROJECT_ROOT

    demo = Catalog.load(PROJECT_ROOT / "knowledge" / "demo" / "catalog.json")
    assert demo.category_labels() == {
        "espresso-machines": "Espresso machines",
        "grinders": "Grinders",
        "brewers": "Filter & cold brew",
        "accessories": "Accessories",
        "coffee": "Coffee beans",
        "service-plans": "Service plans",
    }
    assert demo.offer == "machines, grinders and beans"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"categories": {}, "products": []}, "categories"),
        ({"categories": ["x"], "products": []}, r"categories\[0\]: expected an object"),
        ({"categories": [{"id": "Bad Slug"}], "products": []}, "slug"),
        ({"categories": [{"id": "a"}, {"id": "a"}], "products": []}, "duplicate category"),
        ({"categories": [{"id": "a", "label": ""}], "products": []}, "label"),
        ({"categories": [{"id": "a", "aliases": "x"}], "products": []}, "aliases"),
        ({"offer": 3, "products": []}, "offer"),
    ],
)
def test_category_block_errors_are_clear(raw: object, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        Catalog.from_dict(raw)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(1290, "EUR", "€1,290"), (12.5, "eur", "€12.50"), (9, "SEK", "9 SEK"), (1500, "GBP", "£1,500"),
     (0, "USD", "$0")],
)  # fmt: skip
def test_format_money(amount: float, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_display_price_is_the_one_formatter() -> None:
    product = Catalog.from_dict(
        {"currency": "SEK", "products": [_product(price=22, price_unit="per month")]}
    ).get("p-1")
    assert product is not None
    assert product.display_price == "22 SEK per month"
    assert STOCK_LABELS["preorder"] == "available for pre-order"
