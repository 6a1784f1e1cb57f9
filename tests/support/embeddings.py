"""Deterministic embeddings for tests: no model, same vectors every run."""

from __future__ import annotations

import numpy as np

from knowledge.embeddings import Matrix, VectorEncoder
from knowledge.text import sha256_hex, tokenize


class HashingEmbeddings(VectorEncoder):
    """Deterministic bag-of-words vectors from token hashes (tests; no model needed).

    Texts sharing words get similar vectors, which is enough to exercise retrieval logic.
    """

    def __init__(self, dimension: int = 256) -> None:
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        return self._dimension

    def encode(self, texts: list[str]) -> Matrix:
        """Embed texts as normalised hashed token counts."""
        matrix = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text) or ["empty"]:
                matrix[row, int(sha256_hex(token, 8), 16) % self._dimension] += 1.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        normalised: Matrix = matrix / np.maximum(norms, 1e-12)
        return normalised


class CountingEmbeddings(HashingEmbeddings):
    """Hashing embeddings that count the texts they embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def encode(self, texts: list[str]) -> Matrix:
        """Embed and count."""
        self.embedded += len(texts)
        return super().encode(texts)
