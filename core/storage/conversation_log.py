"""Conversations as the console lists and shows them, read from ``app_events`` and app tables.

A conversation is every ``app_events`` row of one conversation id. Its outcome is ``lead``
when a lead was captured in it, else ``handed_off`` when a person was asked for, else
``resolved_by_bot``. Nothing here reads Rasa's tracker store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, case, func, or_, select, union
from sqlalchemy.orm import Session

from core.storage.app_events import AppEvent
from core.storage.handoff import Handoff, HandoffTransition
from core.storage.models import Contact, ConversationLink, Feedback, Lead, as_utc

Outcome = Literal["lead", "handed_off", "resolved_by_bot"]
OUTCOMES: tuple[Outcome, ...] = ("resolved_by_bot", "handed_off", "lead")


@dataclass(frozen=True)
class ConversationFilter:
    """What the list is narrowed to; ``None`` fields do not narrow."""

    text: str | None = None
    """Part of the conversation id or of any message in it (case-insensitive)."""
    channel: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    """Last activity at or after this moment."""
    until: datetime | None = None
    """Last activity before this moment."""
    leads_only: bool = False
    """Only conversations with a lead (what the ``sales`` role sees)."""


@dataclass(frozen=True)
class ConversationSummary:
    """One row of the list."""

    conversation_id: str
    channel: str | None
    started_at: datetime
    last_at: datetime
    customer_messages: int
    first_message: str | None
    outcome: Outcome
    handed_off: bool
    lead_id: str | None


@dataclass(frozen=True)
class Turn:
    """One message of the transcript."""

    role: Literal["customer", "bot", "agent"]
    text: str
    at: datetime
    intent: str | None = None
    confidence: float | None = None
    agent: str | None = None


@dataclass(frozen=True)
class FeedbackItem:
    """A customer's rating of an answer in the conversation."""

    rating: str
    comment: str | None
    question: str
    answer: str | None
    at: datetime


@dataclass(frozen=True)
class TransitionItem:
    """One change of a handoff's state."""

    from_state: str | None
    to_state: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class HandoffItem:
    """One handoff of the conversation with its transitions."""

    id: str
    state: str
    reason: str
    summary: str | None
    agent_email: str | None
    created_at: datetime
    transitions: tuple[TransitionItem, ...]


@dataclass(frozen=True)
class LeadRef:
    """The lead captured in a conversation, and what masking needs of its contact."""

    id: str
    grade: str
    score: int
    name: str | None
    email: str
    phone: str | None


@dataclass(frozen=True)
class ConversationDetail:
    """One conversation in full."""

    summary: ConversationSummary
    transcript: tuple[Turn, ...]
    feedback: tuple[FeedbackItem, ...]
    handoffs: tuple[HandoffItem, ...]
    lead: LeadRef | None
    names: tuple[str, ...]
    """People's names the conversation carries (:func:`known_names`), for masking."""


NAME_SLOTS = ("person_name",)
"""Slots whose values are a person's name."""


def _lead_conversations() -> Any:
    return union(
        select(Lead.conversation_id.label("conversation_id")),
        select(ConversationLink.conversation_id.label("conversation_id")),
    ).subquery()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _summaries_query(where: ConversationFilter) -> Select[*tuple[Any, ...]]:
    leads = _lead_conversations()
    handoffs = select(Handoff.conversation_id).distinct()
    grouped: Select[*tuple[Any, ...]] = select(
        AppEvent.conversation_id.label("conversation_id"),
        func.max(AppEvent.channel).label("channel"),
        func.min(AppEvent.timestamp).label("started_at"),
        func.max(AppEvent.timestamp).label("last_at"),
        func.sum(case((AppEvent.type == "user", 1), else_=0)).label("customer_messages"),
        func.min(case((AppEvent.type == "user", AppEvent.id), else_=None)).label("first_user"),
    ).group_by(AppEvent.conversation_id)
    if where.text:
        pattern = f"%{_escape_like(where.text.lower())}%"
        matching = select(AppEvent.conversation_id).where(
            func.lower(AppEvent.text).like(pattern, escape="\\")
        )
        grouped = grouped.having(
            or_(
                func.lower(AppEvent.conversation_id).like(pattern, escape="\\"),
                AppEvent.conversation_id.in_(matching),
            )
        )
    if where.channel:
        grouped = grouped.having(func.max(AppEvent.channel) == where.channel)
    if where.since is not None:
        grouped = grouped.having(func.max(AppEvent.timestamp) >= where.since)
    if where.until is not None:
        grouped = grouped.having(func.max(AppEvent.timestamp) < where.until)
    if where.leads_only or where.outcome == "lead":
        grouped = grouped.having(AppEvent.conversation_id.in_(select(leads.c.conversation_id)))
    elif where.outcome is not None:
        grouped = grouped.having(AppEvent.conversation_id.not_in(select(leads.c.conversation_id)))
        if where.outcome == "handed_off":
            grouped = grouped.having(AppEvent.conversation_id.in_(handoffs))
        else:
            grouped = grouped.having(AppEvent.conversation_id.not_in(handoffs))
    return grouped


def _lead_ids(session: Session, conversation_ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    if not conversation_ids:
        return found
    for conversation_id, lead_id in session.execute(
        select(ConversationLink.conversation_id, Lead.id)
        .join(Lead, Lead.contact_id == ConversationLink.contact_id)
        .where(ConversationLink.conversation_id.in_(conversation_ids))
    ):
        found[conversation_id] = lead_id
    for conversation_id, lead_id in session.execute(
        select(Lead.conversation_id, Lead.id).where(Lead.conversation_id.in_(conversation_ids))
    ):
        found[conversation_id] = lead_id
    return found


def _handed_off(session: Session, conversation_ids: list[str]) -> set[str]:
    if not conversation_ids:
        return set()
    return set(
        session.scalars(
            select(Handoff.conversation_id).where(Handoff.conversation_id.in_(conversation_ids))
        )
    )


def _outcome(lead_id: str | None, handed_off: bool) -> Outcome:
    if lead_id is not None:
        return "lead"
    return "handed_off" if handed_off else "resolved_by_bot"


def _summaries(session: Session, rows: list[Any]) -> list[ConversationSummary]:
    ids = [row.conversation_id for row in rows]
    leads = _lead_ids(session, ids)
    handed = _handed_off(session, ids)
    firsts = [row.first_user for row in rows if row.first_user is not None]
    texts: dict[int, str | None] = {}
    if firsts:
        query = select(AppEvent.id, AppEvent.text).where(AppEvent.id.in_(firsts))
        for event_id, text in session.execute(query):
            texts[event_id] = text
    return [
        ConversationSummary(
            conversation_id=row.conversation_id,
            channel=row.channel,
            started_at=as_utc(row.started_at),
            last_at=as_utc(row.last_at),
            customer_messages=int(row.customer_messages or 0),
            first_message=texts.get(row.first_user),
            outcome=_outcome(leads.get(row.conversation_id), row.conversation_id in handed),
            handed_off=row.conversation_id in handed,
            lead_id=leads.get(row.conversation_id),
        )
        for row in rows
    ]


def list_conversations(
    session: Session, where: ConversationFilter, *, offset: int = 0, limit: int = 25
) -> tuple[int, list[ConversationSummary]]:
    """Return how many conversations match ``where`` and one page of them, latest first."""
    grouped = _summaries_query(where).subquery()
    total = session.scalar(select(func.count()).select_from(grouped)) or 0
    rows = session.execute(
        select(grouped)
        .order_by(grouped.c.last_at.desc(), grouped.c.conversation_id)
        .offset(offset)
        .limit(limit)
    ).all()
    return int(total), _summaries(session, list(rows))


def channels(session: Session) -> list[str]:
    """Return the channels conversations came through (for the list's filter)."""
    found = session.scalars(
        select(AppEvent.channel).where(AppEvent.channel.is_not(None)).distinct()
    )
    return sorted(channel for channel in found if channel)


def _turn(event: AppEvent) -> Turn | None:
    if event.type not in ("user", "bot") or not event.text:
        return None
    at = as_utc(event.timestamp)
    if event.type == "user":
        return Turn("customer", event.text, at, intent=event.name, confidence=event.confidence)
    metadata = event.data.get("metadata") if isinstance(event.data, dict) else None
    agent = metadata.get("agent") if isinstance(metadata, dict) else None
    if agent:
        return Turn("agent", event.text, at, agent=str(agent))
    return Turn("bot", event.text, at)


def _handoffs(session: Session, conversation_id: str) -> tuple[HandoffItem, ...]:
    handoffs = list(
        session.scalars(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.created_at)
        )
    )
    transitions: dict[str, list[TransitionItem]] = {}
    if handoffs:
        for row in session.scalars(
            select(HandoffTransition)
            .where(HandoffTransition.handoff_id.in_([h.id for h in handoffs]))
            .order_by(HandoffTransition.at, HandoffTransition.id)
        ):
            transitions.setdefault(row.handoff_id, []).append(
                TransitionItem(row.from_state, row.to_state, row.actor, as_utc(row.at))
            )
    return tuple(
        HandoffItem(
            id=h.id,
            state=h.state,
            reason=h.reason,
            summary=h.summary,
            agent_email=h.agent_email,
            created_at=as_utc(h.created_at),
            transitions=tuple(transitions.get(h.id, [])),
        )
        for h in handoffs
    )


def _lead(session: Session, lead_id: str | None) -> LeadRef | None:
    if lead_id is None:
        return None
    row = session.execute(
        select(Lead, Contact).join(Contact, Contact.id == Lead.contact_id).where(Lead.id == lead_id)
    ).first()
    if row is None:
        return None
    lead, contact = row
    return LeadRef(lead.id, lead.grade, lead.score, contact.name, contact.email, contact.phone)


def conversation_detail(session: Session, conversation_id: str) -> ConversationDetail | None:
    """Return one conversation in full, or None when no event of it was recorded."""
    grouped = _summaries_query(ConversationFilter()).where(
        AppEvent.conversation_id == conversation_id
    )
    row = session.execute(grouped).first()
    if row is None:
        return None
    summary = _summaries(session, [row])[0]
    events = list(
        session.scalars(
            select(AppEvent)
            .where(AppEvent.conversation_id == conversation_id)
            .order_by(AppEvent.id)
        )
    )
    feedback = tuple(
        FeedbackItem(f.rating, f.comment, f.question, f.answer, as_utc(f.created_at))
        for f in session.scalars(
            select(Feedback)
            .where(Feedback.sender_id == conversation_id)
            .order_by(Feedback.created_at)
        )
    )
    return ConversationDetail(
        summary=summary,
        transcript=tuple(turn for turn in (_turn(e) for e in events) if turn is not None),
        feedback=feedback,
        handoffs=_handoffs(session, conversation_id),
        lead=_lead(session, summary.lead_id),
        names=tuple(known_names(session, [conversation_id])[conversation_id]),
    )


def known_names(session: Session, conversation_ids: list[str]) -> dict[str, list[str]]:
    """Return the people's names each conversation is known to carry, for masking.

    The names of the contacts linked to it and of its lead's contact, and the values its
    name slots (``person_name``) took.
    """
    found: dict[str, list[str]] = {cid: [] for cid in conversation_ids}
    if not conversation_ids:
        return found

    def add(conversation_id: str, name: object) -> None:
        if isinstance(name, str) and name.strip() and name.strip() not in found[conversation_id]:
            found[conversation_id].append(name.strip())

    for conversation_id, name in session.execute(
        select(ConversationLink.conversation_id, Contact.name)
        .join(Contact, Contact.id == ConversationLink.contact_id)
        .where(ConversationLink.conversation_id.in_(conversation_ids))
    ):
        add(conversation_id, name)
    for conversation_id, name in session.execute(
        select(Lead.conversation_id, Contact.name)
        .join(Contact, Contact.id == Lead.contact_id)
        .where(Lead.conversation_id.in_(conversation_ids))
    ):
        add(conversation_id, name)
    for conversation_id, data in session.execute(
        select(AppEvent.conversation_id, AppEvent.data).where(
            AppEvent.conversation_id.in_(conversation_ids),
            AppEvent.type == "slot",
            AppEvent.name.in_(NAME_SLOTS),
        )
    ):
        add(conversation_id, data.get("value") if isinstance(data, dict) else None)
    return found
