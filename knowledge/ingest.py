"""Incremental ingestion: find files, load, split, embed what is new, write, report.

A file whose bytes hash to the value recorded in the index is not read again. A changed file
has its chunks replaced; chunk texts that did not change keep their stored vectors (only new
text is embedded). Files that disappeared from an ingested folder leave the index. A file
that cannot be read is reported with the reason and skipped; the run goes on.
"""

from __future__ import annotations

import fnmatch
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.embeddings import VectorEncoder
from knowledge.loaders import LoadedDocument, LoaderError, is_supported, load
from knowledge.splitting import ChunkDraft, split_document
from knowledge.store import ChunkStore, Metadata, SourceEntry, now_iso
from knowledge.text import sha256_hex
from knowledge.types import IngestReport

logger = logging.getLogger(__name__)

DEFAULT_IGNORE = (".*", "_*", "README.md", "README.txt", "README", "LICENSE*")
"""File and folder names never ingested from a folder (hidden files, READMEs about the folder)."""
PIPELINE_VERSION = "2"
"""Part of every file hash: bump it when loading or splitting changes, so the next ingest
re-reads every file (unchanged chunk texts still keep their vectors)."""
EMBED_BATCH = 512
"""Chunks embedded and written per step; chroma writes overlap the next batch's embedding."""
PROGRESS_MIN_CHUNKS = 2000
"""Show a progress bar without a terminal only for runs at least this long."""


def source_name(path: Path, root: Path) -> str:
    """Path relative to the content root (POSIX), or the absolute path for files outside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def source_path(source: str, root: Path) -> Path:
    """Inverse of ``source_name``: where the file of a source lives."""
    path = Path(source)
    return path if path.is_absolute() else root / path


def _ignored(path: Path, base: Path, patterns: Sequence[str]) -> bool:
    parts = path.relative_to(base).parts
    return any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in patterns)


@dataclass
class _Pending:
    """Chunks to write: new vectors to compute, vectors to reuse, metadata to refresh."""

    embed: list[tuple[ChunkDraft, Metadata]] = field(default_factory=list)
    reuse: list[tuple[ChunkDraft, Metadata, str]] = field(default_factory=list)
    refresh: list[tuple[str, Metadata]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)


class Indexer:
    """Keeps a ``ChunkStore`` in step with the files under a content root."""

    def __init__(
        self,
        store: ChunkStore,
        encoder: VectorEncoder,
        content_root: Path,
        *,
        ignore: Sequence[str] = DEFAULT_IGNORE,
        progress: bool | None = None,
        batch_size: int = EMBED_BATCH,
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.content_root = Path(content_root)
        self.ignore = tuple(ignore)
        self.progress = progress
        self.batch_size = batch_size

    # -- public --------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path] | None = None) -> IngestReport:
        """Index files and folders (default: the content root); see the module docstring.

        Raises ``FileNotFoundError`` before changing anything if a path does not exist.
        """
        started = time.perf_counter()
        roots = [Path(p) for p in (paths or [self.content_root])]
        missing = [str(p) for p in roots if not p.exists()]
        if missing:
            raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
        files, skipped = self._discover(roots)
        manifest = self.store.manifest()
        pending = _Pending()
        added = updated = unchanged = 0
        seen_sources: set[str] = set()
        for path in files:
            source = source_name(path, self.content_root)
            seen_sources.add(source)
            try:
                data = path.read_bytes()
            except OSError as error:
                skipped.append((str(path), f"cannot read file: {error.strerror or error}"))
                continue
            file_hash = sha256_hex(PIPELINE_VERSION.encode() + b"\x00" + data)
            entry = manifest.get(source)
            if entry is not None and entry.file_hash == file_hash:
                unchanged += 1
                continue
            try:
                document = load(path)
            except LoaderError as error:
                skipped.append((str(path), str(error)))
                logger.warning("kb.ingest.skipped file=%s reason=%s", path, error)
                continue
            count = self._plan(source, document, file_hash, entry, pending)
            if entry is None:
                added += count
            else:
                updated += count
        removed_sources = self._vanished_sources(roots, manifest, seen_sources)
        for source in removed_sources:
            pending.delete.extend(manifest[source].chunk_ids)
        embedded = self._write(pending)
        report = IngestReport(
            files=len(files),
            chunks_added=added,
            chunks_updated=updated,
            chunks_removed=len(pending.delete),
            files_skipped=skipped,
            seconds=round(time.perf_counter() - started, 3),
            files_unchanged=unchanged,
            files_removed=len(removed_sources),
            chunks_embedded=embedded,
        )
        logger.info(
            "kb.ingest.done files=%d added=%d updated=%d removed=%d embedded=%d skipped=%d",
            report.files, added, updated, report.chunks_removed, embedded, len(skipped),
        )  # fmt: skip
        return report

    def index_documents(self, documents: Iterable[tuple[str, LoadedDocument]]) -> IngestReport:
        """Index already-loaded documents under the given source names (no files needed).

        The content hash of each document stands in for the file hash, so re-indexing the
        same document is free.
        """
        started = time.perf_counter()
        manifest = self.store.manifest()
        pending = _Pending()
        added = updated = unchanged = files = 0
        for source, document in documents:
            files += 1
            drafts = split_document(document, source)
            doc_hash = sha256_hex(PIPELINE_VERSION + "\x00" + "\x1e".join(d.text for d in drafts))
            entry = manifest.get(source)
            if entry is not None and entry.file_hash == doc_hash:
                unchanged += 1
                continue
            count = self._plan(source, document, doc_hash, entry, pending, drafts)
            if entry is None:
                added += count
            else:
                updated += count
        embedded = self._write(pending)
        return IngestReport(
            files=files,
            chunks_added=added,
            chunks_updated=updated,
            chunks_removed=len(pending.delete),
            files_skipped=[],
            seconds=round(time.perf_counter() - started, 3),
            files_unchanged=unchanged,
            chunks_embedded=embedded,
        )

    def remove(self, source: str) -> int:
        """Remove a source (or every source under a folder) from the index; return chunks removed.

        ``source`` may be the source name as listed by ``stats()`` or a path to the file.
        """
        manifest = self.store.manifest()
        wanted = {source.strip().rstrip("/")}
        path = Path(source)
        if path.exists() or path.is_absolute():
            wanted.add(source_name(path, self.content_root))
        ids: list[str] = []
        for name, entry in manifest.items():
            if any(name == w or name.startswith(w + "/") for w in wanted if w):
                ids.extend(entry.chunk_ids)
        if ids:
            self.store.delete(ids)
            self.store.bump_revision()
        logger.info("kb.remove.done source=%s chunks=%d", source, len(ids))
        return len(ids)

    # -- steps ---------------------------------------------------------------------------
    def _discover(self, roots: Sequence[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
        files: list[Path] = []
        skipped: list[tuple[str, str]] = []
        for root in roots:
            if root.is_file():
                if is_supported(root):
                    files.append(root)
                else:
                    skipped.append((str(root), f"unsupported file type {root.suffix or '(none)'}"))
                continue
            for path in sorted(root.rglob("*")):
                if not path.is_file() or _ignored(path, root, self.ignore):
                    continue
                if is_supported(path):
                    files.append(path)
                else:
                    logger.debug("kb.ingest.unsupported file=%s", path)
        unique = list(dict.fromkeys(p.resolve() for p in files))
        return unique, skipped

    def _vanished_sources(
        self, roots: Sequence[Path], manifest: dict[str, SourceEntry], seen: set[str]
    ) -> list[str]:
        """Return the sources under an ingested folder whose file is gone or now ignored."""
        folders = [r.resolve() for r in roots if r.is_dir()]
        vanished = []
        for source in manifest:
            if source in seen or not source:
                continue
            path = source_path(source, self.content_root).resolve()
            if any(path.is_relative_to(folder) for folder in folders):
                vanished.append(source)
        return vanished

    def _plan(
        self,
        source: str,
        document: LoadedDocument,
        file_hash: str,
        entry: SourceEntry | None,
        pending: _Pending,
        drafts: list[ChunkDraft] | None = None,
    ) -> int:
        """Queue the writes that make the index hold ``document``; return chunks written."""
        drafts = drafts if drafts is not None else split_document(document, source)
        old_ids = set(entry.chunk_ids) if entry else set()
        old_by_hash = {h: i for i, h in (entry.content_hashes.items() if entry else [])}
        indexed_at = now_iso()
        written = 0
        for draft in drafts:
            metadata = {**draft.metadata, "file_hash": file_hash, "indexed_at": indexed_at}
            if draft.id in old_ids:
                pending.refresh.append((draft.id, metadata))
                continue
            written += 1
            reuse_id = old_by_hash.get(str(draft.metadata["content_hash"]))
            if reuse_id is not None:
                pending.reuse.append((draft, metadata, reuse_id))
            else:
                pending.embed.append((draft, metadata))
        new_ids = {d.id for d in drafts}
        pending.delete.extend(sorted(old_ids - new_ids))
        return written

    def _write(self, pending: _Pending) -> int:
        """Apply the queued writes; embed new texts in large batches; return texts embedded."""
        changed = bool(pending.embed or pending.reuse or pending.delete)
        if pending.reuse:
            vectors = self.store.vectors([old for _, _, old in pending.reuse])
            reusable = [(d, m, vectors[o]) for d, m, o in pending.reuse if o in vectors]
            pending.embed.extend((d, m) for d, m, o in pending.reuse if o not in vectors)
            if reusable:
                self.store.upsert(
                    [d.id for d, _, _ in reusable],
                    [d.text for d, _, _ in reusable],
                    [m for _, m, _ in reusable],
                    np.stack([v for _, _, v in reusable]),
                )
        if pending.refresh:
            self.store.update_metadata(
                [i for i, _ in pending.refresh], [m for _, m in pending.refresh]
            )
        embedded = self._embed_and_upsert(pending.embed)
        if pending.delete:
            self.store.delete(pending.delete)
        if changed:
            self.store.bump_revision()
        return embedded

    def _embed_and_upsert(self, items: list[tuple[ChunkDraft, Metadata]]) -> int:
        """Embed in length-sorted batches; write each batch while the next one is embedded."""
        if not items:
            return 0
        items = sorted(items, key=lambda item: len(item[0].text))
        bar = self._progress_bar(len(items))
        writes: Future[None] | None = None
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-write") as pool:
                for start in range(0, len(items), self.batch_size):
                    batch = items[start : start + self.batch_size]
                    vectors = self.encoder.encode([draft.text for draft, _ in batch])
                    if writes is not None:
                        writes.result()
                    writes = pool.submit(
                        self.store.upsert,
                        [d.id for d, _ in batch],
                        [d.text for d, _ in batch],
                        [m for _, m in batch],
                        vectors,
                    )
                    if bar is not None:
                        bar.update(len(batch))
                if writes is not None:
                    writes.result()
        finally:
            if bar is not None:
                bar.close()
        return len(items)

    def _progress_bar(self, total: int) -> Any:
        show = self.progress
        if show is None:
            show = sys.stderr.isatty() or total >= PROGRESS_MIN_CHUNKS
        if not show:
            return None
        from tqdm import tqdm

        return tqdm(
            total=total,
            desc="Embedding chunks",
            unit="chunk",
            file=sys.stderr,
            mininterval=0.5 if sys.stderr.isatty() else 10.0,
        )
