"""Find product mentions in a question with a spaCy ``EntityRuler`` built from the catalog.

Uses ``spacy.blank("en")`` (tokenizer only, no downloaded model) and token patterns on
``LOWER`` so "barista pro 300" and "Barista Pro 300" both match; each pattern's ``id`` is the
product id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language

    from knowledge.catalog import Catalog

logger = logging.getLogger(__name__)

LABEL = "PRODUCT"


@dataclass(frozen=True)
class ProductMention:
    """A product named in a text."""

    product_id: str
    text: str
    start: int
    """Character offset of the mention."""
    end: int


class ProductMatcher:
    """Recognise product names, aliases and ids in free text."""

    def __init__(self, catalog: Catalog) -> None:
        import spacy

        self._nlp: Language = spacy.blank("en")
        ruler: Any = self._nlp.add_pipe(
            "entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True}
        )
        patterns: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for product in catalog:
            for name in [*product.names, product.id]:
                tokens = [t.lower_ for t in self._nlp.make_doc(name) if not t.is_space]
                key = (product.id, " ".join(tokens))
                if not tokens or key in seen:
                    continue
                seen.add(key)
                pattern = [{"LOWER": token} for token in tokens]
                patterns.append({"label": LABEL, "pattern": pattern, "id": product.id})
        ruler.add_patterns(patterns)
        logger.debug("kb.entities.built patterns=%d", len(patterns))

    def mentions(self, text: str) -> list[ProductMention]:
        """Return the products mentioned in ``text``, longest match first, then by position."""
        doc = self._nlp(text)
        found = [
            ProductMention(ent.ent_id_, ent.text, ent.start_char, ent.end_char)
            for ent in doc.ents
            if ent.label_ == LABEL
        ]
        return sorted(found, key=lambda m: (-(m.end - m.start), m.start))

    def product_ids(self, text: str) -> list[str]:
        """Return the distinct ids of the products mentioned in ``text``."""
        return list(dict.fromkeys(m.product_id for m in self.mentions(text)))
