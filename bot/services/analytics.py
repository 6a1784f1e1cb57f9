"""The analytics report: every number computed from the stored events and tables, not sampled.

:func:`analytics_report` reads one date range (whole UTC days, both ends included) and
returns an :class:`AnalyticsReport`; :func:`report_table` turns one of its parts into the
rows of a CSV export. The definitions (what counts as a conversation, a fallback, a wait)
are the ones ``docs/console-analytics.md`` gives managers; keep the two in step.

Sources: ``app_events`` (the app's copy of Rasa's events) for conversations, turns,
fallbacks and response times; ``kb_answers`` and ``kb_feedback``; ``handoffs`` with
``handoff_transitions`` and ``handoff_requests``; ``leads`` with ``contact_conversations``;
``outbox`` with ``delivery_attempts``. Works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    Select,
    String,
    column,
    func,
    select,
    table,
)
from sqlalchemy.orm import Session

from core.storage.handoff import ACTIVE, Handoff, HandoffTransition
from core.storage.models import (
    ConversationLink,
    DeliveryAttempt,
    Feedback,
    HandoffRequest,
    KBAnswer,
    Lead,
    OutboxEntry,
    as_utc,
)

logger = logging.getLogger(__name__)

MAX_RANGE_DAYS = 366
"""The longest range one report covers."""
DEFAULT_RANGE_DAYS = 30
UNKNOWN_CHANNEL = "unknown"
GRADES = ("hot", "warm", "cold")
QUALIFIED_GRADES = frozenset({"hot", "warm"})
FALLBACK_ACTIONS = frozenset(
    {
        "action_default_fallback",
        "action_two_stage_fallback",
        "action_default_ask_affirmation",
        "action_default_ask_rephrase",
    }
)
"""Rasa's fallback actions (``config.yml``'s ``core_fallback_action_name`` and the two-stage
fallback of ``data/rules/fallback.yml``): a turn that runs one was not understood."""
HANDOFF_CUSTOMER_TURN = "handoff_customer_turn"
"""Intent of a customer's message written while a person handles the conversation."""
MAX_RESPONSE = timedelta(hours=1)
"""A reply later than this after the message is not counted as the bot's response."""
CRM_KIND_PREFIX = "crm:"
DELIVERED = "delivered"

app_events = table(
    "app_events",
    column("id", Integer),
    column("conversation_id", String),
    column("channel", String),
    column("type", String),
    column("name", String),
    column("timestamp", DateTime(timezone=True)),
    column("data", JSON),
)
"""The columns of ``app_events`` (migration 0009) this report reads."""


class RangeError(ValueError):
    """The date range asked for cannot be reported (reversed, or longer than a year)."""


@dataclass(frozen=True)
class DateRange:
    """Whole UTC days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def checked(cls, start: date | None, end: date | None, today: date) -> DateRange:
        """Return the range, defaulting to the last 30 days up to ``today``; raise RangeError."""
        end = end or (today if start is None else min(today, start + timedelta(days=29)))
        start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if start > end:
            raise RangeError(f"'from' ({start.isoformat()}) is after 'to' ({end.isoformat()})")
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise RangeError(f"the range may cover at most {MAX_RANGE_DAYS} days")
        return cls(start, end)

    @property
    def since(self) -> datetime:
        """The first moment of the range (UTC)."""
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the range (UTC)."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def days(self) -> list[date]:
        """Every day of the range, in order."""
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- the report's parts (also the JSON API's schema) ------------------------------------------


class DayCount(BaseModel):
    """Conversations that started on one day on one channel."""

    day: date
    channel: str
    conversations: int


class ConversationVolume(BaseModel):
    """Conversations per day by channel."""

    total: int = Field(description="Conversations whose first customer message is in the range")
    channels: list[str] = Field(description="Channels seen in the range, alphabetical")
    by_channel: dict[str, int]
    per_day: list[DayCount] = Field(description="Every day of the range times every channel")


class Containment(BaseModel):
    """Conversations resolved without a person."""

    conversations: int
    handed_to_person: int = Field(description="With a handoff or a request for a person")
    contained: int
    rate: float | None = Field(description="contained / conversations; null without any")


class Answers(BaseModel):
    """How often the knowledge base answered, and how often the bot fell back."""

    kb_questions: int = Field(description="Questions the knowledge base was asked")
    kb_answered: int = Field(description="... that it answered (the rest: 'I don't know')")
    answer_rate: float | None
    user_turns: int = Field(description="Customer messages the bot handled")
    fallback_turns: int = Field(description="... that ran one of Rasa's fallback actions")
    fallback_rate: float | None


class Thumbs(BaseModel):
    """Customers' thumbs on the knowledge base's answers."""

    up: int
    down: int
    total: int
    up_share: float | None


class Handoffs(BaseModel):
    """Handoffs to a person and how long customers waited for one."""

    requested: int = Field(description="Handoffs opened in the range")
    claimed: int = Field(description="... that a person took")
    unclaimed: int
    median_wait_seconds: float | None = Field(
        description="Median time from the handoff to a person taking it (claimed ones only)"
    )


class GradeCount(BaseModel):
    """Leads of one grade."""

    grade: str
    leads: int


class Leads(BaseModel):
    """Leads created in the range, by grade."""

    total: int
    by_grade: list[GradeCount]


class FunnelStage(BaseModel):
    """One stage of the funnel, counted in conversations."""

    stage: str
    conversations: int
    share: float | None = Field(description="Of the conversations at the first stage")


class ResponseTime(BaseModel):
    """How fast the bot answered a customer's message."""

    replies: int = Field(description="Customer messages with a bot reply (measured)")
    median_ms: float | None


class AnalyticsReport(BaseModel):
    """Every number of the analytics page for one range of whole UTC days."""

    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    conversations: ConversationVolume
    containment: Containment
    answers: Answers
    thumbs: Thumbs
    handoffs: Handoffs
    leads: Leads
    funnel: list[FunnelStage]
    response_time: ResponseTime

    model_config = {"populate_by_name": True}


# --- queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Started:
    conversation_id: str
    channel: str
    day: date


def _in_range(when: Any, period: DateRange) -> Any:
    return (when >= period.since) & (when < period.until)


def _first_user_events() -> Select[Any]:
    return (
        select(
            app_events.c.conversation_id.label("conversation_id"),
            func.min(app_events.c.timestamp).label("first_at"),
        )
        .where(app_events.c.type == "user")
        .group_by(app_events.c.conversation_id)
    )


def started_conversations(session: Session, period: DateRange) -> list[_Started]:
    """Conversations whose first customer message falls in the range, with its channel."""
    firsts = _first_user_events().subquery("firsts")
    rows = session.execute(
        select(app_events.c.conversation_id, app_events.c.channel, app_events.c.timestamp)
        .join(
            firsts,
            (firsts.c.conversation_id == app_events.c.conversation_id)
            & (firsts.c.first_at == app_events.c.timestamp),
        )
        .where(app_events.c.type == "user", _in_range(firsts.c.first_at, period))
        .order_by(app_events.c.conversation_id, app_events.c.id)
    )
    found: dict[str, _Started] = {}
    for conversation_id, channel, stamp in rows:
        if conversation_id not in found:
            day = as_utc(stamp).date()
            found[conversation_id] = _Started(conversation_id, channel or UNKNOWN_CHANNEL, day)
    return list(found.values())


def _started_ids(period: DateRange) -> Select[Any]:
    """Select the ids of the conversations that started in the range (for ``IN``)."""
    firsts = _first_user_events().subquery("started")
    return select(firsts.c.conversation_id).where(_in_range(firsts.c.first_at, period))


def conversation_volume(started: Sequence[_Started], period: DateRange) -> ConversationVolume:
    """Count the conversations per day and channel, every day and channel filled in."""
    counts: dict[tuple[date, str], int] = defaultdict(int)
    by_channel: dict[str, int] = defaultdict(int)
    for item in started:
        counts[(item.day, item.channel)] += 1
        by_channel[item.channel] += 1
    channels = sorted(by_channel)
    per_day = [
        DayCount(day=day, channel=channel, conversations=counts[(day, channel)])
        for day in period.days()
        for channel in channels
    ]
    return ConversationVolume(
        total=len(started),
        channels=channels,
        by_channel={channel: by_channel[channel] for channel in channels},
        per_day=per_day,
    )


def containment(session: Session, started: Sequence[_Started], period: DateRange) -> Containment:
    """Conversations with no handoff and no request for a person, of all that started."""
    ids = _started_ids(period)
    handed = set(
        session.scalars(select(Handoff.conversation_id).where(Handoff.conversation_id.in_(ids)))
    )
    handed.update(
        session.scalars(select(HandoffRequest.sender_id).where(HandoffRequest.sender_id.in_(ids)))
    )
    total = len(started)
    person = sum(1 for item in started if item.conversation_id in handed)
    return Containment(
        conversations=total,
        handed_to_person=person,
        contained=total - person,
        rate=_rate(total - person, total),
    )


@dataclass(frozen=True)
class _TurnStats:
    user_turns: int
    fallback_turns: int
    response_ms: list[float]


def _is_person_turn(kind: str, name: str | None, data: Any) -> bool:
    """Whether an event belongs to a person's handling (the gate's turns, agents' replies)."""
    if kind == "user":
        return name == HANDOFF_CUSTOMER_TURN
    metadata = data.get("metadata") if isinstance(data, dict) else None
    return kind == "bot" and isinstance(metadata, dict) and "handoff" in metadata


def turn_stats(session: Session, period: DateRange) -> _TurnStats:
    """Walk each conversation's events: customer turns in the range, fallbacks, reply times.

    A turn is a customer message and what follows it up to the next customer message; its
    response time is the first bot message's timestamp minus the customer's.
    """
    with_turns = (
        select(app_events.c.conversation_id)
        .where(app_events.c.type == "user", _in_range(app_events.c.timestamp, period))
        .distinct()
    )
    rows = session.execute(
        select(
            app_events.c.conversation_id,
            app_events.c.type,
            app_events.c.name,
            app_events.c.timestamp,
            app_events.c.data,
        )
        .where(
            app_events.c.conversation_id.in_(with_turns),
            app_events.c.type.in_(("user", "bot", "action")),
            app_events.c.timestamp >= period.since,
            app_events.c.timestamp < period.until + MAX_RESPONSE,
        )
        .order_by(app_events.c.conversation_id, app_events.c.timestamp, app_events.c.id)
        .execution_options(yield_per=2000)
    )
    user_turns = fallback_turns = 0
    response_ms: list[float] = []
    current: str | None = None
    in_turn = fell_back = False  # a counted customer turn is open; it ran a fallback
    asked_at: datetime | None = None  # the open turn's message, until its first reply
    for conversation_id, kind, name, stamp, data in rows:
        if conversation_id != current:
            current, in_turn, fell_back, asked_at = conversation_id, False, False, None
        at = as_utc(stamp)
        if kind == "user":
            in_turn, fell_back, asked_at = False, False, None
            if _is_person_turn(kind, name, data) or at >= period.until:
                continue
            user_turns += 1
            in_turn, asked_at = True, at
        elif not in_turn:
            continue
        elif kind == "action":
            if name in FALLBACK_ACTIONS and not fell_back:
                fell_back = True
                fallback_turns += 1
        elif asked_at is not None and not _is_person_turn(kind, name, data):
            waited = at - asked_at
            if waited <= MAX_RESPONSE:
                response_ms.append(waited / timedelta(milliseconds=1))
            asked_at = None
    return _TurnStats(user_turns, fallback_turns, response_ms)


def answers(session: Session, period: DateRange, turns: _TurnStats) -> Answers:
    """Count the knowledge base's answers and the bot's fallbacks in the range."""
    questions, answered = session.execute(
        select(func.count(KBAnswer.id), func.count(KBAnswer.answer)).where(
            _in_range(KBAnswer.created_at, period)
        )
    ).one()
    return Answers(
        kb_questions=questions,
        kb_answered=answered,
        answer_rate=_rate(answered, questions),
        user_turns=turns.user_turns,
        fallback_turns=turns.fallback_turns,
        fallback_rate=_rate(turns.fallback_turns, turns.user_turns),
    )


def thumbs(session: Session, period: DateRange) -> Thumbs:
    """Thumbs up and down given in the range."""
    rows = session.execute(
        select(Feedback.rating, func.count(Feedback.id))
        .where(_in_range(Feedback.created_at, period))
        .group_by(Feedback.rating)
    )
    counts: dict[str, int] = {key: count for key, count in rows}
    up, down = counts.get("up", 0), counts.get("down", 0)
    return Thumbs(up=up, down=down, total=up + down, up_share=_rate(up, up + down))


def handoffs(session: Session, period: DateRange) -> Handoffs:
    """Handoffs opened in the range, and the median wait of those a person took."""
    claimed_at = (
        select(
            HandoffTransition.handoff_id.label("handoff_id"),
            func.min(HandoffTransition.at).label("claimed_at"),
        )
        .where(HandoffTransition.to_state == ACTIVE)
        .group_by(HandoffTransition.handoff_id)
        .subquery("claims")
    )
    rows = session.execute(
        select(Handoff.created_at, claimed_at.c.claimed_at)
        .outerjoin(claimed_at, claimed_at.c.handoff_id == Handoff.id)
        .where(_in_range(Handoff.created_at, period))
    ).all()
    waits = [
        (as_utc(claimed) - as_utc(created)).total_seconds()
        for created, claimed in rows
        if claimed is not None
    ]
    return Handoffs(
        requested=len(rows),
        claimed=len(waits),
        unclaimed=len(rows) - len(waits),
        median_wait_seconds=statistics.median(waits) if waits else None,
    )


def leads(session: Session, period: DateRange) -> Leads:
    """Leads created in the range, by grade (hot, warm, cold, then any other)."""
    rows = session.execute(
        select(Lead.grade, func.count(Lead.id))
        .where(_in_range(Lead.created_at, period))
        .group_by(Lead.grade)
    )
    counts: dict[str, int] = {key: count for key, count in rows}
    grades = [*GRADES, *sorted(set(counts) - set(GRADES))]
    return Leads(
        total=sum(counts.values()),
        by_grade=[GradeCount(grade=grade, leads=counts.get(grade, 0)) for grade in grades],
    )


def funnel(session: Session, started: Sequence[_Started], period: DateRange) -> list[FunnelStage]:
    """Conversations that started, left a lead, a qualified lead, a lead delivered to the CRM."""
    ids = _started_ids(period)
    linked = (
        select(ConversationLink.conversation_id, Lead.id, Lead.grade)
        .join(Lead, Lead.contact_id == ConversationLink.contact_id)
        .where(ConversationLink.conversation_id.in_(ids))
    )
    links = session.execute(linked).all()
    delivered = set(
        session.scalars(
            select(OutboxEntry.lead_id)
            .join(DeliveryAttempt, DeliveryAttempt.entry_id == OutboxEntry.id)
            .where(
                OutboxEntry.lead_id.in_(linked.with_only_columns(Lead.id)),
                OutboxEntry.kind.startswith(CRM_KIND_PREFIX, autoescape=True),
                DeliveryAttempt.outcome == DELIVERED,
            )
            .distinct()
        )
    )
    with_lead: set[str] = set()
    qualified: set[str] = set()
    crm: set[str] = set()
    for conversation_id, lead_id, grade in links:
        with_lead.add(conversation_id)
        if grade in QUALIFIED_GRADES:
            qualified.add(conversation_id)
            if lead_id in delivered:
                crm.add(conversation_id)
    total = len(started)
    stages = (
        ("conversation", total),
        ("lead", len(with_lead)),
        ("qualified", len(qualified)),
        ("delivered_to_crm", len(crm)),
    )
    return [FunnelStage(stage=name, conversations=n, share=_rate(n, total)) for name, n in stages]


def response_time(turns: _TurnStats) -> ResponseTime:
    """Return the median time from a customer's message to the bot's first reply."""
    return ResponseTime(
        replies=len(turns.response_ms),
        median_ms=statistics.median(turns.response_ms) if turns.response_ms else None,
    )


def analytics_report(session: Session, period: DateRange) -> AnalyticsReport:
    """Compute every number of the analytics page for ``period`` from one snapshot.

    Call it first in a fresh session: on PostgreSQL the transaction is made REPEATABLE READ
    so that every query sees the same data. On SQLite (the embedded default) each query sees
    what was committed when it runs; a write in between can make two parts differ by it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    started = started_conversations(session, period)
    turns = turn_stats(session, period)
    return AnalyticsReport(
        **{"from": period.start},
        to=period.end,
        conversations=conversation_volume(started, period),
        containment=containment(session, started, period),
        answers=answers(session, period, turns),
        thumbs=thumbs(session, period),
        handoffs=handoffs(session, period),
        leads=leads(session, period),
        funnel=funnel(session, started, period),
        response_time=response_time(turns),
    )


# --- the report as tables (CSV exports) ----------------------------------------------------------

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    """One table of the page: its header and rows."""

    name: str
    header: tuple[str, ...]
    rows: list[Row]


def _tables(report: AnalyticsReport) -> Iterable[Table]:
    c, a, t, h, r = (
        report.containment,
        report.answers,
        report.thumbs,
        report.handoffs,
        report.response_time,
    )
    yield Table(
        "conversations",
        ("day", "channel", "conversations"),
        [(d.day.isoformat(), d.channel, d.conversations) for d in report.conversations.per_day],
    )
    yield Table(
        "containment",
        ("conversations", "handed_to_person", "contained", "containment_rate"),
        [(c.conversations, c.handed_to_person, c.contained, c.rate)],
    )
    yield Table(
        "answers",
        (
            "kb_questions",
            "kb_answered",
            "answer_rate",
            "user_turns",
            "fallback_turns",
            "fallback_rate",
        ),
        [
            (
                a.kb_questions,
                a.kb_answered,
                a.answer_rate,
                a.user_turns,
                a.fallback_turns,
                a.fallback_rate,
            )
        ],
    )
    yield Table(
        "thumbs", ("up", "down", "total", "up_share"), [(t.up, t.down, t.total, t.up_share)]
    )
    yield Table(
        "handoffs",
        ("requested", "claimed", "unclaimed", "median_wait_seconds"),
        [(h.requested, h.claimed, h.unclaimed, h.median_wait_seconds)],
    )
    yield Table("leads", ("grade", "leads"), [(g.grade, g.leads) for g in report.leads.by_grade])
    yield Table(
        "funnel",
        ("stage", "conversations", "share"),
        [(s.stage, s.conversations, s.share) for s in report.funnel],
    )
    yield Table("response_time", ("replies", "median_ms"), [(r.replies, r.median_ms)])


TABLES = (
    "conversations",
    "containment",
    "answers",
    "thumbs",
    "handoffs",
    "leads",
    "funnel",
    "response_time",
)
"""The tables of the page, each exported as ``/api/admin/analytics/<name>.csv``."""


def report_table(report: AnalyticsReport, name: str) -> Table:
    """Return the table ``name`` (one of :data:`TABLES`) of ``report``."""
    for found in _tables(report):
        if found.name == name:
            return found
    raise KeyError(name)
