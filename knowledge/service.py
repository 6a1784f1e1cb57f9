"""The knowledge base facade used by the actions, the gateway and the CLI.

``get_knowledge_base(settings)`` returns one cached ``KnowledgeBase`` per settings value;
nothing is built at import time and nothing heavy is loaded before first use (or
``warm_up()``). Tests pass their own chroma client and embeddings to ``KnowledgeBase``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.config import KnowledgeSettings
from knowledge.answer import ExtractiveAnswerer, dedupe_sources
from knowledge.catalog import Catalog, CatalogError
from knowledge.confidence import DEFAULT_ANSWER_THRESHOLD
from knowledge.embeddings import Matrix, SentenceTransformerEmbeddings, VectorEncoder
from knowledge.ingest import Indexer
from knowledge.llm import LLMAnswerer, LLMError
from knowledge.retrieve import Candidate, HybridRetriever
from knowledge.store import ChunkStore, make_client
from knowledge.types import Answer, Chunk, IndexStats, IngestReport, SourceStats

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

logger = logging.getLogger(__name__)

ANSWER_CHUNKS = 3
_PRONOUN_RE = re.compile(r"\b(this one|that one|its|it|this|that|them|they)\b", re.IGNORECASE)
"""Chunks the answer may quote from (and whose best confidence is the answer's)."""


class KnowledgeBase:
    """Ingest the company's documents and answer questions from them with sources."""

    def __init__(
        self,
        settings: KnowledgeSettings,
        *,
        client: ClientAPI | None = None,
        embeddings: VectorEncoder | None = None,
        catalog: Catalog | None = None,
        llm: LLMAnswerer | None = None,
        progress: bool | None = None,
    ) -> None:
        self.settings = settings
        self._client = client
        self._encoder = embeddings
        self._catalog = catalog
        self._llm = llm
        self._llm_configured = llm is not None
        self._progress = progress
        self._store: ChunkStore | None = None
        self._retriever: HybridRetriever | None = None
        self._answerer: ExtractiveAnswerer | None = None
        self._lock = threading.RLock()

    # -- lazily built parts --------------------------------------------------------------
    @property
    def threshold(self) -> float:
        """Confidence below which ``ask`` declines."""
        configured = self.settings.answer_threshold
        return DEFAULT_ANSWER_THRESHOLD if configured is None else configured

    @property
    def encoder(self) -> VectorEncoder:
        """The embedding model (all-MiniLM-L6-v2 unless injected)."""
        with self._lock:
            if self._encoder is None:
                self._encoder = SentenceTransformerEmbeddings()
            return self._encoder

    @property
    def store(self) -> ChunkStore:
        """The chroma collection."""
        with self._lock:
            if self._store is None:
                own = self._client is None and not self.settings.chroma_host
                client = self._client or make_client(self.settings)
                self._store = ChunkStore(
                    client,
                    self.settings.collection,
                    self.encoder,
                    reopen=(lambda: make_client(self.settings)) if own else None,
                )
            return self._store

    @property
    def catalog(self) -> Catalog | None:
        """The product catalog, if the content has a valid one (for product mentions)."""
        with self._lock:
            if self._catalog is None:
                path = self.settings.catalog_path
                if path.exists():
                    try:
                        self._catalog = Catalog.load(path)
                    except CatalogError as error:
                        logger.warning("kb.catalog.invalid error=%s", error)
            return self._catalog

    @property
    def retriever(self) -> HybridRetriever:
        """The hybrid retriever over the store."""
        with self._lock:
            if self._retriever is None:
                catalog = self.catalog
                matcher = catalog.matcher if catalog is not None and len(catalog) else None
                self._retriever = HybridRetriever(self.store, self.encoder, matcher)
            return self._retriever

    @property
    def answerer(self) -> ExtractiveAnswerer:
        """The extractive answerer."""
        with self._lock:
            if self._answerer is None:
                self._answerer = ExtractiveAnswerer(self.encoder)
            return self._answerer

    @property
    def llm(self) -> LLMAnswerer | None:
        """The chat model, when ``CONCIERGE_LLM_BASE_URL`` is set."""
        with self._lock:
            if not self._llm_configured:
                company = self.settings.company_name or (
                    self.catalog.company if self.catalog is not None else ""
                )
                self._llm = LLMAnswerer.from_settings(self.settings, company=company)
                self._llm_configured = True
            return self._llm

    def indexer(self) -> Indexer:
        """Return an indexer writing to this knowledge base's store."""
        return Indexer(self.store, self.encoder, self.settings.content_dir, progress=self._progress)

    # -- public API ----------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the model, BM25 and spaCy now so the first question is fast."""
        started = time.perf_counter()
        self.retriever.warm_up()
        self.answerer.answer("warm up", [])
        logger.info("kb.warm_up.done seconds=%.2f", time.perf_counter() - started)

    def ingest(self, paths: list[Path] | None = None) -> IngestReport:
        """Index files or folders (default: the content folder); only changes are embedded."""
        report = self.indexer().ingest(paths)
        self._after_write()
        return report

    def remove(self, source: str) -> int:
        """Remove a source (file or folder) from the index; return the chunks removed."""
        removed = self.indexer().remove(source)
        self._after_write()
        return removed

    def stats(self) -> IndexStats:
        """Documents, chunks per source and the last indexing time."""
        per_source: dict[str, list[str]] = {}
        titles: dict[str, str] = {}
        total = 0
        for chunk in self.store.iter_chunks(include_documents=False):
            total += 1
            source = str(chunk.metadata.get("source", ""))
            per_source.setdefault(source, []).append(str(chunk.metadata.get("indexed_at", "")))
            titles.setdefault(source, str(chunk.metadata.get("title", "")))
        sources = [
            SourceStats(source, titles[source], len(stamps), max(stamps))
            for source, stamps in sorted(per_source.items())
        ]
        last = max((s.indexed_at for s in sources), default="") or None
        return IndexStats(len(sources), total, sources, last, self.settings.collection)

    def retrieve(self, question: str, k: int = 5, product_id: str | None = None) -> list[Chunk]:
        """Return the ``k`` most relevant chunks (scoped to a product if given)."""
        return self.retriever.retrieve(question, k, product_id=product_id)

    def ask(self, question: str, *, product_id: str | None = None, k: int = 5) -> Answer:
        """Answer from the documents with sources, or decline (``text`` None) when unsure.

        ``product_id`` names the product a follow-up refers to ("how much is it?"): the
        pronoun is replaced by the product's name ("how much is the Kestrel Home 200?") and
        that product's chunks are boosted, but the whole knowledge base is searched, so "can
        I return it?" still finds the returns policy. Answer sentences are chosen for what is
        asked about the product as much as for the product. ``k`` is how many chunks the
        answer carries for display. (``retrieve(product_id=...)`` is a strict filter.)
        """
        started = time.perf_counter()
        question = " ".join(question.split())
        if not question:
            return Answer(question=question, text=None, confidence=0.0)
        query = self._with_product_name(question, product_id)
        # What is asked about a product is embedded in the same call as the query: one
        # forward pass for both costs little more than one (the action server's hot path).
        aspect = question if query != question else self._aspect(question)
        vectors = self.encoder.encode([query] if aspect == query else [query, aspect])
        vector = vectors[0]
        aspect_vector = vectors[1] if len(vectors) > 1 else None
        k = max(k, ANSWER_CHUNKS)
        boost = [product_id] if product_id else []
        candidates = self.retriever.search(query, k, boost_products=boost, query_vector=vector)
        chunks = [c.to_chunk() for c in candidates]
        confidence = _confidence(candidates)
        answer = Answer(question=question, text=None, confidence=confidence, chunks=chunks)
        if confidence >= self.threshold:
            composed = self._compose(query, chunks, vector, confidence, aspect_vector)
            answer = replace(composed, question=question)
        logger.info(
            "kb.ask.done answered=%s confidence=%.3f generated=%s ms=%.0f",
            answer.answered, confidence, answer.generated, 1000 * (time.perf_counter() - started),
        )  # fmt: skip
        return answer

    # -- helpers -------------------------------------------------------------------------
    def _with_product_name(self, question: str, product_id: str | None) -> str:
        """Name the product a follow-up refers to: "how much is it?" -> "how much is the X?"."""
        catalog = self.catalog if product_id else None
        product = catalog.get(product_id) if catalog is not None and product_id else None
        if product is None or product.name.lower() in question.lower():
            return question
        named, count = _PRONOUN_RE.subn(
            lambda m: (
                f"the {product.name}'s" if m.group(0).lower() == "its" else f"the {product.name}"
            ),
            question,
            count=1,
        )
        return named if count else f"{question} ({product.name})"

    def _aspect(self, question: str) -> str:
        """Return what is asked about a product: the question without its product names.

        "can I return the Kestrel Home 200?" -> "can I return the ?": retrieval already used
        the name; answer sentences are then chosen for the returning, not for the name.
        """
        matcher = self.retriever.matcher
        mentions = matcher.mentions(question) if matcher is not None else []
        aspect = question
        for mention in sorted(mentions, key=lambda m: -m.start):
            aspect = aspect[: mention.start] + aspect[mention.end :]
        aspect = " ".join(aspect.split())
        return aspect if aspect and aspect != question else question

    def _compose(
        self,
        question: str,
        chunks: list[Chunk],
        vector: Matrix,
        confidence: float,
        aspect_vector: Matrix | None = None,
    ) -> Answer:
        """Write the answer from the confident chunks: the LLM if configured, else extractive."""
        usable = [c for c in chunks[:ANSWER_CHUNKS] if c.confidence >= self.threshold] or chunks[:1]
        llm = self.llm
        if llm is not None:
            try:
                generated = llm.answer(question, usable)
            except LLMError as error:
                logger.warning("kb.llm.failed error=%s", error)
            else:
                if generated.text is None:
                    return Answer(question, None, confidence, [], chunks, generated=True)
                cited = [usable[i] for i in generated.cited] or usable[:1]
                return Answer(
                    question,
                    generated.text,
                    confidence,
                    dedupe_sources(cited),
                    chunks,
                    generated=True,
                )
        if aspect_vector is not None:
            # Half the question as asked, half what is asked about the product.
            blend = vector + aspect_vector
            vector = blend / max(float(np.linalg.norm(blend)), 1e-9)
        extracted = self.answerer.answer(question, usable, vector)
        if extracted is None:
            return Answer(question, None, confidence, [], chunks)
        text, quoted = extracted
        return Answer(question, text, confidence, dedupe_sources(quoted), chunks)

    def _after_write(self) -> None:
        if self._retriever is not None:
            self._retriever.invalidate()


def _confidence(candidates: list[Candidate]) -> float:
    """Return the answer's confidence: the best chunk confidence among the top chunks."""
    return max((c.confidence for c in candidates[:ANSWER_CHUNKS]), default=0.0)


@lru_cache(maxsize=4)
def get_knowledge_base(settings: KnowledgeSettings) -> KnowledgeBase:
    """Return the process-wide knowledge base for ``settings`` (cached; ``cache_clear()``)."""
    return KnowledgeBase(settings)
