"""The webhook CRM: the lead as JSON, POSTed and signed, to ``CONCIERGE_CRM_WEBHOOK_URL``.

Headers: ``X-Concierge-Timestamp`` (Unix seconds), ``X-Concierge-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` and ``Idempotency-Key`` (the same
for every attempt of one delivery, so the receiver can drop repeats). Any 2xx is success; a
JSON answer's ``id`` becomes the lead's CRM id.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bot.crm.base import (
    Delivery,
    DeliveryError,
    DeliveryResult,
    lead_payload,
    raise_for_outcome,
    transport_errors,
)
from bot.crm.erasure import ERASED, CRMRecord
from bot.crm.signing import signed_headers
from core.storage.leads import LeadRecord

ERASED_EVENT = "lead.erased"


class WebhookCRM:
    """POST each lead, signed, to one URL (``CONCIERGE_CRM=webhook``)."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        client: httpx.Client,
        base_url: str,
        event: str = "lead.upserted",
    ) -> None:
        """Send to ``url``, signing with ``secret``; ``base_url`` builds quote and lead links."""
        self.url = url
        self.secret = secret
        self.client = client
        self.base_url = base_url
        self.event = event

    def body(self, lead: LeadRecord, delivery: Delivery) -> bytes:
        """Return the raw JSON body of the request (exactly the bytes that are signed)."""
        document: dict[str, Any] = {
            "event": self.event,
            "idempotency_key": delivery.idempotency_key,
            "lead": lead_payload(lead, self.base_url),
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

    def deliver(self, lead: LeadRecord, delivery: Delivery) -> DeliveryResult:
        """POST the lead; the receiver's ``id`` (if it answers JSON with one) is the CRM id."""
        body = self.body(lead, delivery)
        headers = signed_headers(self.secret, body, delivery.idempotency_key)
        with transport_errors("the webhook"):
            response = self.client.post(self.url, content=body, headers=headers)
        raise_for_outcome(response, "the webhook")
        crm_id: str | None = None
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                answer = response.json()
            except ValueError as error:
                raise DeliveryError("the webhook answered invalid JSON", retryable=True) from error
            if isinstance(answer, dict) and answer.get("id") is not None:
                crm_id = str(answer["id"])
        return DeliveryResult(crm_id=crm_id)

    def erase(self, record: CRMRecord, email: str) -> str:
        """POST a signed ``lead.erased`` event naming the lead by its ids only.

        The body is ``{"event": "lead.erased", "idempotency_key": "lead-<id>-erased",
        "lead": {"id": <lead id>, "crm_id": <receiver's id or null>}}``; the receiver
        deletes its record of that lead and answers 2xx.
        """
        key = f"lead-{record.lead_id}-erased"
        document = {
            "event": ERASED_EVENT,
            "idempotency_key": key,
            "lead": {"id": record.lead_id, "crm_id": record.crm_id},
        }
        body = json.dumps(document, separators=(",", ":")).encode()
        with transport_errors("the webhook"):
            response = self.client.post(
                self.url, content=body, headers=signed_headers(self.secret, body, key)
            )
        raise_for_outcome(response, "the webhook")
        return ERASED
