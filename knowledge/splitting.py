"""Cut loaded documents into chunks that keep their heading path and a citable location.

Each chunk's text starts with its heading path ("Shipping › International shipping") so both
retrievers see the topic. Sections longer than ``max_chars`` are split with overlap by
langchain's ``RecursiveCharacterTextSplitter`` (paragraphs, then lines, then sentences).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from knowledge.loaders import LoadedDocument
from knowledge.text import sha256_hex

HEADING_SEPARATOR = " › "
MAX_CHARS = 1200
"""Sections up to this length stay whole."""
CHUNK_CHARS = 1000
"""Target size of the pieces of a longer section."""
OVERLAP_CHARS = 150


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk ready to embed: deterministic id, text and metadata (no timestamps yet)."""

    id: str
    text: str
    metadata: dict[str, Any]


@lru_cache(maxsize=4)
def _splitter(chunk_chars: int, overlap_chars: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_chars,
        chunk_overlap=overlap_chars,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
    )


def chunk_id(source: str, position: int, text: str) -> str:
    """Deterministic chunk id: a hash of the source, the position and the content."""
    return sha256_hex(f"{source}\x1f{position}\x1f{text}", 32)


def location_of(source: str, anchor: str | None) -> str:
    """Join a source and an anchor: ``docs/shipping.md#international-shipping``."""
    return f"{source}#{anchor}" if anchor else source


def split_document(
    document: LoadedDocument,
    source: str,
    *,
    max_chars: int = MAX_CHARS,
    chunk_chars: int = CHUNK_CHARS,
    overlap_chars: int = OVERLAP_CHARS,
) -> list[ChunkDraft]:
    """Return the chunks of ``document`` with provenance metadata for ``source``."""
    drafts: list[ChunkDraft] = []
    for section in document.sections:
        heading = HEADING_SEPARATOR.join((document.title, *section.headings))
        # An FAQ pair or a product names itself in its first line: prefix the title only.
        prefix = document.title if section.atomic else heading
        body = section.text.strip()
        if section.atomic or len(body) <= max_chars:
            pieces = [body]
        else:
            pieces = [p.strip() for p in _splitter(chunk_chars, overlap_chars).split_text(body)]
        for piece in pieces:
            if not piece:
                continue
            text = f"{prefix}\n\n{piece}"
            position = len(drafts)
            metadata: dict[str, Any] = {
                "source": source,
                "title": document.title,
                "heading": heading,
                "location": location_of(source, section.anchor),
                "kind": document.kind,
                "position": position,
                "content_hash": sha256_hex(text, 16),
            }
            if section.faq_id:
                metadata["faq_id"] = section.faq_id
            if section.product_id:
                metadata["product_id"] = section.product_id
            drafts.append(ChunkDraft(chunk_id(source, position, text), text, metadata))
    return drafts
