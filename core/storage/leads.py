"""Leads: capture what a customer told the assistant as one contact, one lead and its deliveries.

:func:`capture_lead` does it all in the caller's transaction: the contact is found or made
by normalised email (one person is one contact, whatever the conversation or channel), the
conversation is linked, the lead (one per contact) is updated with what is new, consents are
appended with their exact wording, the quotes of the conversation are attached, the lead is
scored, and the outbox entries for the configured CRM and (for a hot, contactable lead) the
rep notification are written. Nothing here calls an outside system: the worker delivers.

:func:`lead_records` reads leads back with everything an operator or an adapter needs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.scoring import Score, ScoreReason, ScoringRules, score_lead
from core.storage.models import (
    Consent,
    Contact,
    ConversationLink,
    Lead,
    OutboxEntry,
    Quote,
    as_utc,
    utcnow,
)
from core.storage.outbox import enqueue, entries_for_leads
from core.storage.quotes import StoredQuote, to_stored

if TYPE_CHECKING:
    from core.config import Settings

CONTACT = "contact"
MARKETING = "marketing"
CONSENT_PURPOSES = frozenset({CONTACT, MARKETING})
SPEAKERS = frozenset({"customer", "bot", "agent"})
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class LeadError(ValueError):
    """The lead's details cannot be stored (no valid email, an unknown consent purpose)."""


@dataclass(frozen=True)
class ConsentAnswer:
    """A customer's answer to one consent question, as it was asked."""

    purpose: str
    """``contact`` or ``marketing``."""
    granted: bool
    wording: str
    """The exact question the customer answered."""
    at: datetime


@dataclass(frozen=True)
class LeadDetails:
    """What a conversation learnt about a prospective customer."""

    conversation_id: str
    channel: str
    email: str
    name: str | None = None
    company: str | None = None
    role: str | None = None
    phone: str | None = None
    team_size: int | None = None
    budget: Decimal | None = None
    currency: str | None = None
    timeline: str | None = None
    need: str | None = None
    products_asked: tuple[str, ...] = ()
    """Product slugs the customer asked about."""
    quote_numbers: tuple[str, ...] = ()
    """Quotes made in this conversation."""
    consents: tuple[ConsentAnswer, ...] = ()
    transcript: tuple[tuple[str, str], ...] = ()
    """(speaker ``customer``/``bot``/``agent``, text)."""


@dataclass(frozen=True)
class CapturedLead:
    """The outcome of :func:`capture_lead`."""

    lead_id: str
    contact_id: str
    score: int
    grade: str
    """``hot``, ``warm`` or ``cold``."""
    reasons: tuple[ScoreReason, ...]
    created: bool
    """False when an existing contact (same normalised email) was updated."""
    contactable: bool
    """Whether the contact consent is granted (its latest answer)."""
    enqueued: tuple[str, ...]
    """Outbox kinds written or re-armed, e.g. ``("crm:builtin", "notify:telegram")``."""


@dataclass(frozen=True)
class DeliveryStatus:
    """Where one delivery of a lead stands."""

    kind: str
    adapter: str
    status: str
    attempts: int
    crm_id: str | None
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class LeadRecord:
    """A stored lead with its contact, consents, quotes and deliveries."""

    id: str
    contact_id: str
    email: str
    name: str | None
    company: str | None
    role: str | None
    phone: str | None
    team_size: int | None
    budget: Decimal | None
    currency: str | None
    timeline: str | None
    need: str | None
    products_asked: tuple[str, ...]
    score: int
    grade: str
    reasons: tuple[ScoreReason, ...]
    contactable: bool
    marketing: bool
    consents: tuple[ConsentAnswer, ...]
    quotes: tuple[StoredQuote, ...]
    conversations: tuple[tuple[str, str], ...]
    """(conversation id, channel), oldest first."""
    conversation_id: str
    channel: str
    transcript: tuple[tuple[str, str], ...]
    deliveries: tuple[DeliveryStatus, ...]
    created_at: datetime
    updated_at: datetime


def normalize_email(email: str) -> str:
    """Return the form emails are compared in: trimmed and lower-case."""
    return email.strip().lower()


def _check(details: LeadDetails) -> str:
    email = normalize_email(details.email)
    if not EMAIL_PATTERN.match(email):
        raise LeadError("the lead's email is not a valid address")
    for consent in details.consents:
        if consent.purpose not in CONSENT_PURPOSES:
            raise LeadError(f"unknown consent purpose {consent.purpose!r}")
        if not consent.wording.strip():
            raise LeadError("a consent must keep the wording of its question")
    for speaker, _text in details.transcript:
        if speaker not in SPEAKERS:
            raise LeadError(f"unknown transcript speaker {speaker!r}")
    return email


def _get_or_create_contact(session: Session, email: str, shown: str) -> tuple[Contact, bool]:
    query = select(Contact).where(Contact.email_normalized == email).with_for_update()
    contact = session.scalar(query)
    if contact is not None:
        return contact, False
    try:
        with session.begin_nested():
            contact = Contact(email_normalized=email, email=shown.strip())
            session.add(contact)
        return contact, True
    except IntegrityError:  # the same person, captured at the same moment elsewhere
        found = session.scalar(query)
        assert found is not None
        return found, False


def _get_or_create_lead(session: Session, contact: Contact, details: LeadDetails) -> Lead:
    query = select(Lead).where(Lead.contact_id == contact.id).with_for_update()
    lead = session.scalar(query)
    if lead is not None:
        return lead
    try:
        with session.begin_nested():
            lead = Lead(
                contact_id=contact.id,
                conversation_id=details.conversation_id,
                channel=details.channel,
                products_asked=[],
                reasons=[],
                transcript=[],
            )
            session.add(lead)
        return lead
    except IntegrityError:
        found = session.scalar(query)
        assert found is not None
        return found


def _link(session: Session, contact: Contact, details: LeadDetails) -> None:
    exists = session.scalar(
        select(ConversationLink.id).where(
            ConversationLink.contact_id == contact.id,
            ConversationLink.conversation_id == details.conversation_id,
        )
    )
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                ConversationLink(
                    contact_id=contact.id,
                    conversation_id=details.conversation_id,
                    channel=details.channel,
                )
            )
    except IntegrityError:
        pass  # linked at the same moment by another capture


def _merge(contact: Contact, lead: Lead, details: LeadDetails) -> None:
    """Copy what ``details`` knows onto the rows; an unknown answer keeps the earlier one."""
    now = utcnow()
    for name in ("name", "company", "role", "phone"):
        value = getattr(details, name)
        if value is not None and str(value).strip():
            setattr(contact, name, str(value).strip())
    contact.email = details.email.strip()
    contact.updated_at = now
    lead.conversation_id = details.conversation_id
    lead.channel = details.channel
    if details.team_size is not None:
        lead.team_size = details.team_size
    if details.budget is not None:
        lead.budget = str(details.budget)
        lead.currency = details.currency
    elif details.currency is not None and lead.currency is None:
        lead.currency = details.currency
    for name in ("timeline", "need"):
        value = getattr(details, name)
        if value is not None and value.strip():
            setattr(lead, name, value.strip())
    asked = list(lead.products_asked or [])
    asked += [slug for slug in details.products_asked if slug not in asked]
    lead.products_asked = asked
    if details.transcript:
        lead.transcript = [[speaker, text] for speaker, text in details.transcript]
    lead.updated_at = now


def _attach_quotes(session: Session, lead: Lead, details: LeadDetails) -> list[Quote]:
    conditions = [Quote.conversation_id == details.conversation_id]
    if details.quote_numbers:
        conditions.append(Quote.number.in_(details.quote_numbers))

    for quote in session.scalars(select(Quote).where(or_(*conditions))):
        quote.lead_id = lead.id
    session.flush()
    return list(
        session.scalars(select(Quote).where(Quote.lead_id == lead.id).order_by(Quote.number))
    )


def _consents(session: Session, lead: Lead, contact: Contact, details: LeadDetails) -> None:
    for answer in details.consents:
        session.add(
            Consent(
                contact_id=contact.id,
                lead_id=lead.id,
                conversation_id=details.conversation_id,
                channel=details.channel,
                purpose=answer.purpose,
                granted=answer.granted,
                wording=answer.wording,
                answered_at=as_utc(answer.at),
            )
        )
    session.flush()


def _latest_consent(session: Session, contact_id: str, purpose: str) -> bool:
    granted = session.scalar(
        select(Consent.granted)
        .where(Consent.contact_id == contact_id, Consent.purpose == purpose)
        .order_by(Consent.answered_at.desc(), Consent.created_at.desc())
        .limit(1)
    )
    return bool(granted)


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _scored(contact: Contact, lead: Lead, quotes: Sequence[Quote], rules: ScoringRules) -> Score:
    merged = LeadDetails(
        conversation_id=lead.conversation_id,
        channel=lead.channel,
        email=contact.email,
        name=contact.name,
        company=contact.company,
        role=contact.role,
        team_size=lead.team_size,
        budget=_decimal(lead.budget),
        currency=lead.currency,
        timeline=lead.timeline,
        need=lead.need,
        products_asked=tuple(lead.products_asked or ()),
        quote_numbers=tuple(quote.number for quote in quotes),
    )
    return score_lead(merged, rules)


def outbox_kinds(settings: Settings, *, grade: str, contactable: bool) -> list[str]:
    """Return the deliveries a lead owes: the CRM, and a rep notification when hot."""
    kinds: list[str] = []
    if settings.crm == "builtin" or contactable:
        kinds.append(f"crm:{settings.crm}")
    if grade == "hot" and contactable:
        kinds += [f"notify:{channel}" for channel in settings.notify_channels]
    return kinds


def capture_lead(
    session: Session, details: LeadDetails, settings: Settings, rules: ScoringRules
) -> CapturedLead:
    """Store what the conversation learnt as one contact's lead and owe its deliveries.

    Runs in the caller's transaction (``with session_scope(engine) as session``): the
    contact, the lead, the consents, the quote links and the outbox entries commit together.
    """
    email = _check(details)
    contact, created = _get_or_create_contact(session, email, details.email)
    _link(session, contact, details)
    lead = _get_or_create_lead(session, contact, details)
    _merge(contact, lead, details)
    session.flush()
    _consents(session, lead, contact, details)
    quotes = _attach_quotes(session, lead, details)
    score = _scored(contact, lead, quotes, rules)
    lead.score = score.value
    lead.grade = score.grade
    lead.reasons = [dataclasses.asdict(reason) for reason in score.reasons]
    lead.contactable = _latest_consent(session, contact.id, CONTACT)
    session.flush()
    enqueued = tuple(
        kind
        for kind in outbox_kinds(settings, grade=score.grade, contactable=lead.contactable)
        if enqueue(session, lead.id, kind, again=kind.startswith("crm:"))
    )
    return CapturedLead(
        lead_id=lead.id,
        contact_id=contact.id,
        score=score.value,
        grade=score.grade,
        reasons=score.reasons,
        created=created,
        contactable=lead.contactable,
        enqueued=enqueued,
    )


def _delivery(entry: OutboxEntry) -> DeliveryStatus:
    return DeliveryStatus(
        kind=entry.kind,
        adapter=entry.kind.split(":", 1)[1],
        status=entry.status,
        attempts=entry.attempts,
        crm_id=entry.crm_id,
        last_error=entry.last_error,
        next_attempt_at=as_utc(entry.next_attempt_at),
        delivered_at=as_utc(entry.delivered_at) if entry.delivered_at else None,
    )


def lead_records(session: Session, lead_ids: Sequence[str] | None = None) -> list[LeadRecord]:
    """Return the leads (all, or those of ``lead_ids``), newest first, with all they carry."""
    query = select(Lead, Contact).join(Contact, Contact.id == Lead.contact_id)
    if lead_ids is not None:
        query = query.where(Lead.id.in_(lead_ids))
    rows = session.execute(query.order_by(Lead.created_at.desc(), Lead.id)).all()
    ids = [lead.id for lead, _contact in rows]
    contact_ids = [contact.id for _lead, contact in rows]
    consents: dict[str, list[Consent]] = {}
    links: dict[str, list[ConversationLink]] = {}
    quotes: dict[str, list[Quote]] = {}
    deliveries: dict[str, list[OutboxEntry]] = {}
    if ids:
        for consent in session.scalars(
            select(Consent)
            .where(Consent.contact_id.in_(contact_ids))
            .order_by(Consent.answered_at, Consent.created_at)
        ):
            consents.setdefault(consent.contact_id, []).append(consent)
        for link in session.scalars(
            select(ConversationLink)
            .where(ConversationLink.contact_id.in_(contact_ids))
            .order_by(ConversationLink.created_at)
        ):
            links.setdefault(link.contact_id, []).append(link)
        for quote in session.scalars(
            select(Quote).where(Quote.lead_id.in_(ids)).order_by(Quote.number)
        ):
            quotes.setdefault(quote.lead_id or "", []).append(quote)
        for entry in entries_for_leads(session, ids):
            deliveries.setdefault(entry.lead_id, []).append(entry)
    records = []
    for lead, contact in rows:
        answers = tuple(
            ConsentAnswer(c.purpose, c.granted, c.wording, as_utc(c.answered_at))
            for c in consents.get(contact.id, [])
        )
        marketing = [a.granted for a in answers if a.purpose == MARKETING]
        records.append(
            LeadRecord(
                id=lead.id,
                contact_id=contact.id,
                email=contact.email,
                name=contact.name,
                company=contact.company,
                role=contact.role,
                phone=contact.phone,
                team_size=lead.team_size,
                budget=_decimal(lead.budget),
                currency=lead.currency,
                timeline=lead.timeline,
                need=lead.need,
                products_asked=tuple(lead.products_asked or ()),
                score=lead.score,
                grade=lead.grade,
                reasons=tuple(ScoreReason(**reason) for reason in lead.reasons or ()),
                contactable=lead.contactable,
                marketing=bool(marketing and marketing[-1]),
                consents=answers,
                quotes=tuple(to_stored(q) for q in quotes.get(lead.id, [])),
                conversations=tuple(
                    (link.conversation_id, link.channel) for link in links.get(contact.id, [])
                ),
                conversation_id=lead.conversation_id,
                channel=lead.channel,
                transcript=tuple((s, t) for s, t in lead.transcript or ()),
                deliveries=tuple(_delivery(e) for e in deliveries.get(lead.id, [])),
                created_at=as_utc(lead.created_at),
                updated_at=as_utc(lead.updated_at),
            )
        )
    return records


def lead_record(session: Session, lead_id: str) -> LeadRecord | None:
    """Return one lead with all it carries, or None."""
    found = lead_records(session, [lead_id])
    return found[0] if found else None
