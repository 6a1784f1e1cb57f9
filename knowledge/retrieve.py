"""Hybrid retrieval: dense (chroma) + BM25, fused, with product mentions boosting their chunks.

For each question:

1. Candidates: the top ``candidates`` chunks by dense cosine similarity (chroma, through
   langchain-chroma) and the top ``candidates`` by BM25 (``knowledge.bm25``), each honouring
   the optional product scope or metadata filter.
2. Every candidate gets both signals (vectors of BM25-only candidates are read from chroma).
3. Fusion (default ``"weighted"``): ``dense_weight * cosine + (1 - dense_weight) * bm25 /
   max_bm25`` -- a convex combination of score-normalised retrievers, which measured better
   than reciprocal rank fusion on ePQA (``"rrf"`` is available for comparison).
4. Products the question names (spaCy ``EntityRuler`` over catalog names and aliases) add
   ``entity_boost`` to their own chunks; other products' chunks lose as much (a question
   about the Barista Pro is rarely answered by another product's page).
5. ``product_id`` / ``where`` restrict both retrievers; scopes of up to 500 chunks are
   searched exactly (stored vectors, numpy) instead of by chroma's filtered query.
6. Each chunk also gets a calibrated ``confidence`` (``knowledge.confidence``), comparable
   across questions.

The BM25 index is built from the store and rebuilt when the store's revision changes (checked
at most every ``refresh_seconds``, immediately after ``invalidate()``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from knowledge.bm25 import BM25Index
from knowledge.confidence import DEFAULT_MODEL, ConfidenceModel
from knowledge.embeddings import Matrix, VectorEncoder
from knowledge.store import ChunkStore, StoredChunk
from knowledge.text import tokenize
from knowledge.types import Chunk

if TYPE_CHECKING:
    from knowledge.entities import ProductMatcher

logger = logging.getLogger(__name__)

Fusion = Literal["weighted", "rrf"]
Mode = Literal["hybrid", "dense", "bm25"]
DEFAULT_DENSE_WEIGHT = 0.7
DEFAULT_CANDIDATES = 30
DEFAULT_ENTITY_BOOST = 0.15
DEFAULT_HEADING_WEIGHT = 0.5
DEFAULT_HEADING_CANDIDATES = 10
BM25Scale = Literal["max", "coverage"]
DEFAULT_BM25_SCALE: BM25Scale = "coverage"
EXACT_SCOPE_LIMIT = 500
"""Scopes up to this many chunks are searched exactly from their stored vectors."""
RRF_K = 60


@dataclass(frozen=True)
class Candidate:
    """A chunk with every signal retrieval computed for it."""

    chunk: StoredChunk
    cosine: float
    heading_cosine: float
    bm25: float
    bm25_norm: float
    coverage: float
    novelty: float
    product_match: bool
    fused: float
    confidence: float

    def to_chunk(self) -> Chunk:
        """Return the public ``Chunk`` (score = fused score clipped to 0..1)."""
        meta = self.chunk.metadata
        return Chunk(
            id=self.chunk.id,
            text=self.chunk.text,
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            location=str(meta.get("location", meta.get("source", ""))),
            score=float(min(1.0, max(0.0, self.fused))),
            faq_id=_opt(meta.get("faq_id")),
            product_id=_opt(meta.get("product_id")),
            heading=_opt(meta.get("heading")),
            confidence=round(self.confidence, 4),
        )


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass
class _Corpus:
    """The in-memory view of the store that BM25 and filters need."""

    revision: str
    ids: list[str]
    chunks: list[StoredChunk]
    bm25: BM25Index
    row_of: dict[str, int]
    rows_by_product: dict[str, np.ndarray[Any, np.dtype[np.intp]]]
    heading_of_row: np.ndarray[Any, np.dtype[np.intp]]
    heading_vectors: Matrix


class HybridRetriever:
    """Dense + BM25 retrieval over a ``ChunkStore`` with calibrated confidence."""

    def __init__(
        self,
        store: ChunkStore,
        encoder: VectorEncoder,
        matcher: ProductMatcher | None = None,
        *,
        fusion: Fusion = "weighted",
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
        candidates: int = DEFAULT_CANDIDATES,
        entity_boost: float = DEFAULT_ENTITY_BOOST,
        confidence_model: ConfidenceModel = DEFAULT_MODEL,
        refresh_seconds: float = 5.0,
        heading_weight: float = DEFAULT_HEADING_WEIGHT,
        heading_candidates: int = DEFAULT_HEADING_CANDIDATES,
        bm25_scale: BM25Scale = DEFAULT_BM25_SCALE,
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.matcher = matcher
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.candidates = candidates
        self.entity_boost = entity_boost
        self.confidence_model = confidence_model
        self.refresh_seconds = refresh_seconds
        self.heading_weight = heading_weight
        self.heading_candidates = heading_candidates
        self.bm25_scale = bm25_scale
        self._corpus: _Corpus | None = None
        self._heading_cache: dict[str, Matrix] = {}
        self._checked_at = 0.0
        self._lock = threading.RLock()

    # -- index freshness -----------------------------------------------------------------
    def invalidate(self) -> None:
        """Check the store's revision on the next search (call after writing to the store)."""
        self._checked_at = 0.0

    def corpus(self) -> _Corpus:
        """Return the current BM25 view, rebuilt when the store changed."""
        with self._lock:
            now = time.monotonic()
            if self._corpus is not None and now - self._checked_at < self.refresh_seconds:
                return self._corpus
            revision = self.store.revision()
            self._checked_at = now
            if self._corpus is None or self._corpus.revision != revision:
                if self._corpus is not None and not self.store.written_here(revision):
                    self.store.refresh()  # another process wrote: reload the vector index
                self._corpus = self._build(revision)
            return self._corpus

    def _build(self, revision: str) -> _Corpus:
        started = time.perf_counter()
        chunks = list(self.store.iter_chunks())
        ids = [c.id for c in chunks]
        by_product: dict[str, list[int]] = {}
        for row, chunk in enumerate(chunks):
            product = chunk.metadata.get("product_id")
            if product:
                by_product.setdefault(str(product), []).append(row)
        headings = [str(c.metadata.get("heading") or c.metadata.get("title") or "") for c in chunks]
        distinct = list(dict.fromkeys(headings))
        position = {heading: i for i, heading in enumerate(distinct)}
        corpus = _Corpus(
            revision=revision,
            ids=ids,
            chunks=chunks,
            bm25=BM25Index([c.text for c in chunks]),
            row_of={chunk_id: row for row, chunk_id in enumerate(ids)},
            rows_by_product={p: np.asarray(r, dtype=np.intp) for p, r in by_product.items()},
            heading_of_row=np.asarray([position[h] for h in headings], dtype=np.intp),
            heading_vectors=self._heading_vectors(distinct),
        )
        logger.info(
            "kb.retrieve.bm25_built chunks=%d seconds=%.2f", len(ids), time.perf_counter() - started
        )
        return corpus

    def _heading_vectors(self, headings: list[str]) -> Matrix:
        """Embed distinct headings, reusing vectors from earlier builds."""
        missing = [h for h in headings if h not in self._heading_cache]
        for start in range(0, len(missing), 1024):
            batch = missing[start : start + 1024]
            self._heading_cache.update(zip(batch, self.encoder.encode(batch), strict=True))
        if not headings:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._heading_cache[h] for h in headings])

    def warm_up(self) -> None:
        """Load the model, BM25 and the entity matcher now, not on the first question."""
        self.encoder.encode(["warm up"])
        self.corpus()
        if self.matcher is not None:
            self.matcher.mentions("warm up")

    # -- search --------------------------------------------------------------------------
    def retrieve(
        self,
        question: str,
        k: int = 5,
        *,
        product_id: str | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> list[Chunk]:
        """Return the ``k`` best chunks for ``question`` (optionally scoped to a product)."""
        return [c.to_chunk() for c in self.search(question, k, product_id=product_id, where=where)]

    def search(
        self,
        question: str,
        k: int = 5,
        *,
        product_id: str | None = None,
        where: Mapping[str, Any] | None = None,
        boost_products: Sequence[str] = (),
        mode: Mode = "hybrid",
        query_vector: np.ndarray[Any, np.dtype[np.float32]] | None = None,
    ) -> list[Candidate]:
        """Return the ``k`` best candidates with all their signals.

        ``product_id`` restricts the search to that product's chunks; ``where`` is a flat
        metadata equality filter (``{"source": "faq.csv"}``); ``boost_products`` adds products
        to those the question mentions; ``mode`` selects one retriever alone (benchmarks).
        """
        corpus = self.corpus()
        if not corpus.ids or not question.strip():
            return []
        conditions = dict(where or {})
        if product_id:
            conditions["product_id"] = product_id
        allowed = self._allowed_rows(corpus, conditions)
        if allowed is not None and allowed.size == 0:
            return []
        pool = max(k, self.candidates)
        vector = query_vector if query_vector is not None else self.encoder.encode([question])[0]

        cosines: dict[str, float] = {}
        found: dict[str, StoredChunk] = {}
        dense_order: list[str] = []
        if mode != "bm25" and allowed is not None and allowed.size <= EXACT_SCOPE_LIMIT:
            # A small scope (one product's chunks): exact cosine over its stored vectors is
            # faster than chroma's filtered search, which scans the metadata of every chunk.
            scope_ids = [corpus.ids[int(row)] for row in allowed]
            scope_vectors = self.store.vectors(scope_ids)
            exact = {i: float(np.dot(v, vector)) for i, v in scope_vectors.items()}
            dense_order = sorted(exact, key=lambda i: -exact[i])[:pool]
            cosines.update(exact)
        elif mode != "bm25":
            n = min(pool, corpus.bm25.size if allowed is None else int(allowed.size))
            for hit in self.store.search(vector.tolist(), n, _chroma_where(conditions)):
                cosines[hit.id] = hit.similarity
                found[hit.id] = hit
                dense_order.append(hit.id)

        heading_scores = (corpus.heading_vectors @ vector)[corpus.heading_of_row]
        heading_order: list[str] = []
        if mode == "hybrid" and self.heading_weight > 0 and self.heading_candidates > 0:
            heading_order = _top_ids(corpus, heading_scores, allowed, self.heading_candidates)

        scores = corpus.bm25.scores(question)
        if allowed is not None:
            masked = np.full(corpus.bm25.size, -1.0)
            masked[allowed] = scores[allowed]
            scores = masked
        top_bm25 = float(scores.max()) if scores.size else 0.0
        bm25_order: list[str] = []
        if mode != "dense" and top_bm25 > 0:
            bm25_order = _top_ids(corpus, scores, None, pool, positive_only=True)
        tokens = tokenize(question)
        # How much of the question the best lexical match covers: scaling by it keeps a weak
        # best match (a paraphrase sharing one common word) from counting as a perfect one.
        bm25_ceiling = 1.0
        if self.bm25_scale == "coverage" and bm25_order:
            bm25_ceiling = corpus.bm25.coverage(tokens, corpus.row_of[bm25_order[0]])

        missing = [i for i in dict.fromkeys([*bm25_order, *heading_order]) if i not in cosines]
        if missing:
            vectors = self.store.vectors(missing)
            for chunk_id in missing:
                stored = vectors.get(chunk_id)
                cosines[chunk_id] = float(np.dot(stored, vector)) if stored is not None else 0.0
        mentioned = set(boost_products)
        if self.matcher is not None and not product_id:
            mentioned.update(self.matcher.product_ids(question))

        novelty = corpus.bm25.novelty(tokens)
        dense_rank = {chunk_id: r for r, chunk_id in enumerate(dense_order)}
        bm25_rank = {chunk_id: r for r, chunk_id in enumerate(bm25_order)}
        results: list[Candidate] = []
        for chunk_id in dict.fromkeys([*dense_order, *bm25_order, *heading_order]):
            row = corpus.row_of.get(chunk_id)
            if row is None:  # written after our BM25 snapshot; next refresh picks it up
                continue
            chunk = found.get(chunk_id) or corpus.chunks[row]
            bm25 = max(0.0, float(scores[row]))
            bm25_norm = bm25_ceiling * bm25 / top_bm25 if top_bm25 > 0 else 0.0
            cosine = cosines.get(chunk_id, 0.0)
            heading_cosine = float(heading_scores[row])
            product_match = bool(mentioned) and chunk.metadata.get("product_id") in mentioned
            dense = self._dense_signal(cosine, heading_cosine) if mode == "hybrid" else cosine
            fused = self._fuse(
                mode, dense, bm25_norm, dense_rank.get(chunk_id), bm25_rank.get(chunk_id)
            )
            if product_match:
                fused += self.entity_boost
            elif mentioned and chunk.metadata.get("product_id"):
                fused -= self.entity_boost  # another product's page than the one asked about
            coverage = corpus.bm25.coverage(tokens, row)
            results.append(
                Candidate(
                    chunk=chunk,
                    cosine=cosine,
                    heading_cosine=heading_cosine,
                    bm25=bm25,
                    bm25_norm=bm25_norm,
                    coverage=coverage,
                    novelty=novelty,
                    product_match=product_match,
                    fused=fused,
                    confidence=self.confidence_model.score(
                        cosine, coverage, product_match, novelty
                    ),
                )
            )
        results.sort(key=lambda c: -c.fused)
        return results[:k]

    def _dense_signal(self, cosine: float, heading_cosine: float) -> float:
        """Chunk cosine, pulled towards the heading's cosine when the heading matches better."""
        return cosine + self.heading_weight * max(0.0, heading_cosine - cosine)

    def _fuse(
        self,
        mode: Mode,
        cosine: float,
        bm25_norm: float,
        dense_rank: int | None,
        bm25_rank: int | None,
    ) -> float:
        if mode == "dense":
            return cosine
        if mode == "bm25":
            return bm25_norm
        if self.fusion == "rrf":
            total = 0.0
            if dense_rank is not None:
                total += 2 * self.dense_weight / (RRF_K + dense_rank + 1)
            if bm25_rank is not None:
                total += 2 * (1 - self.dense_weight) / (RRF_K + bm25_rank + 1)
            return total * RRF_K / 2  # scale so a double first place is about 1
        return self.dense_weight * max(0.0, cosine) + (1.0 - self.dense_weight) * bm25_norm

    @staticmethod
    def _allowed_rows(
        corpus: _Corpus, conditions: Mapping[str, Any]
    ) -> np.ndarray[Any, np.dtype[np.intp]] | None:
        """Rows matching a flat equality filter (None: no filter)."""
        if not conditions:
            return None
        rows: np.ndarray[Any, np.dtype[np.intp]] | None = None
        rest = dict(conditions)
        if "product_id" in rest:
            rows = corpus.rows_by_product.get(str(rest.pop("product_id")), np.zeros(0, np.intp))
        if rest:
            candidates = range(len(corpus.chunks)) if rows is None else rows.tolist()
            rows = np.asarray(
                [
                    r
                    for r in candidates
                    if all(corpus.chunks[r].metadata.get(k) == v for k, v in rest.items())
                ],
                dtype=np.intp,
            )
        return rows


def _top_ids(
    corpus: _Corpus,
    scores: np.ndarray[Any, Any],
    allowed: np.ndarray[Any, np.dtype[np.intp]] | None,
    n: int,
    positive_only: bool = False,
) -> list[str]:
    """Ids of the ``n`` best-scoring rows (among ``allowed``), best first."""
    rows = np.arange(scores.size) if allowed is None else allowed
    values = scores[rows]
    if positive_only:
        keep = values > 0
        rows, values = rows[keep], values[keep]
    n = min(n, int(rows.size))
    if n <= 0:
        return []
    best = np.argpartition(-values, n - 1)[:n]
    best = best[np.argsort(-values[best], kind="stable")]
    return [corpus.ids[int(rows[i])] for i in best]


def _chroma_where(conditions: Mapping[str, Any]) -> dict[str, Any] | None:
    """Chroma's filter syntax for a flat equality filter."""
    if not conditions:
        return None
    if len(conditions) == 1:
        return dict(conditions)
    return {"$and": [{key: value} for key, value in conditions.items()]}
