"""Value types the knowledge base hands to its callers (actions, gateway, CLI, benchmarks).

An answer cites its sources with the shared :class:`core.messages.SourceRef`: ``location``
is the document path relative to the content folder plus an anchor for the heading or FAQ
entry (``docs/shipping.md#international-shipping``, ``faq.csv#faq-12``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.messages import SourceRef


@dataclass(frozen=True)
class Chunk:
    """One retrieved passage with its provenance and fused score (0..1, higher is better)."""

    id: str
    text: str
    source: str
    title: str
    location: str
    score: float
    faq_id: str | None = None
    product_id: str | None = None
    heading: str | None = None
    confidence: float = 0.0
    """Calibrated confidence (0..1, comparable across questions) that this chunk answers."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of ``concierge kb query --json``."""
        return {
            "id": self.id,
            "text": self.text,
            "source": self.source,
            "faq_id": self.faq_id,
            "score": round(self.score, 4),
            "title": self.title,
            "location": self.location,
            "product_id": self.product_id,
            "heading": self.heading,
            "confidence": round(self.confidence, 4),
        }


@dataclass(frozen=True)
class Answer:
    """What the knowledge base says to a question; ``text`` is None when it declines."""

    question: str
    text: str | None
    confidence: float
    sources: list[SourceRef] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    generated: bool = False
    """True when an LLM wrote the text, False for the extractive answer."""

    @property
    def answered(self) -> bool:
        """Whether the assistant is confident enough to answer."""
        return self.text is not None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of ``concierge kb query --json``."""
        return {
            "answer": self.text,
            "confidence": round(self.confidence, 4),
            "sources": [s.to_dict() for s in self.sources],
            "chunks": [c.to_dict() for c in self.chunks],
        }


@dataclass(frozen=True)
class IngestReport:
    """Summary of one ingestion run."""

    files: int
    chunks_added: int
    chunks_updated: int
    chunks_removed: int
    files_skipped: list[tuple[str, str]]
    """(path, reason) of each file that could not be read."""
    seconds: float
    files_unchanged: int = 0
    """Files whose content hash matched the index (not read again)."""
    files_removed: int = 0
    """Indexed files that disappeared from an ingested folder."""
    chunks_embedded: int = 0
    """Chunk texts that went through the embedding model (unchanged text reuses its vector)."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly summary."""
        return asdict(self)


@dataclass(frozen=True)
class SourceStats:
    """What the index holds for one source file."""

    source: str
    title: str
    chunks: int
    indexed_at: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly summary."""
        return asdict(self)


@dataclass(frozen=True)
class IndexStats:
    """Size and freshness of the knowledge index."""

    documents: int
    chunks: int
    sources: list[SourceStats]
    last_indexed: str | None
    collection: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of ``concierge kb stats --json``."""
        return {
            "collection": self.collection,
            "documents": self.documents,
            "chunks": self.chunks,
            "last_indexed": self.last_indexed,
            "sources": [s.to_dict() for s in self.sources],
        }
