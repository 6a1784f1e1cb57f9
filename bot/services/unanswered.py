"""The queue of questions the bot could not answer, grouped, and what support does with them.

``collect()`` queues, once each (unique by reason and origin row):

* ``no_answer``: a knowledge-base answer the bot declined (``kb_answers.answer`` is NULL);
* ``fallback``: a turn that ended in ``action_default_fallback`` (the two-stage fallback gave
  up), read from ``app_events``: the customer's text before that action;
* ``handoff``: a handoff opened because the bot had no answer (``handoffs.reason`` is
  ``fallback``), with what the customer asked;
* ``thumbs_down``: an answer the customer rated down (``kb_feedback.rating`` is ``down``).

The same question of the same conversation is queued once whatever the reasons. New
questions join the open group whose first question is most similar, when the cosine of their
all-MiniLM-L6-v2 embeddings is at least :data:`GROUP_COSINE` (else they start a group).

Support resolves a whole group: ``answer`` writes an FAQ entry to the content folder's
``answers.csv``, indexes that file at once, asks the question again the way the bot does and
returns the new answer; ``link`` names an existing document or section; ``dismiss`` drops it.
Answering and linking add a regression case to ``eval_cases.yml`` (``concierge kb eval``).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Engine, and_, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services.knowledge_jobs import content_lock, write_atomically
from core.storage import session_scope
from core.storage.handoff import Handoff
from core.storage.knowledge_console import (
    ANSWERED,
    DISMISSED,
    LINKED,
    OPEN,
    UnansweredQuestion,
)
from core.storage.models import Feedback, KBAnswer, as_utc, new_id, utcnow
from knowledge.eval import EvalCase, add_case, cases_path
from knowledge.service import KnowledgeBase
from knowledge.types import Answer

logger = logging.getLogger(__name__)

GROUP_COSINE = 0.72
"""Questions are grouped at this MiniLM cosine or above (docs/console-knowledge.md)."""
ANSWERS_FILE = "answers.csv"
FALLBACK_ACTION = "action_default_fallback"
FALLBACK_EPISODE_ACTIONS = frozenset(
    {
        "action_listen",
        "action_answer_question",
        "action_two_stage_fallback",
        "action_default_ask_affirmation",
        "action_default_ask_rephrase",
    }
)
"""Actions between an unclear question and the fallback giving up (data/rules/fallback.yml)."""
FALLBACK_LOOKBACK = 30
HANDOFF_REASONS = ("fallback",)
"""Handoff reasons that mean the bot had no answer (not a customer asking for a person)."""
MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 2000
COLLECT_BATCH = 500

APP_EVENTS = sa.table(
    "app_events",
    sa.column("id", sa.Integer),
    sa.column("conversation_id", sa.String),
    sa.column("channel", sa.String),
    sa.column("type", sa.String),
    sa.column("name", sa.String),
    sa.column("text", sa.Text),
    sa.column("timestamp", sa.DateTime),
)
"""The app's copy of Rasa's events (migration 0009), read only."""


class ResolveError(ValueError):
    """A resolution the queue refuses; the message says why (shown to support as is)."""


@dataclass(frozen=True)
class QueuedQuestion:
    """One queued question."""

    id: str
    conversation_id: str
    channel: str
    question: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class QuestionGroup:
    """Similar open questions: the first one, how many, the latest, each with its conversation."""

    id: str
    question: str
    count: int
    latest_at: datetime
    reasons: list[str]
    items: list[QueuedQuestion] = field(default_factory=list)


@dataclass(frozen=True)
class Resolution:
    """What a resolution did: the group, how many questions left the queue, the new answer."""

    group_id: str
    status: str
    resolved: int
    location: str | None = None
    answer: Answer | None = None
    case_added: bool = False


def _norm(text: str) -> str:
    """Return a question's words, lower-case, without punctuation (to spot repeats)."""
    return " ".join(re.findall(r"\w+", text.lower()))


def _clip(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_QUESTION_CHARS]


class UnansweredQueue:
    """Collects, groups and resolves the unanswered questions of one app and knowledge base."""

    def __init__(self, engine: Engine, kb: KnowledgeBase, data_dir: Path) -> None:
        self.engine = engine
        self.kb = kb
        self.data_dir = data_dir
        self.content_dir = Path(kb.settings.content_dir)

    # -- collecting ----------------------------------------------------------------------
    def collect(self) -> int:
        """Queue what is new since the last call and group it; return how many were queued.

        Two replicas collecting at once may find the same rows: the unique origin makes the
        second insert fail, and the rows are then already queued by the first.
        """
        try:
            with session_scope(self.engine) as session:
                found = [
                    *self._declined(session),
                    *self._thumbs_down(session),
                    *self._handoffs(session),
                    *self._fallbacks(session),
                ]
                queued = self._insert(session, found)
        except IntegrityError:
            logger.info("kb.unanswered.collect_raced: another process queued them first")
            queued = 0
        if queued:
            self.group()
            logger.info("kb.unanswered.collected count=%d", queued)
        return queued

    @staticmethod
    def _not_queued(reason: str, origin: Any) -> Any:
        return ~exists().where(
            and_(UnansweredQuestion.reason == reason, UnansweredQuestion.origin_id == origin)
        )

    def _declined(self, session: Session) -> Iterable[UnansweredQuestion]:
        rows = session.execute(
            select(KBAnswer.id, KBAnswer.sender_id, KBAnswer.channel, KBAnswer.question)
            .where(KBAnswer.answer.is_(None), self._not_queued("no_answer", KBAnswer.id))
            .order_by(KBAnswer.created_at)
            .limit(COLLECT_BATCH)
        )
        for origin, conversation, channel, question in rows:
            yield _row("no_answer", origin, conversation, channel, question)

    def _thumbs_down(self, session: Session) -> Iterable[UnansweredQuestion]:
        rows = session.execute(
            select(Feedback.id, Feedback.sender_id, KBAnswer.channel, Feedback.question)
            .join(KBAnswer, KBAnswer.id == Feedback.answer_id, isouter=True)
            .where(Feedback.rating == "down", self._not_queued("thumbs_down", Feedback.id))
            .order_by(Feedback.created_at)
            .limit(COLLECT_BATCH)
        )
        for origin, conversation, channel, question in rows:
            yield _row("thumbs_down", origin, conversation, channel or "web", question)

    def _handoffs(self, session: Session) -> Iterable[UnansweredQuestion]:
        rows = session.execute(
            select(Handoff.id, Handoff.conversation_id, Handoff.channel, Handoff.summary)
            .where(
                Handoff.reason.in_(HANDOFF_REASONS),
                Handoff.summary.is_not(None),
                self._not_queued("handoff", Handoff.id),
            )
            .order_by(Handoff.created_at)
            .limit(COLLECT_BATCH)
        )
        for origin, conversation, channel, question in rows:
            yield _row("handoff", origin, conversation, channel, question)

    def _fallbacks(self, session: Session) -> Iterable[UnansweredQuestion]:
        origin = sa.cast(APP_EVENTS.c.id, sa.String)
        rows = session.execute(
            select(APP_EVENTS.c.id, APP_EVENTS.c.conversation_id, APP_EVENTS.c.channel)
            .where(
                APP_EVENTS.c.type == "action",
                APP_EVENTS.c.name == FALLBACK_ACTION,
                self._not_queued("fallback", origin),
            )
            .order_by(APP_EVENTS.c.id)
            .limit(COLLECT_BATCH)
        ).all()
        for event_id, conversation, channel in rows:
            question = self._fallback_question(session, conversation, event_id)
            yield _row("fallback", str(event_id), conversation, channel or "web", question)

    @staticmethod
    def _fallback_question(session: Session, conversation: str, event_id: int) -> str | None:
        """Return what the customer first asked in the fallback episode ending at ``event_id``.

        The two-stage fallback asks to rephrase before it gives up, so the text right before
        ``action_default_fallback`` is often the rephrasing ("hm?"); the question is the
        earliest user text since the last action outside the fallback's own steps.
        """
        events = session.execute(
            select(APP_EVENTS.c.type, APP_EVENTS.c.name, APP_EVENTS.c.text)
            .where(APP_EVENTS.c.conversation_id == conversation, APP_EVENTS.c.id < event_id)
            .order_by(APP_EVENTS.c.id.desc())
            .limit(FALLBACK_LOOKBACK)
        )
        question: str | None = None
        for kind, name, text in events:
            if kind == "user" and text:
                question = str(text)
            elif kind == "action" and name not in FALLBACK_EPISODE_ACTIONS:
                break
        return question

    def _insert(self, session: Session, found: Sequence[UnansweredQuestion]) -> int:
        """Add the new rows; a question already queued for its conversation is kept as seen."""
        conversations = {r.conversation_id for r in found}
        seen: set[tuple[str, str]] = set()
        if conversations:
            existing = session.execute(
                select(UnansweredQuestion.conversation_id, UnansweredQuestion.question).where(
                    UnansweredQuestion.conversation_id.in_(conversations)
                )
            )
            seen = {(c, _norm(q)) for c, q in existing}
        queued = 0
        for row in found:
            key = (row.conversation_id, _norm(row.question))
            if key in seen or not row.question:
                # still recorded (so it is not looked at again), already resolved with the first
                row.status = DISMISSED
                row.resolution = {"duplicate": True}
            else:
                queued += 1
            seen.add(key)
            session.add(row)
        return queued

    # -- grouping ------------------------------------------------------------------------
    def group(self) -> None:
        """Give every open question without a group the most similar open group (or its own)."""
        with session_scope(self.engine) as session:
            pending = list(
                session.scalars(
                    select(UnansweredQuestion)
                    .where(UnansweredQuestion.status == OPEN, UnansweredQuestion.group_id.is_(None))
                    .order_by(UnansweredQuestion.created_at)
                )
            )
            if not pending:
                return
            leaders = list(
                session.scalars(
                    select(UnansweredQuestion).where(
                        UnansweredQuestion.status == OPEN,
                        UnansweredQuestion.group_id == UnansweredQuestion.id,
                    )
                )
            )
            texts = [q.question for q in leaders] + [q.question for q in pending]
            vectors = np.asarray(self.kb.encoder.encode(texts), dtype=np.float32)
            leader_ids = [q.id for q in leaders]
            leader_vectors = list(vectors[: len(leaders)])
            for question, vector in zip(pending, vectors[len(leaders) :], strict=True):
                if leader_vectors:
                    cosines = np.stack(leader_vectors) @ vector
                    best = int(np.argmax(cosines))
                    if float(cosines[best]) >= GROUP_COSINE:
                        question.group_id = leader_ids[best]
                        continue
                question.group_id = question.id
                leader_ids.append(question.id)
                leader_vectors.append(vector)

    # -- reading -------------------------------------------------------------------------
    def groups(self, *, collect: bool = True) -> list[QuestionGroup]:
        """Return the open groups, the most asked first (then the latest)."""
        if collect:
            self.collect()
        with session_scope(self.engine) as session:
            rows = list(
                session.scalars(
                    select(UnansweredQuestion)
                    .where(UnansweredQuestion.status == OPEN)
                    .order_by(UnansweredQuestion.created_at)
                )
            )
        by_group: dict[str, list[UnansweredQuestion]] = {}
        for row in rows:
            by_group.setdefault(row.group_id or row.id, []).append(row)
        groups = []
        for group_id, members in by_group.items():
            leader = next((m for m in members if m.id == group_id), members[0])
            items = [_view(m) for m in reversed(members)]
            groups.append(
                QuestionGroup(
                    id=group_id,
                    question=leader.question,
                    count=len(members),
                    latest_at=max(i.created_at for i in items),
                    reasons=sorted({m.reason for m in members}),
                    items=items,
                )
            )
        groups.sort(key=lambda g: (-g.count, -g.latest_at.timestamp()))
        return groups

    def group_of(self, group_id: str) -> QuestionGroup:
        """Return one open group, or raise ``LookupError``."""
        for found in self.groups(collect=False):
            if found.id == group_id:
                return found
        raise LookupError("no open question group with this id (already resolved?)")

    # -- resolving -----------------------------------------------------------------------
    def answer(self, group_id: str, question: str, text: str, by: str) -> Resolution:
        """Save an FAQ entry, index it now, re-ask the question and close the group."""
        group = self.group_of(group_id)
        question = _clip(question) or group.question
        text = " ".join(text.split())
        if not text:
            raise ResolveError("write the answer first")
        if len(text) > MAX_ANSWER_CHARS:
            raise ResolveError(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
        entry_id = f"ua-{new_id()[:10]}"
        path = self.content_dir / ANSWERS_FILE
        location = f"{ANSWERS_FILE}#{entry_id}"
        with content_lock(self.data_dir, self.content_dir):
            _append_answer(path, entry_id, question, text)
            report = self.kb.ingest([path])
            if report.files_skipped:
                raise ResolveError(
                    f"{ANSWERS_FILE} could not be indexed: {report.files_skipped[0][1]}"
                )
            added = add_case(cases_path(self.content_dir), EvalCase(question, location))
        answer = self.kb.ask(question)
        resolved = self._close(group, ANSWERED, {"location": location, "question": question}, by)
        logger.info("kb.unanswered.answered group=%s questions=%d", group_id, resolved)
        return Resolution(group_id, ANSWERED, resolved, location, answer, added)

    def link(self, group_id: str, location: str, by: str) -> Resolution:
        """Name the indexed document (or section) that answers the group, and close it."""
        group = self.group_of(group_id)
        location = location.strip()
        source = location.split("#", 1)[0]
        manifest = self.kb.store.manifest()
        if source not in manifest:
            raise ResolveError(f"no indexed source named {source!r}")
        if "#" in location:
            known = {
                str(c.metadata.get("location", ""))
                for c in self.kb.store.iter_chunks(
                    include_documents=False, where={"source": source}
                )
            }
            if location not in known:
                raise ResolveError(f"{source} has no section {location.split('#', 1)[1]!r}")
        with content_lock(self.data_dir, self.content_dir):
            added = add_case(cases_path(self.content_dir), EvalCase(group.question, location))
        answer = self.kb.ask(group.question)
        resolved = self._close(group, LINKED, {"location": location}, by)
        return Resolution(group_id, LINKED, resolved, location, answer, added)

    def dismiss(self, group_id: str, by: str) -> Resolution:
        """Drop the group from the queue (not a real question, spam, out of scope...)."""
        group = self.group_of(group_id)
        resolved = self._close(group, DISMISSED, {}, by)
        return Resolution(group_id, DISMISSED, resolved)

    def _close(self, group: QuestionGroup, status: str, resolution: dict[str, Any], by: str) -> int:
        ids = [item.id for item in group.items]
        with session_scope(self.engine) as session:
            result = session.execute(
                update(UnansweredQuestion)
                .where(UnansweredQuestion.id.in_(ids), UnansweredQuestion.status == OPEN)
                .values(status=status, resolution=resolution, resolved_by=by, resolved_at=utcnow())
            )
            return int(getattr(result, "rowcount", 0) or 0)


def _row(
    reason: str, origin: str, conversation: str, channel: str | None, question: str | None
) -> UnansweredQuestion:
    return UnansweredQuestion(
        id=new_id(),
        conversation_id=conversation,
        channel=(channel or "web")[:32],
        question=_clip(question),
        reason=reason,
        origin_id=str(origin)[:64],
        status=OPEN,
        created_at=utcnow(),
    )


def _view(row: UnansweredQuestion) -> QueuedQuestion:
    return QueuedQuestion(
        row.id, row.conversation_id, row.channel, row.question, row.reason, as_utc(row.created_at)
    )


def _append_answer(path: Path, entry_id: str, question: str, answer: str) -> None:
    """Add a row to the answers FAQ file (``id,question,answer``), creating it when missing."""
    rows: list[dict[str, str]] = []
    if path.exists():
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
        rows = [{k: (v or "") for k, v in row.items() if k} for row in reader]
    rows.append({"id": entry_id, "question": question, "answer": answer})
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=["id", "question", "answer"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, out.getvalue().encode("utf-8"))
