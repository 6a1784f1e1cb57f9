"""The knowledge console's JSON API: documents, jobs, try a question, unanswered questions.

For signed-in ``support`` and ``admin`` staff. ``/api/admin/knowledge/...`` lists the indexed
sources, previews a source's chunks, takes uploads (several files at once), replacements,
deletions and re-indexing as background jobs (``GET .../jobs/{id}`` shows their progress),
and answers a test question exactly as the bot would, with the retrieved chunks, their
scores and the threshold. ``/api/admin/unanswered/...`` lists the grouped queue of questions
the bot could not answer and resolves a group (answer, link, dismiss). Changes need the
session's CSRF token in ``X-CSRF-Token``. docs/console-knowledge.md describes the pages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, BackgroundTasks, Depends, File, HTTPException, Query, UploadFile
from pydantic import BaseModel, Field, field_validator

from bot.auth.sessions import SignedIn
from bot.auth.staff import CsrfChecked, require_role
from bot.deps import EngineDep, SettingsDep
from bot.routers.errors import ApiError
from bot.services.knowledge_jobs import (
    IncomingFile,
    JobRequestError,
    JobView,
    KnowledgeJobs,
    check_upload,
)
from bot.services.unanswered import (
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    QuestionGroup,
    Resolution,
    ResolveError,
    UnansweredQueue,
)
from core.config import PROJECT_ROOT
from knowledge.ingest import source_path
from knowledge.loaders import SUPPORTED_SUFFIXES
from knowledge.service import KnowledgeBase, get_knowledge_base
from knowledge.types import Answer

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/admin", tags=["knowledge console"])

KnowledgeStaff = Annotated[SignedIn, Depends(require_role("support", "admin"))]
"""Support agents and administrators: the people who keep the answers right."""
MAX_PREVIEW_CHUNKS = 500
DECLINED_RESPONSE = "utter_kb_declined"


def get_kb(settings: SettingsDep) -> KnowledgeBase:
    """Return the process's knowledge base (tests override this dependency)."""
    return get_knowledge_base(settings.knowledge)


KBDep = Annotated[KnowledgeBase, Depends(get_kb)]


def get_jobs(engine: EngineDep, kb: KBDep, settings: SettingsDep) -> KnowledgeJobs:
    """Return the job service over the app database and the knowledge base."""
    return KnowledgeJobs(engine, kb, settings.data_dir)


def get_queue(engine: EngineDep, kb: KBDep, settings: SettingsDep) -> UnansweredQueue:
    """Return the unanswered-questions queue."""
    return UnansweredQueue(engine, kb, settings.data_dir)


JobsDep = Annotated[KnowledgeJobs, Depends(get_jobs)]
QueueDep = Annotated[UnansweredQueue, Depends(get_queue)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not a support or admin account, or no CSRF token"},
}


# -- schemas ---------------------------------------------------------------------------------
class SourcePublic(BaseModel):
    """One indexed document."""

    source: str = Field(description="Path in the content folder, e.g. docs/returns.md")
    title: str
    chunks: int
    size_bytes: int | None = Field(description="Size of the file (None when it is gone)")
    indexed_at: str = Field(description="When its chunks were last written (ISO 8601, UTC)")


class SourcesPublic(BaseModel):
    """What the index holds."""

    documents: int
    chunks: int
    last_indexed: str | None
    sources: list[SourcePublic]
    max_upload_bytes: int
    max_upload_files: int
    file_types: list[str]


class ChunkPreview(BaseModel):
    """One stored chunk of a source."""

    id: str
    location: str
    heading: str | None
    text: str


class JobFile(BaseModel):
    """One file of a job."""

    name: str
    source: str | None
    status: str = Field(description="queued, running, done, failed or rejected")
    chunks: int
    error: str | None


class JobPublic(BaseModel):
    """A background change to the knowledge base and its progress."""

    id: str
    kind: str = Field(description="upload, replace, delete or reindex")
    status: str = Field(description="queued, running, done or failed")
    requested_by: str | None
    files: list[JobFile]
    done: int
    total: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TryQuestion(BaseModel):
    """A question to try against the knowledge base."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    product_id: str | None = Field(default=None, max_length=128)

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        text = " ".join(value.split())
        if not text:
            raise ValueError("question must not be empty")
        return text


class ChunkScore(BaseModel):
    """A retrieved chunk with its scores."""

    rank: int
    location: str
    title: str
    heading: str | None
    score: float = Field(description="Fused retrieval score (ranks within this question)")
    confidence: float = Field(description="Calibrated confidence (comparable across questions)")
    above_threshold: bool
    text: str


class TryResult(BaseModel):
    """What the bot would reply, and why."""

    question: str
    answered: bool
    reply: str = Field(description="The bot's reply text, as the customer would see it")
    answer: str | None
    confidence: float
    threshold: float
    generated: bool
    sources: list[dict[str, str]]
    chunks: list[ChunkScore]


class QueuedPublic(BaseModel):
    """One queued question with its conversation."""

    id: str
    conversation_id: str
    channel: str
    question: str
    reason: str
    created_at: datetime


class GroupPublic(BaseModel):
    """Similar unanswered questions."""

    id: str
    question: str
    count: int
    latest_at: datetime
    reasons: list[str]
    items: list[QueuedPublic]


class AnswerCreate(BaseModel):
    """Support's answer to a group: saved as an FAQ entry."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)


class LinkCreate(BaseModel):
    """The indexed document (``docs/returns.md``) or section (``...#anchor``) that answers."""

    location: str = Field(min_length=1, max_length=1000)


class ResolutionPublic(BaseModel):
    """What resolving a group did, with the bot's answer to the question now."""

    group_id: str
    status: str
    resolved: int = Field(description="Questions that left the queue")
    location: str | None
    case_added: bool = Field(description="Whether a regression case was added for kb eval")
    result: TryResult | None


# -- helpers ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def declined_reply(domain_path: Path = PROJECT_ROOT / "domain.yml") -> str:
    """Return the bot's wording when it declines (``utter_kb_declined`` in domain.yml)."""
    try:
        domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
        text = domain["responses"][DECLINED_RESPONSE][0]["text"]
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        logger.warning("kb.console.declined_text_missing")
        return "(the bot declines: not confident enough)"
    return str(text)


def try_result(answer: Answer, threshold: float) -> TryResult:
    """Describe an answer the way the console shows it."""
    return TryResult(
        question=answer.question,
        answered=answer.answered,
        reply=answer.text if answer.text is not None else declined_reply(),
        answer=answer.text,
        confidence=round(answer.confidence, 4),
        threshold=threshold,
        generated=answer.generated,
        sources=[s.to_dict() for s in answer.sources],
        chunks=[
            ChunkScore(
                rank=rank,
                location=chunk.location,
                title=chunk.title,
                heading=chunk.heading,
                score=round(chunk.score, 4),
                confidence=round(chunk.confidence, 4),
                above_threshold=chunk.confidence >= threshold,
                text=chunk.text,
            )
            for rank, chunk in enumerate(answer.chunks, start=1)
        ],
    )


def _job(view: JobView) -> JobPublic:
    return JobPublic(
        id=view.id,
        kind=view.kind,
        status=view.status,
        requested_by=view.requested_by,
        files=[JobFile(**f) for f in view.files],
        done=view.done,
        total=view.total,
        error=view.error,
        created_at=view.created_at,
        started_at=view.started_at,
        finished_at=view.finished_at,
    )


def _group(group: QuestionGroup) -> GroupPublic:
    return GroupPublic(
        id=group.id,
        question=group.question,
        count=group.count,
        latest_at=group.latest_at,
        reasons=group.reasons,
        items=[QueuedPublic(**item.__dict__) for item in group.items],
    )


def _resolution(done: Resolution, threshold: float) -> ResolutionPublic:
    return ResolutionPublic(
        group_id=done.group_id,
        status=done.status,
        resolved=done.resolved,
        location=done.location,
        case_added=done.case_added,
        result=try_result(done.answer, threshold) if done.answer is not None else None,
    )


async def _read_upload(upload: UploadFile, max_bytes: int) -> IncomingFile:
    """Read one file up to the limit; a refused file carries the reason, not its bytes."""
    name = upload.filename or "unnamed"
    data = await upload.read(max_bytes + 1)
    problem = check_upload(name, len(data), max_bytes)
    return IncomingFile(name, None if problem else data, problem)


async def _queue_job(create: Callable[..., JobView], *args: Any) -> JobView:
    """Queue a job for an indexed source: a source that is not there is 404, a refusal 422."""
    try:
        return await asyncio.to_thread(create, *args)
    except LookupError as error:
        raise ApiError(404, str(error).strip('"')) from None
    except JobRequestError as error:
        raise ApiError(422, str(error)) from None


def _run_job(jobs: KnowledgeJobs, job_id: str) -> None:
    """Run a job after the response (the worker takes it if this process stops first)."""
    try:
        jobs.run(job_id)
    except Exception:  # logged; the job row says it failed or stays queued for the worker
        logger.exception("kb.job.background_failed id=%s", job_id)


# -- documents -------------------------------------------------------------------------------
@router.get("/knowledge/sources", response_model=SourcesPublic, responses=ERRORS)
async def list_sources(user: KnowledgeStaff, kb: KBDep, settings: SettingsDep) -> SourcesPublic:
    """List the indexed documents with their chunk count, size and last indexing time."""
    stats = await asyncio.to_thread(kb.stats)
    content_dir = Path(settings.content_dir)

    def size(source: str) -> int | None:
        path = source_path(source, content_dir)
        return path.stat().st_size if path.is_file() else None

    return SourcesPublic(
        documents=stats.documents,
        chunks=stats.chunks,
        last_indexed=stats.last_indexed,
        sources=[
            SourcePublic(
                source=s.source,
                title=s.title,
                chunks=s.chunks,
                size_bytes=size(s.source),
                indexed_at=s.indexed_at,
            )
            for s in stats.sources
        ],
        max_upload_bytes=settings.kb_upload_max_bytes,
        max_upload_files=settings.kb_upload_max_files,
        file_types=list(SUPPORTED_SUFFIXES),
    )


@router.get("/knowledge/sources/chunks", response_model=list[ChunkPreview], responses=ERRORS)
async def source_chunks(
    user: KnowledgeStaff,
    kb: KBDep,
    source: Annotated[str, Query(min_length=1, max_length=1000, description="A listed source")],
) -> list[ChunkPreview]:
    """Preview the chunks stored for one source, in document order."""

    def read() -> list[ChunkPreview]:
        chunks = list(kb.store.iter_chunks(where={"source": source}))
        chunks.sort(key=lambda c: int(c.metadata.get("position", 0) or 0))
        return [
            ChunkPreview(
                id=c.id,
                location=str(c.metadata.get("location", source)),
                heading=str(c.metadata.get("heading") or "") or None,
                text=c.text,
            )
            for c in chunks[:MAX_PREVIEW_CHUNKS]
        ]

    found = await asyncio.to_thread(read)
    if not found:
        raise ApiError(404, f"no indexed source named {source!r}")
    return found


@router.post("/knowledge/uploads", response_model=JobPublic, status_code=202, responses=ERRORS)
async def upload(
    user: KnowledgeStaff,
    _csrf: CsrfChecked,
    jobs: JobsDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    files: Annotated[list[UploadFile], File(description="One or more documents")],
) -> JobPublic:
    """Upload documents; they are indexed in the background (a refused file is named)."""
    if len(files) > settings.kb_upload_max_files:
        raise ApiError(
            413, f"at most {settings.kb_upload_max_files} files per upload ({len(files)} sent)"
        )
    incoming = [await _read_upload(f, settings.kb_upload_max_bytes) for f in files]
    try:
        view = await asyncio.to_thread(jobs.create_upload, incoming, user.email)
    except JobRequestError as error:
        raise ApiError(422, str(error)) from None
    if view.status == "queued":
        background.add_task(_run_job, jobs, view.id)
    return _job(view)


@router.put("/knowledge/sources", response_model=JobPublic, status_code=202, responses=ERRORS)
async def replace_source(
    user: KnowledgeStaff,
    _csrf: CsrfChecked,
    jobs: JobsDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    source: Annotated[str, Query(min_length=1, max_length=1000)],
    file: Annotated[UploadFile, File(description="The new version of the document")],
) -> JobPublic:
    """Replace a document with a new file of the same type (indexed in the background)."""
    incoming = await _read_upload(file, settings.kb_upload_max_bytes)
    view = await _queue_job(jobs.create_replace, source, incoming, user.email)
    background.add_task(_run_job, jobs, view.id)
    return _job(view)


@router.delete("/knowledge/sources", response_model=JobPublic, status_code=202, responses=ERRORS)
async def delete_source(
    user: KnowledgeStaff,
    _csrf: CsrfChecked,
    jobs: JobsDep,
    background: BackgroundTasks,
    source: Annotated[str, Query(min_length=1, max_length=1000)],
) -> JobPublic:
    """Delete a document from the content folder and the index (in the background)."""
    view = await _queue_job(jobs.create_delete, source, user.email)
    background.add_task(_run_job, jobs, view.id)
    return _job(view)


@router.post("/knowledge/reindex", response_model=JobPublic, status_code=202, responses=ERRORS)
async def reindex(
    user: KnowledgeStaff, _csrf: CsrfChecked, jobs: JobsDep, background: BackgroundTasks
) -> JobPublic:
    """Re-index the whole content folder; follow the progress on the job."""
    view = await asyncio.to_thread(jobs.create_reindex, user.email)
    background.add_task(_run_job, jobs, view.id)
    return _job(view)


@router.get("/knowledge/jobs", response_model=list[JobPublic], responses=ERRORS)
async def list_jobs(user: KnowledgeStaff, jobs: JobsDep) -> list[JobPublic]:
    """List the latest jobs, newest first."""
    return [_job(v) for v in await asyncio.to_thread(jobs.recent)]


@router.get("/knowledge/jobs/{job_id}", response_model=JobPublic, responses=ERRORS)
async def get_job(job_id: str, user: KnowledgeStaff, jobs: JobsDep) -> JobPublic:
    """Show one job's progress, file by file."""
    view = await asyncio.to_thread(jobs.get, job_id)
    if view is None:
        raise ApiError(404, "no such job")
    return _job(view)


@router.post("/knowledge/try", response_model=TryResult, responses=ERRORS)
async def try_question(
    body: TryQuestion, user: KnowledgeStaff, _csrf: CsrfChecked, kb: KBDep
) -> TryResult:
    """Ask like a customer: the reply, its confidence, the chunks and the threshold."""
    answer = await asyncio.to_thread(kb.ask, body.question, product_id=body.product_id)
    return try_result(answer, kb.threshold)


# -- unanswered questions --------------------------------------------------------------------
@router.get("/unanswered", response_model=list[GroupPublic], responses=ERRORS)
async def list_unanswered(user: KnowledgeStaff, queue: QueueDep) -> list[GroupPublic]:
    """List the open groups of unanswered questions, the most asked first."""
    return [_group(g) for g in await asyncio.to_thread(queue.groups)]


def _resolve_errors(error: Exception) -> HTTPException:
    if isinstance(error, LookupError):
        return HTTPException(404, str(error).strip('"'))
    return HTTPException(422, str(error))


@router.post("/unanswered/{group_id}/answer", response_model=ResolutionPublic, responses=ERRORS)
async def answer_group(
    group_id: str, body: AnswerCreate, user: KnowledgeStaff, _csrf: CsrfChecked, queue: QueueDep
) -> ResolutionPublic:
    """Answer a group: an FAQ entry, indexed now; the question is asked again to show it."""
    try:
        done = await asyncio.to_thread(
            queue.answer, group_id, body.question, body.answer, user.email
        )
    except (LookupError, ResolveError) as error:
        raise _resolve_errors(error) from None
    return _resolution(done, queue.kb.threshold)


@router.post("/unanswered/{group_id}/link", response_model=ResolutionPublic, responses=ERRORS)
async def link_group(
    group_id: str, body: LinkCreate, user: KnowledgeStaff, _csrf: CsrfChecked, queue: QueueDep
) -> ResolutionPublic:
    """Name the document or section that answers a group."""
    try:
        done = await asyncio.to_thread(queue.link, group_id, body.location, user.email)
    except (LookupError, ResolveError) as error:
        raise _resolve_errors(error) from None
    return _resolution(done, queue.kb.threshold)


@router.post("/unanswered/{group_id}/dismiss", response_model=ResolutionPublic, responses=ERRORS)
async def dismiss_group(
    group_id: str, user: KnowledgeStaff, _csrf: CsrfChecked, queue: QueueDep
) -> ResolutionPublic:
    """Drop a group from the queue."""
    try:
        done = await asyncio.to_thread(queue.dismiss, group_id, user.email)
    except LookupError as error:
        raise _resolve_errors(error) from None
    return _resolution(done, queue.kb.threshold)
