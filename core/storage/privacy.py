"""Data rights: the record of each export and erasure, and a customer's consent withdrawal.

A :class:`PrivacyRequest` row says that a person's data was exported or erased, by whom,
when, and how many rows each store gave up, without the person's data: the subject is a
keyed hash of the normalised email (:func:`subject_ref`), so a later request for the same
person finds the earlier ones while the table itself names nobody.

:func:`withdraw_consent` records a customer's "stop contacting me": a refused consent for
contact and for marketing with the wording shown and the time, the lead no longer
contactable, rep notifications not yet sent cancelled, and the CRM delivery re-armed so that
a CRM that already has the lead receives the opt-out (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.storage.models import (
    Base,
    Consent,
    ContactRequest,
    ConversationLink,
    Lead,
    OutboxEntry,
    as_utc,
    new_id,
    utcnow,
)
from core.storage.outbox import DEAD, DELIVERED, IN_FLIGHT, PENDING, enqueue

EXPORT = "export"
ERASE = "erase"
DONE = "done"
PARTIAL = "partial"
"""An erasure whose databases are erased but a CRM call failed (a later run retries it)."""
WITHDRAWN_PURPOSES = ("contact", "marketing")
CANCELLED_BY_WITHDRAWAL = "cancelled: the customer withdrew consent"


class PrivacyRequest(Base):
    """One export or erasure of a person's data: who asked, when, rows per store, outcome."""

    __tablename__ = "privacy_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    """``export`` or ``erase``."""
    subject_ref: Mapped[str] = mapped_column(String(64), index=True)
    """HMAC-SHA256 of the normalised email with the deployment's key (hex), never the email."""
    requested_by: Mapped[str] = mapped_column(String(320))
    """The staff member's email, or ``cli``."""
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Rows per store and table, CRM outcomes, and CRM erasures still owed (opaque ids)."""
    status: Mapped[str] = mapped_column(String(16))
    """``done`` or ``partial`` (a CRM call failed; ``erase`` again retries it)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def normalize_subject(email: str) -> str:
    """Return the form a subject's email is compared in: trimmed and lower-case."""
    return email.strip().lower()


def subject_ref(key: bytes, email: str) -> str:
    """Return the keyed hash that stands for the person in ``privacy_requests``."""
    return hmac.new(key, normalize_subject(email).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Withdrawal:
    """What a consent withdrawal changed."""

    contact_found: bool
    consents_recorded: int
    cancelled: int
    """Rep notifications and first CRM deliveries that will no longer be sent."""
    rearmed: int
    """CRM deliveries sent again so that the CRM records the opt-out."""
    contact_requests: int
    """Follow-up requests (an email left without a lead) marked as withdrawn."""


def _contact_of(session: Session, conversation_id: str) -> tuple[str, str] | None:
    """Return (contact id, lead id) of the person in a conversation, or None."""
    lead = session.scalar(
        select(Lead)
        .where(Lead.conversation_id == conversation_id)
        .order_by(Lead.updated_at.desc())
        .limit(1)
    )
    if lead is None:
        contact_id = session.scalar(
            select(ConversationLink.contact_id)
            .where(ConversationLink.conversation_id == conversation_id)
            .order_by(ConversationLink.created_at.desc())
            .limit(1)
        )
        if contact_id is None:
            return None
        lead = session.scalar(select(Lead).where(Lead.contact_id == contact_id))
        if lead is None:
            return None
    return lead.contact_id, lead.id


def withdraw_consent(
    session: Session,
    conversation_id: str,
    channel: str,
    wording: str,
    at: datetime,
) -> Withdrawal:
    """Record that the customer of ``conversation_id`` withdrew consent (caller's transaction).

    ``wording`` is the confirmation the customer was shown, kept with each consent row.
    Pending rep notifications are cancelled; a CRM delivery not yet made to an outside CRM
    is cancelled (the lead is no longer contactable, so it is not sent); a CRM delivery
    already made is re-armed so the CRM gets the update with the opt-out.
    """
    if not wording.strip():
        raise ValueError("a consent withdrawal must keep the wording shown to the customer")
    now = utcnow()
    requests = 0
    for request in session.scalars(
        select(ContactRequest).where(ContactRequest.sender_id == conversation_id)
    ):
        request.details = {
            **(request.details or {}),
            "consent_withdrawn_at": as_utc(at).isoformat(),
        }
        requests += 1
    found = _contact_of(session, conversation_id)
    if found is None:
        session.flush()
        return Withdrawal(False, 0, 0, 0, requests)
    contact_id, lead_id = found
    for purpose in WITHDRAWN_PURPOSES:
        session.add(
            Consent(
                contact_id=contact_id,
                lead_id=lead_id,
                conversation_id=conversation_id,
                channel=channel,
                purpose=purpose,
                granted=False,
                wording=wording,
                answered_at=as_utc(at),
            )
        )
    session.execute(
        update(Lead)
        .where(Lead.id == lead_id)
        .values(contactable=False, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    cancelled = rearmed = 0
    entries = session.scalars(
        select(OutboxEntry).where(OutboxEntry.lead_id == lead_id).with_for_update()
    ).all()
    for entry in entries:
        outside_crm = entry.kind.startswith("crm:") and entry.kind != "crm:builtin"
        reached_crm = entry.crm_id is not None or entry.status in (DELIVERED, IN_FLIGHT)
        if entry.kind.startswith("notify:") or (outside_crm and not reached_crm):
            if entry.status == PENDING:
                entry.status = DEAD
                entry.last_error = CANCELLED_BY_WITHDRAWAL
                entry.updated_at = now
                cancelled += 1
        elif outside_crm and enqueue(session, lead_id, entry.kind, again=True):
            rearmed += 1  # the CRM already has the lead: send it the opt-out
    session.flush()
    return Withdrawal(True, len(WITHDRAWN_PURPOSES), cancelled, rearmed, requests)


def withheld_by_consent(
    kind: str, *, contactable: bool, crm_id: str | None, progress: dict[str, Any]
) -> str | None:
    """Return why a delivery must not go out under the lead's latest consent, or None.

    A lead whose latest contact consent is a refusal gets no rep notification and no first
    delivery to an outside CRM (a re-armed or retried entry included); a CRM that already
    has the lead still gets its updates, which carry the opt-out.
    """
    if contactable:
        return None
    if kind.startswith("notify:"):
        return CANCELLED_BY_WITHDRAWAL
    outside_crm = kind.startswith("crm:") and kind != "crm:builtin"
    if outside_crm and crm_id is None and not progress:
        return CANCELLED_BY_WITHDRAWAL
    return None


def earlier_requests(session: Session, ref: str, kind: str = ERASE) -> list[PrivacyRequest]:
    """Return the earlier requests of ``kind`` for the subject ``ref``, oldest first."""
    return list(
        session.scalars(
            select(PrivacyRequest)
            .where(PrivacyRequest.subject_ref == ref, PrivacyRequest.kind == kind)
            .order_by(PrivacyRequest.created_at, PrivacyRequest.id)
        )
    )


def count_requests(session: Session) -> dict[str, int]:
    """Return how many requests of each kind were recorded."""
    rows = session.execute(
        select(PrivacyRequest.kind, func.count()).group_by(PrivacyRequest.kind)
    ).all()
    return {str(kind): int(n) for kind, n in rows}
