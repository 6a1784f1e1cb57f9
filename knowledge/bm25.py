"""BM25 over every chunk: rank_bm25's Okapi statistics, scored through a sparse matrix.

``rank_bm25.BM25Okapi`` computes the term statistics (idf with its epsilon floor, document
lengths); its ``get_scores`` loops over every document in Python for every query term, which
costs ~50 ms at 100,000 chunks. The same Okapi weights are precomputed once into a CSC matrix,
so a query sums a few sparse columns (well under a millisecond at 10,000 chunks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from knowledge.text import tokenize

Vector = np.ndarray[Any, np.dtype[np.float64]]


class BM25Index:
    """Okapi BM25 (k1=1.5, b=0.75) over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        from rank_bm25 import BM25Okapi

        self.size = len(texts)
        tokenized = [tokenize(text) for text in texts]
        self.vocabulary: dict[str, int] = {}
        self.idf: dict[str, float] = {}
        self._matrix: sparse.csc_matrix[Any] | None = None
        self._oov_idf = 1.0
        self._doc_terms: list[frozenset[str]] = [frozenset(tokens) for tokens in tokenized]
        if not self.size:
            return
        # rank_bm25 divides by the corpus size and average length: give it non-empty docs.
        okapi = BM25Okapi([tokens or ["\x00"] for tokens in tokenized], k1=k1, b=b)
        self.idf = {term: float(value) for term, value in okapi.idf.items() if term != "\x00"}
        self.vocabulary = {term: i for i, term in enumerate(sorted(self.idf))}
        doc_len = np.asarray(okapi.doc_len, dtype=np.float64)
        norm = k1 * (1.0 - b + b * doc_len / okapi.avgdl)
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for row, freqs in enumerate(okapi.doc_freqs):
            for term, tf in freqs.items():
                col = self.vocabulary.get(term)
                if col is None:
                    continue
                rows.append(row)
                cols.append(col)
                values.append(self.idf[term] * tf * (k1 + 1.0) / (tf + norm[row]))
        self._matrix = sparse.csc_matrix(
            (np.asarray(values), (np.asarray(rows), np.asarray(cols))),
            shape=(self.size, len(self.vocabulary)),
        )
        self._oov_idf = math.log((self.size + 0.5) / 0.5)

    def scores(self, query: str | Sequence[str]) -> Vector:
        """BM25 score of every text for ``query`` (text or tokens)."""
        tokens = tokenize(query) if isinstance(query, str) else list(query)
        columns = [self.vocabulary[t] for t in dict.fromkeys(tokens) if t in self.vocabulary]
        if self._matrix is None or not columns:
            return np.zeros(self.size)
        # Repeated query terms count once: questions rarely repeat words on purpose.
        return np.asarray(self._matrix[:, columns].sum(axis=1)).ravel()

    def novelty(self, query: str | Sequence[str]) -> float:
        """Share of the query's idf weight in words the corpus never uses (0..1)."""
        tokens = list(dict.fromkeys(tokenize(query) if isinstance(query, str) else query))
        if not tokens or not self.size:
            return 1.0 if tokens else 0.0
        weights = [self.idf.get(t, self._oov_idf) for t in tokens]
        total = sum(max(w, 1e-6) for w in weights)
        pairs = zip(tokens, weights, strict=True)
        unknown = sum(max(w, 1e-6) for t, w in pairs if t not in self.idf)
        return unknown / total

    def coverage(self, query: str | Sequence[str], row: int) -> float:
        """Share of the query's idf weight found in text ``row`` (0..1, comparable across queries).

        Query words the corpus never uses weigh as much as the rarest possible word, so a
        question about things the documents never mention scores low.
        """
        tokens = list(dict.fromkeys(tokenize(query) if isinstance(query, str) else query))
        if not tokens or not (0 <= row < self.size):
            return 0.0
        weights = [self.idf.get(t, self._oov_idf) for t in tokens]
        total = sum(max(w, 1e-6) for w in weights)
        present = self._doc_terms[row]
        found = sum(max(w, 1e-6) for t, w in zip(tokens, weights, strict=True) if t in present)
        return found / total if total else 0.0
