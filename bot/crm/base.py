"""What every delivery target shares: the protocol, typed errors, HTTP outcomes, the payload.

A target (a CRM adapter or a rep notifier) gets a :class:`~core.storage.leads.LeadRecord`
and a :class:`Delivery` (idempotency key, progress of earlier attempts) and returns a
:class:`DeliveryResult` or raises :class:`DeliveryError`: ``retryable`` tells the worker to
try again later (after ``retry_after`` seconds when the service said so); otherwise the entry
goes to the dead letters at once with the reason.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from core.storage.leads import LeadRecord

TRANSCRIPT_PATH = "/admin/leads/{lead_id}"
"""Where staff read a lead and its transcript in the gateway (linked from notifications)."""

RETRYABLE_STATUS = frozenset({408, 409, 423, 425, 429})
"""4xx answers that can succeed later; every 5xx can too. 409 is retried only where a
target does not handle it itself (a concurrent write)."""


class DeliveryError(Exception):
    """A delivery failed; ``retryable`` says whether trying again can succeed."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass
class Delivery:
    """One attempt's context: the idempotency key and the steps done by earlier attempts."""

    idempotency_key: str
    attempt: int
    progress: dict[str, Any] = field(default_factory=dict)
    save_progress: Callable[[dict[str, Any]], None] = lambda _progress: None

    def remember(self, **steps: Any) -> None:
        """Record steps done in the outside system so that a retry skips them."""
        self.progress.update(steps)
        self.save_progress(dict(self.progress))


@dataclass(frozen=True)
class DeliveryResult:
    """A successful delivery: the record's id in the outside system (when it has one)."""

    crm_id: str | None


class DeliveryTarget(Protocol):
    """A CRM adapter or a notifier: delivers one lead."""

    name: str

    def deliver(self, lead: LeadRecord, delivery: Delivery) -> DeliveryResult:
        """Deliver ``lead``; raise :class:`DeliveryError` on failure."""
        ...


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks to wait (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, moment.timestamp() - current)


def _message(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:300]


def raise_for_outcome(response: httpx.Response, service: str) -> None:
    """Raise :class:`DeliveryError` for a non-2xx answer, classified as retryable or not."""
    status = response.status_code
    if 200 <= status < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 401:
        reason = f"{service} refused the credentials (401): check the token"
    elif status == 403:
        reason = f"{service} forbade the request (403): check the token's scopes"
    else:
        reason = f"{service} answered {status}: {_message(response)}"
    retryable = status >= 500 or status in RETRYABLE_STATUS
    raise DeliveryError(reason, retryable=retryable, status_code=status, retry_after=retry_after)


@contextmanager
def transport_errors(service: str) -> Iterator[None]:
    """Turn timeouts and connection failures into retryable :class:`DeliveryError`."""
    try:
        yield
    except httpx.TimeoutException as error:
        raise DeliveryError(
            f"{service} did not answer in time ({type(error).__name__})", retryable=True
        ) from error
    except httpx.TransportError as error:
        raise DeliveryError(
            f"{service} could not be reached ({type(error).__name__})", retryable=True
        ) from error


def transcript_url(base_url: str, lead_id: str) -> str:
    """Return the staff page of a lead and its transcript."""
    return base_url.rstrip("/") + TRANSCRIPT_PATH.format(lead_id=lead_id)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def lead_payload(lead: LeadRecord, base_url: str) -> dict[str, Any]:
    """Return the lead as plain JSON: what the webhook posts and notifiers summarise."""
    return {
        "id": lead.id,
        "contact_id": lead.contact_id,
        "email": lead.email,
        "name": lead.name,
        "company": lead.company,
        "role": lead.role,
        "phone": lead.phone,
        "team_size": lead.team_size,
        "budget": str(lead.budget) if lead.budget is not None else None,
        "currency": lead.currency,
        "timeline": lead.timeline,
        "need": lead.need,
        "products_asked": list(lead.products_asked),
        "score": lead.score,
        "grade": lead.grade,
        "reasons": [{"rule": r.rule, "points": r.points, "detail": r.detail} for r in lead.reasons],
        "contactable": lead.contactable,
        "marketing": lead.marketing,
        "consents": [
            {"purpose": c.purpose, "granted": c.granted, "wording": c.wording, "at": _iso(c.at)}
            for c in lead.consents
        ],
        "quotes": [
            {
                "number": q.number,
                "currency": q.currency,
                "total": str(q.total),
                "valid_until": q.valid_until.isoformat(),
                "url": f"{base_url.rstrip('/')}/quotes/{q.token}",
                "lines": [
                    {"sku": line.sku, "name": line.name, "quantity": line.quantity}
                    for line in q.lines
                ],
            }
            for q in lead.quotes
        ],
        "conversations": [
            {"conversation_id": cid, "channel": channel} for cid, channel in lead.conversations
        ],
        "channel": lead.channel,
        "transcript_url": transcript_url(base_url, lead.id),
        "created_at": _iso(lead.created_at),
        "updated_at": _iso(lead.updated_at),
    }


def summary_lines(lead: LeadRecord, base_url: str) -> list[str]:
    """Return a short plain-text summary for a sales rep (notes and notifications)."""
    who = lead.name or "(no name)"
    lines = [
        f"{lead.grade.upper()} lead: {who}"
        + (f", {lead.role}" if lead.role else "")
        + (f" at {lead.company}" if lead.company else ""),
        f"Email: {lead.email}" + (f"  Phone: {lead.phone}" if lead.phone else ""),
        f"Score {lead.score}/100: " + "; ".join(f"{r.detail} (+{r.points})" for r in lead.reasons),
    ]
    if lead.need:
        lines.append(f"Need: {lead.need}")
    facts = []
    if lead.team_size is not None:
        facts.append(f"team of {lead.team_size}")
    if lead.budget is not None:
        facts.append(f"budget {lead.currency or ''} {lead.budget:,.0f}".replace("  ", " "))
    if lead.timeline:
        facts.append(f"timeline: {lead.timeline}")
    if facts:
        lines.append(", ".join(facts).capitalize())
    if lead.products_asked:
        lines.append("Asked about: " + ", ".join(lead.products_asked))
    for quote in lead.quotes:
        lines.append(
            f"Quote {quote.number}: {quote.currency} {quote.total:,.2f}, valid until "
            f"{quote.valid_until.isoformat()} ({base_url.rstrip('/')}/quotes/{quote.token})"
        )
    lines.append(f"Transcript: {transcript_url(base_url, lead.id)}")
    return lines
