"""The chroma collection that holds the chunks, their vectors and the ingestion manifest.

``make_client`` picks ``chromadb.HttpClient`` when ``CHROMA_HOST`` is set and an embedded
``chromadb.PersistentClient`` under ``data_dir/chroma`` otherwise. ``ChunkStore`` wraps the
collection twice: a langchain ``Chroma`` (dense search) and the raw chromadb collection
(batch upserts of vectors we computed ourselves, paging through metadata).

The manifest (file -> content hash -> chunk ids) is derived from the chunks' own metadata
(``source``, ``file_hash``), so it can never disagree with the index, also on a chroma server
shared by several processes. A revision stamp in the collection metadata changes on every
write so retrievers know when to rebuild their BM25 index.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from core.config import KnowledgeSettings
    from knowledge.embeddings import Matrix

logger = logging.getLogger(__name__)

COLLECTION_METADATA = {"hnsw:space": "cosine"}
PAGE_SIZE = 5000
Metadata = dict[str, Any]


class StoreError(RuntimeError):
    """The vector store cannot be reached or used."""


def make_client(settings: KnowledgeSettings) -> ClientAPI:
    """Return a chroma client for ``settings`` (server if ``chroma_host``, else embedded)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def make_ephemeral_client() -> ClientAPI:
    """Return an in-memory chroma client (unit tests, throwaway indexes)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))


def now_iso() -> str:
    """Return the current UTC time in ISO 8601 (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class SourceEntry:
    """What the index holds for one source file."""

    file_hash: str
    chunk_ids: list[str] = field(default_factory=list)
    content_hashes: dict[str, str] = field(default_factory=dict)
    """chunk id -> content hash, to reuse vectors of unchanged text."""
    indexed_at: str = ""


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as stored: id, text and metadata (and a similarity when it comes from a query)."""

    id: str
    text: str
    metadata: Metadata
    similarity: float = 0.0


class ChunkStore:
    """One chroma collection of knowledge chunks."""

    def __init__(
        self,
        client: ClientAPI,
        collection_name: str,
        embeddings: Embeddings,
        reopen: Callable[[], ClientAPI] | None = None,
    ) -> None:
        self.collection_name = collection_name
        self.embeddings = embeddings
        self._reopen = reopen
        self._written_revision: str | None = None
        self._open(client)

    def _open(self, client: ClientAPI) -> None:
        self.client = client
        self._collection = client.get_or_create_collection(
            self.collection_name, metadata=dict(COLLECTION_METADATA), embedding_function=None
        )
        self.vectorstore = Chroma(
            client=client,
            collection_name=self.collection_name,
            embedding_function=self.embeddings,
            collection_metadata=dict(COLLECTION_METADATA),
        )

    def written_here(self, revision: str) -> bool:
        """Whether this store object wrote ``revision`` (its vector index is then current)."""
        return revision == self._written_revision

    def refresh(self) -> None:
        """Reopen an embedded store so vectors written by another process become searchable.

        An embedded chroma keeps its vector index in memory: metadata and texts written by
        another process (``concierge kb ingest`` while the action server runs) are visible,
        new vectors are not until the client is reopened. Servers need nothing.
        """
        if self._reopen is None:
            return
        close = getattr(self.client, "close", None)
        if callable(close):
            close()
        self._open(self._reopen())
        logger.info("kb.store.reopened collection=%s", self.collection_name)

    # -- writing -------------------------------------------------------------------------
    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[Metadata],
        vectors: Matrix | Sequence[Sequence[float]],
    ) -> None:
        """Write chunks with precomputed vectors, in batches the server accepts."""
        step = self._batch_size()
        array = np.asarray(vectors, dtype=np.float32)
        for start in range(0, len(ids), step):
            end = start + step
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=array[start:end],
                documents=list(texts[start:end]),
                metadatas=[_clean(m) for m in metadatas[start:end]],
            )

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Metadata]) -> None:
        """Replace the metadata of existing chunks (vectors and texts stay)."""
        step = self._batch_size()
        for start in range(0, len(ids), step):
            self._collection.update(
                ids=list(ids[start : start + step]),
                metadatas=[_clean(m) for m in metadatas[start : start + step]],
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Delete chunks by id."""
        step = self._batch_size()
        for start in range(0, len(ids), step):
            self._collection.delete(ids=list(ids[start : start + step]))

    def bump_revision(self) -> str:
        """Mark the index as changed (retrievers rebuild BM25 when they see a new revision)."""
        revision = uuid.uuid4().hex
        # The distance function lives in the collection configuration; metadata may not
        # repeat "hnsw:space", so only our own keys are written here.
        self._collection.modify(metadata={"kb_revision": revision, "kb_updated_at": now_iso()})
        self._written_revision = revision
        return revision

    def revision(self) -> str:
        """Return the current revision stamp as stored on the server (a fresh read)."""
        metadata = self.client.get_collection(self.collection_name).metadata or {}
        return str(metadata.get("kb_revision", "initial"))

    # -- reading -------------------------------------------------------------------------
    def count(self) -> int:
        """Return the number of chunks."""
        return int(self._collection.count())

    def iter_chunks(
        self, include_documents: bool = True, where: Mapping[str, Any] | None = None
    ) -> Iterator[StoredChunk]:
        """Yield every chunk (paged), optionally without its text."""
        include: list[Any] = ["metadatas", "documents"] if include_documents else ["metadatas"]
        offset = 0
        while True:
            page = self._collection.get(
                limit=PAGE_SIZE,
                offset=offset,
                include=include,
                where=dict(where) if where else None,
            )
            ids = page["ids"]
            documents = page.get("documents") or [""] * len(ids)
            metadatas = page.get("metadatas") or [{}] * len(ids)
            for chunk_id, text, metadata in zip(ids, documents, metadatas, strict=True):
                yield StoredChunk(chunk_id, text or "", dict(metadata or {}))
            if len(ids) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def manifest(self) -> dict[str, SourceEntry]:
        """Return source -> (file hash, chunk ids) from the chunks' metadata."""
        entries: dict[str, SourceEntry] = {}
        for chunk in self.iter_chunks(include_documents=False):
            source = str(chunk.metadata.get("source", ""))
            entry = entries.get(source)
            if entry is None:
                entry = entries[source] = SourceEntry(str(chunk.metadata.get("file_hash", "")))
            entry.chunk_ids.append(chunk.id)
            entry.content_hashes[chunk.id] = str(chunk.metadata.get("content_hash", ""))
            entry.indexed_at = max(entry.indexed_at, str(chunk.metadata.get("indexed_at", "")))
        return entries

    def vectors(self, ids: Sequence[str]) -> dict[str, Matrix]:
        """Return the stored vectors of these chunk ids."""
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["embeddings"])
        embeddings = got.get("embeddings")
        if embeddings is None:
            return {}
        return {
            chunk_id: np.asarray(vector, dtype=np.float32)
            for chunk_id, vector in zip(got["ids"], embeddings, strict=True)
        }

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """Return chunks by id (missing ids are left out)."""
        if not ids:
            return []
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        documents = got.get("documents") or [""] * len(got["ids"])
        metadatas = got.get("metadatas") or [{}] * len(got["ids"])
        return [
            StoredChunk(i, d or "", dict(m or {}))
            for i, d, m in zip(got["ids"], documents, metadatas, strict=True)
        ]

    def search(
        self, vector: Sequence[float], k: int, where: Mapping[str, Any] | None = None
    ) -> list[StoredChunk]:
        """Dense search through langchain-chroma; ``similarity`` is the cosine similarity."""
        if k <= 0:
            return []
        results = self.vectorstore.similarity_search_by_vector_with_relevance_scores(
            list(map(float, vector)), k=k, filter=dict(where) if where else None
        )
        return [
            StoredChunk(doc.id or "", doc.page_content, dict(doc.metadata), 1.0 - float(distance))
            for doc, distance in results
        ]

    def _batch_size(self) -> int:
        try:
            return max(1, min(int(self.client.get_max_batch_size()), 4096))
        except Exception:  # older servers do not report it
            return 1000


def _clean(metadata: Metadata) -> Metadata:
    """Chroma metadata cannot hold None; drop such keys."""
    return {k: v for k, v in metadata.items() if v is not None}
