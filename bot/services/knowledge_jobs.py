"""Background changes to the knowledge base: uploads, replacements, deletions, re-indexing.

A request from the console checks the files (name, type, size), stages the good ones under
``<data dir>/kb-staging/<job id>/`` and records a ``kb_jobs`` row; nothing is written to the
content folder or the index in the request. The job then runs in the gateway's background
task or in the worker, whichever claims it first (a conditional update from ``queued`` to
``running``, so it runs once), holding the content folder's lock (a file lock, so two
processes never write the same folder at once). Each staged file is loaded first: a file the
loaders refuse is reported by name with the reason and never reaches the content folder; the
others are copied in and indexed one by one, and the row's ``files``, ``done`` and ``total``
show the progress. The action server sees the new chunks through the retriever's refresh.
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from core.storage import session_scope
from core.storage.knowledge_console import (
    JOB_DONE,
    JOB_FAILED,
    JOB_QUEUED,
    JOB_RUNNING,
    KBJob,
)
from core.storage.models import as_utc, new_id, utcnow
from knowledge.ingest import DEFAULT_IGNORE, source_path
from knowledge.loaders import SUPPORTED_SUFFIXES, LoaderError, is_supported, load
from knowledge.service import KnowledgeBase
from knowledge.text import sha256_hex

logger = logging.getLogger(__name__)

UPLOAD_FOLDER = "uploads"
"""Folder of the content folder that uploaded documents are written to."""
STAGING_FOLDER = "kb-staging"
PROTECTED_SOURCES = frozenset({"catalog.json"})
"""Sources the console may replace but not delete (the bot needs the catalog)."""
_SAFE_NAME = re.compile(r"[^\w. -]+")
MAX_NAME_CHARS = 120


class JobRequestError(ValueError):
    """A request the console cannot turn into a job; the message says why (shown as is)."""


@dataclass(frozen=True)
class IncomingFile:
    """One uploaded file as the request read it (``data`` is None when it was refused)."""

    name: str
    data: bytes | None
    error: str | None = None


def safe_file_name(name: str) -> str:
    """Return an upload's name reduced to a plain file name (no folders, no odd characters)."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("-", base).strip()
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot or not suffix.isalnum():
        stem, suffix = cleaned, ""
    stem = stem.strip(" .-")[: MAX_NAME_CHARS - len(suffix) - 1] or "document"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def check_upload(name: str, size: int, max_bytes: int) -> str | None:
    """Return why an uploaded file is refused (type, size, empty), or None when it is fine."""
    suffix = Path(name).suffix.lower()
    if not is_supported(Path(name)):
        kinds = ", ".join(SUPPORTED_SUFFIXES)
        return f"unsupported file type {suffix or '(none)'}: use one of {kinds}"
    if size == 0:
        return "the file is empty"
    if size > max_bytes:
        return f"the file is larger than the limit of {_megabytes(max_bytes)}"
    return None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


@dataclass(frozen=True)
class JobView:
    """A job as the console shows it."""

    id: str
    kind: str
    status: str
    requested_by: str | None
    files: list[dict[str, Any]]
    done: int
    total: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: KBJob) -> JobView:
        """Copy a row into a view that outlives its session."""
        return cls(
            row.id,
            row.kind,
            row.status,
            row.requested_by,
            [dict(f) for f in row.files],
            row.done,
            row.total,
            row.error,
            as_utc(row.created_at),
            as_utc(row.started_at) if row.started_at else None,
            as_utc(row.finished_at) if row.finished_at else None,
        )


@contextlib.contextmanager
def content_lock(data_dir: Path, content_dir: Path) -> Iterator[None]:
    """Hold the lock of ``content_dir`` (one writer at a time, across processes)."""
    folder = data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    key = sha256_hex(str(content_dir.resolve()), 16)
    with open(folder / f"content-{key}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``target`` through a temporary file in its folder, so readers never see half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class KnowledgeJobs:
    """Creates, runs and reads knowledge-base jobs for one content folder and index."""

    def __init__(self, engine: Engine, kb: KnowledgeBase, data_dir: Path) -> None:
        self.engine = engine
        self.kb = kb
        self.data_dir = data_dir
        self.content_dir = Path(kb.settings.content_dir)

    # -- creating ------------------------------------------------------------------------
    def create_upload(self, files: list[IncomingFile], requested_by: str) -> JobView:
        """Stage the accepted files and queue a job; refused files are listed by name."""
        if not files:
            raise JobRequestError("choose at least one file to upload")
        job_id = new_id()
        entries: list[dict[str, Any]] = []
        names: set[str] = set()
        for incoming in files:
            name = safe_file_name(incoming.name)
            if any(fnmatch.fnmatch(name, pattern) for pattern in DEFAULT_IGNORE):
                name = f"upload-{name}"  # a folder's README is not indexed; an upload must be
            if incoming.data is None or incoming.error:
                entries.append(_entry(name, "rejected", error=incoming.error or "not readable"))
                continue
            if name.lower() in names:
                entries.append(_entry(name, "rejected", error="the same name twice in one upload"))
                continue
            names.add(name.lower())
            self._stage(job_id, name, incoming.data)
            target = f"{UPLOAD_FOLDER}/{name}"
            entries.append(_entry(name, "queued", source=target))
        return self._insert(job_id, "upload", entries, requested_by)

    def create_replace(self, source: str, incoming: IncomingFile, requested_by: str) -> JobView:
        """Queue the replacement of an indexed source by a new file of the same type."""
        source = self.known_source(source)
        if Path(source).is_absolute():
            raise JobRequestError(f"{source} is outside the content folder: replace it there")
        if incoming.data is None or incoming.error:
            raise JobRequestError(f"{incoming.name}: {incoming.error or 'not readable'}")
        if Path(incoming.name).suffix.lower() != Path(source).suffix.lower():
            raise JobRequestError(
                f"{incoming.name}: a replacement for {source} must be a "
                f"{Path(source).suffix.lower()} file too"
            )
        job_id = new_id()
        name = safe_file_name(incoming.name)
        self._stage(job_id, name, incoming.data)
        return self._insert(
            job_id, "replace", [_entry(name, "queued", source=source)], requested_by
        )

    def create_delete(self, source: str, requested_by: str) -> JobView:
        """Queue the removal of a source from the content folder and the index."""
        source = self.known_source(source)
        if source in PROTECTED_SOURCES:
            raise JobRequestError(f"{source} is the product catalog: replace it, do not delete it")
        return self._insert(
            new_id(), "delete", [_entry(source, "queued", source=source)], requested_by
        )

    def create_reindex(self, requested_by: str) -> JobView:
        """Queue a re-index of the whole content folder (only changed files are re-read)."""
        return self._insert(new_id(), "reindex", [], requested_by)

    def known_source(self, source: str) -> str:
        """Return ``source`` if the index holds it, else refuse with a clear message."""
        source = source.strip().strip("/")
        if not source or source not in self.kb.store.manifest():
            raise LookupError(f"no indexed source named {source!r}")
        return source

    # -- reading -------------------------------------------------------------------------
    def get(self, job_id: str) -> JobView | None:
        """Return one job."""
        with session_scope(self.engine) as session:
            row = session.get(KBJob, job_id)
            return JobView.of(row) if row is not None else None

    def recent(self, limit: int = 20) -> list[JobView]:
        """Return the latest jobs, newest first."""
        with session_scope(self.engine) as session:
            rows = session.scalars(select(KBJob).order_by(KBJob.created_at.desc()).limit(limit))
            return [JobView.of(r) for r in rows]

    def queued_ids(self) -> list[str]:
        """Return the ids of the jobs nobody has started, oldest first."""
        with session_scope(self.engine) as session:
            query = select(KBJob.id).where(KBJob.status == JOB_QUEUED).order_by(KBJob.created_at)
            return list(session.scalars(query))

    # -- running -------------------------------------------------------------------------
    def claim(self, job_id: str) -> bool:
        """Take a queued job for this process; False when another one took it first."""
        with session_scope(self.engine) as session:
            result = session.execute(
                update(KBJob)
                .where(KBJob.id == job_id, KBJob.status == JOB_QUEUED)
                .values(status=JOB_RUNNING, started_at=utcnow())
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    def run(self, job_id: str) -> JobView | None:
        """Claim and run one job to its end (None when someone else has it)."""
        if not self.claim(job_id):
            return None
        job = self.get(job_id)
        assert job is not None
        logger.info("kb.job.started id=%s kind=%s files=%d", job.id, job.kind, len(job.files))
        try:
            with content_lock(self.data_dir, self.content_dir):
                files = self._execute(job)
        except Exception as error:  # a job must end in a state the console can show
            logger.exception("kb.job.failed id=%s", job_id)
            self._finish(job_id, JOB_FAILED, error=f"the job stopped: {type(error).__name__}")
        else:
            failed = [f for f in files if f["status"] in ("failed", "rejected")]
            summary = f"{len(failed)} of {len(files)} files were not indexed" if failed else None
            self._finish(job_id, JOB_DONE, error=summary)
        finally:
            shutil.rmtree(self._staging(job_id), ignore_errors=True)
        return self.get(job_id)

    def fail_stale(self, older_than: timedelta) -> int:
        """Mark jobs still ``running`` after ``older_than`` as failed (their process stopped)."""
        cutoff = utcnow() - older_than
        with session_scope(self.engine) as session:
            result = session.execute(
                update(KBJob)
                .where(KBJob.status == JOB_RUNNING, KBJob.started_at < cutoff)
                .values(
                    status=JOB_FAILED,
                    error="the job stopped before it finished (its process ended): start it again",
                    finished_at=utcnow(),
                )
            )
            failed = int(getattr(result, "rowcount", 0) or 0)
        if failed:
            logger.warning("kb.job.stale count=%d", failed)
        return failed

    def run_queued(self) -> int:
        """Run every queued job; return how many this process ran."""
        ran = 0
        for job_id in self.queued_ids():
            if self.run(job_id) is not None:
                ran += 1
        return ran

    def _execute(self, job: JobView) -> list[dict[str, Any]]:
        files = job.files
        if job.kind == "reindex":
            files = [_entry(p, "queued", source=p) for p in self._content_sources()]
            self._progress(job.id, files)
        for entry in files:
            if entry["status"] != "queued":
                continue
            entry["status"] = "running"
            self._progress(job.id, files)
            try:
                entry.update(self._apply(job, entry))
            except LoaderError as error:
                entry.update(status="failed", error=str(error))
                logger.info("kb.job.file_failed id=%s reason=%s", job.id, error)
            self._progress(job.id, files)
        if job.kind == "reindex":
            self.kb.ingest()  # drops sources whose files are gone; the rest are unchanged
        return files

    def _apply(self, job: JobView, entry: dict[str, Any]) -> dict[str, Any]:
        source = str(entry["source"])
        if job.kind == "delete":
            target = source_path(source, self.content_dir)
            removed = self.kb.remove(source)
            if target.resolve().is_relative_to(self.content_dir.resolve()) and target.is_file():
                target.unlink()
            return {"status": "done", "chunks": removed}
        if job.kind == "reindex":
            return self._index(source_path(source, self.content_dir))
        staged = self._staging(job.id) / str(entry["name"])
        load(staged)  # a file the loaders refuse never reaches the content folder
        target = source_path(source, self.content_dir)
        write_atomically(target, staged.read_bytes())
        return self._index(target)

    def _index(self, path: Path) -> dict[str, Any]:
        report = self.kb.ingest([path])
        if report.files_skipped:
            raise LoaderError(report.files_skipped[0][1])
        source = path.resolve().relative_to(self.content_dir.resolve()).as_posix()
        entry = self.kb.store.manifest().get(source)
        return {"status": "done", "chunks": len(entry.chunk_ids) if entry else 0}

    def _content_sources(self) -> list[str]:
        """Return every file of the content folder that ingestion reads, as source names."""
        root = self.content_dir.resolve()
        found: list[str] = []
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            ignored = any(fnmatch.fnmatch(p, pattern) for p in parts for pattern in DEFAULT_IGNORE)
            if path.is_file() and not ignored and is_supported(path):
                found.append(path.relative_to(root).as_posix())
        return found

    # -- rows and files ------------------------------------------------------------------
    def _staging(self, job_id: str) -> Path:
        return self.data_dir / STAGING_FOLDER / job_id

    def _stage(self, job_id: str, name: str, data: bytes) -> None:
        write_atomically(self._staging(job_id) / name, data)

    def _insert(
        self, job_id: str, kind: str, files: list[dict[str, Any]], requested_by: str
    ) -> JobView:
        queued = [f for f in files if f["status"] == "queued"]
        status = JOB_QUEUED if queued or kind == "reindex" else JOB_DONE
        row = KBJob(
            id=job_id,
            kind=kind,
            status=status,
            requested_by=requested_by,
            files=files,
            done=len(files) - len(queued),
            total=len(files),
            error=None if status == JOB_QUEUED else "no file could be accepted",
            created_at=utcnow(),
            finished_at=None if status == JOB_QUEUED else utcnow(),
        )
        with session_scope(self.engine) as session:
            session.add(row)
            session.flush()
            view = JobView.of(row)
        logger.info("kb.job.queued id=%s kind=%s files=%d", job_id, kind, len(files))
        return view

    def _progress(self, job_id: str, files: list[dict[str, Any]]) -> None:
        done = sum(1 for f in files if f["status"] not in ("queued", "running"))
        with session_scope(self.engine) as session:
            session.execute(
                update(KBJob)
                .where(KBJob.id == job_id)
                .values(files=[dict(f) for f in files], done=done, total=len(files))
            )

    def _finish(self, job_id: str, status: str, *, error: str | None) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                update(KBJob)
                .where(KBJob.id == job_id)
                .values(status=status, error=error, finished_at=utcnow())
            )
        logger.info("kb.job.finished id=%s status=%s", job_id, status)


def _entry(
    name: str, status: str, *, source: str | None = None, error: str | None = None
) -> dict[str, Any]:
    return {"name": name, "source": source, "status": status, "chunks": 0, "error": error}
