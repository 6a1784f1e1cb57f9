"""Generate the Rasa NLU data that describes the company from its catalog.

``python -m knowledge.training_data [--catalog FILE] [--out data/nlu/catalog.generated.yml]``
writes one NLU file with

- a ``product`` lookup table: every product name and every alias written like a name
  (with a capital letter or a digit: "Barista Pro", "KM100"); all-lowercase aliases such
  as "hand grinder" are descriptions, left to retrieval, so they do not mark a product;
- a ``category`` lookup table and one synonym per category, mapping the words customers use
  (the category's label and ``aliases``) to its slug, the value the ``category`` slot gets;
- the ``budget`` regexes for the catalog's currencies (``£250``, ``250 pounds``).

``make train`` runs it whenever the catalog changes, so nothing in ``data/`` is typed by
hand from the catalog. The hand-written examples in ``data/nlu`` stay company-neutral in
what they teach (intents and where entities sit); this file supplies the company's words.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from knowledge.catalog import CURRENCY_WORDS, Catalog, currency_symbol

logger = logging.getLogger(__name__)

DEFAULT_OUT = Path("data") / "nlu" / "catalog.generated.yml"
HEADER = (
    "# Generated from the product catalog by `python -m knowledge.training_data`"
    " (make train); do not edit.\n"
)


def _unique(values: Iterable[str]) -> list[str]:
    """Return the non-empty values once each (case-insensitive), in order."""
    seen: set[str] = set()
    kept: list[str] = []
    for value in values:
        text = " ".join(value.split())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            kept.append(text)
    return kept


def product_names(catalog: Catalog) -> list[str]:
    """Return every product name and name-like alias, once each."""
    return _unique(
        name
        for product in catalog
        for name in product.names
        if name == product.name or name != name.lower()
    )


def category_synonyms(catalog: Catalog) -> dict[str, list[str]]:
    """Return, per category slug, the words that mean it (its label and aliases, lowercased).

    A word claimed by two categories is left out of both, so the synonym mapper never picks
    one at random.
    """
    words: dict[str, list[str]] = {}
    for slug in catalog.categories():
        entry = catalog.category(slug)
        candidates = [entry.label.lower(), slug.replace("-", " "), *entry.aliases]
        words[slug] = [w.lower() for w in _unique(candidates) if w.lower() != slug]
    owners: dict[str, set[str]] = {}
    for slug, synonyms in words.items():
        for word in synonyms:
            owners.setdefault(word, set()).add(slug)
    ambiguous = {word for word, slugs in owners.items() if len(slugs) > 1}
    for word in sorted(ambiguous):
        logger.warning("kb.training_data.ambiguous_category_word word=%s", word)
    return {slug: [w for w in synonyms if w not in ambiguous] for slug, synonyms in words.items()}


def budget_patterns(catalog: Catalog) -> list[str]:
    """Return regexes for amounts in the catalog's currencies (``€300``, ``1,500 EUR``)."""
    currencies = list(dict.fromkeys([catalog.currency.upper(), *(p.currency for p in catalog)]))
    prefixes: list[str] = []
    suffixes: list[str] = []
    for code in currencies:
        symbol = currency_symbol(code)
        if symbol:
            prefixes.append(re.escape(symbol))
            suffixes.append(re.escape(symbol))
        suffixes.append(rf"{code.lower()}\b")
        suffixes.extend(rf"{word}\b" for word in CURRENCY_WORDS.get(code, ()))
    patterns = []
    if prefixes:
        patterns.append(rf"(?:{'|'.join(dict.fromkeys(prefixes))})\s?\d[\d.,]*k?")
    patterns.append(rf"\b\d[\d.,]*\s?k?\s?(?:{'|'.join(dict.fromkeys(suffixes))})")
    return patterns


def _block(kind: str, name: str, examples: Sequence[str]) -> str:
    lines = "".join(f"    - {example}\n" for example in examples)
    return f"- {kind}: {name}\n  examples: |\n{lines}"


def nlu_yaml(catalog: Catalog) -> str:
    """Return the generated NLU file's text for ``catalog``."""
    blocks = [_block("lookup", "product", product_names(catalog))]
    synonyms = category_synonyms(catalog)
    category_words = _unique(word for words in synonyms.values() for word in words)
    if category_words:
        blocks.append(_block("lookup", "category", category_words))
    blocks.extend(_block("synonym", slug, words) for slug, words in synonyms.items() if words)
    blocks.append(_block("regex", "budget", budget_patterns(catalog)))
    return HEADER + 'version: "3.1"\n\nnlu:\n' + "\n".join(blocks)


def write_training_data(catalog_path: Path, out: Path) -> Path:
    """Generate the NLU file for the catalog at ``catalog_path`` into ``out``."""
    catalog = Catalog.load(catalog_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = nlu_yaml(catalog)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    logger.info("kb.training_data.written path=%s products=%d", out, len(catalog))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Write the generated NLU data (``--catalog`` defaults to the configured catalog)."""
    parser = argparse.ArgumentParser(description="Generate NLU data from the product catalog")
    parser.add_argument("--catalog", type=Path, default=None, help="catalog.json to read")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="NLU file to write")
    args = parser.parse_args(argv)
    catalog_path = args.catalog
    if catalog_path is None:
        from core.config import get_settings

        catalog_path = get_settings().resolved_catalog_path
    written = write_training_data(catalog_path, args.out)
    print(f"wrote {written}")


if __name__ == "__main__":
    main()
