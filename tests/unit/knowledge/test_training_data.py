"""knowledge/training_data.py: the NLU data generated from the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from core.config import PROJECT_ROOT
from knowledge.catalog import Catalog
from knowledge.training_data import (
    budget_patterns,
    category_synonyms,
    main,
    nlu_yaml,
    product_names,
    write_training_data,
)

DEMO = PROJECT_ROOT / "knowledge" / "demo" / "catalog.json"
BIKES = {
    "currency": "GBP",
    "categories": [
        {"id": "road-bikes", "label": "Road bikes", "aliases": ["racer", "bike"]},
        {"id": "e-bikes", "label": "E-bikes", "aliases": ["electric bike", "bike"]},
    ],
    "products": [
        {"id": "r1", "name": "Swift 2", "aliases": ["Swift", "fast bike"],
         "category": "road-bikes", "price": 900},
        {"id": "e1", "name": "Volt City", "category": "e-bikes", "price": 2100},
    ],
}  # fmt: skip


def test_product_lookup_has_names_and_name_like_aliases() -> None:
    assert product_names(Catalog.from_dict(BIKES)) == ["Swift 2", "Swift", "Volt City"]


def test_category_synonyms_map_words_to_slugs_and_skip_shared_words() -> None:
    assert category_synonyms(Catalog.from_dict(BIKES)) == {
        "road-bikes": ["road bikes", "racer"],
        "e-bikes": ["e bikes", "electric bike"],
    }


def test_budget_patterns_follow_the_currency() -> None:
    [prefix, suffix] = budget_patterns(Catalog.from_dict(BIKES))
    assert re.search(prefix, "under £1,500")
    assert re.search(suffix, "about 900 pounds", re.IGNORECASE)
    assert not re.search(prefix, "under €1,500")
    [suffix_sek] = budget_patterns(Catalog.from_dict({"currency": "SEK", "products": []}))
    assert re.search(suffix_sek, "4000 kronor")


def test_generated_file_is_valid_rasa_nlu(tmp_path: Path) -> None:
    data = yaml.safe_load(nlu_yaml(Catalog.load(DEMO)))
    assert data["version"] == "3.1"
    blocks = {(next(iter(b)), next(iter(b.values()))): b["examples"] for b in data["nlu"]}
    products = blocks[("lookup", "product")]
    assert "- Kestrel Barista Pro 300\n" in products
    assert "- Barista Pro\n" in products
    assert "- hand grinder\n" not in products, "lowercase aliases are descriptions"
    assert "- coffee machine\n" in blocks[("synonym", "espresso-machines")]
    assert "- filter & cold brew\n" in blocks[("synonym", "brewers")]
    assert ("regex", "budget") in blocks
    assert ("lookup", "category") in blocks


def test_cli_writes_the_file_and_leaves_an_unchanged_one_alone(
    tmp_path: Path, capsys: object
) -> None:
    out = tmp_path / "nlu" / "catalog.generated.yml"
    main(["--catalog", str(DEMO), "--out", str(out)])
    assert out.read_text(encoding="utf-8").startswith("# Generated from the product catalog")
    stamp = out.stat().st_mtime_ns
    write_training_data(DEMO, out)
    assert out.stat().st_mtime_ns == stamp
