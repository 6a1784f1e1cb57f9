"""HubSpot (CRM v3): the contact upserted by email, a deal per lead, a note, associations.

Steps, each remembered in the delivery's progress so that a retry skips what is done:

1. ``POST /crm/v3/objects/contacts/batch/upsert`` with ``idProperty: email``;
2. ``POST /crm/v3/objects/deals/batch/upsert`` by the unique deal property
   ``CONCIERGE_HUBSPOT_DEAL_ID_PROPERTY`` (the lead id), so a lead is one deal however often
   it is sent;
3. ``PUT /crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}``;
4. ``POST /crm/v3/objects/notes`` with the conversation summary, associated with both.

Authentication is a private app's bearer token. A 429 is retried after its ``Retry-After``
(HubSpot's rate limit), 5xx and timeouts with backoff, 401/403/400 are dead letters.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.crm.base import (
    Delivery,
    DeliveryError,
    DeliveryResult,
    raise_for_outcome,
    summary_lines,
    transport_errors,
)
from bot.crm.erasure import ERASED, NOT_FOUND, CRMRecord
from core.storage.leads import LeadRecord

NOTE_TO_CONTACT = 202
NOTE_TO_DEAL = 214
"""HubSpot-defined association type ids of a note with a contact and with a deal."""


def split_name(name: str | None) -> tuple[str, str]:
    """Return (first, last) of a full name; one word is a first name."""
    parts = (name or "").split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0], ""
    return " ".join(parts[:-1]), parts[-1]


class HubSpotCRM:
    """Delivery to HubSpot's CRM v3 API (``CONCIERGE_CRM=hubspot``)."""

    name = "hubspot"

    def __init__(
        self,
        token: str,
        client: httpx.Client,
        base_url: str,
        *,
        api_url: str = "https://api.hubapi.com",
        pipeline: str = "default",
        deal_stage: str = "appointmentscheduled",
        deal_id_property: str = "concierge_lead_id",
    ) -> None:
        """Call ``api_url`` with ``token``; ``base_url`` builds the links in the note."""
        self.token = token
        self.client = client
        self.base_url = base_url
        self.api_url = api_url.rstrip("/")
        self.pipeline = pipeline
        self.deal_stage = deal_stage
        self.deal_id_property = deal_id_property

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        with transport_errors("HubSpot"):
            response = self.client.request(method, self.api_url + path, json=body, headers=headers)
        raise_for_outcome(response, "HubSpot")
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as error:
            raise DeliveryError("HubSpot answered invalid JSON", retryable=True) from error

    @staticmethod
    def _first_id(answer: Any, what: str) -> str:
        try:
            return str(answer["results"][0]["id"])
        except (KeyError, IndexError, TypeError) as error:
            raise DeliveryError(f"HubSpot's {what} answer has no id", retryable=True) from error

    def contact_properties(self, lead: LeadRecord) -> dict[str, str]:
        """Return the contact's HubSpot properties (only what is known)."""
        first, last = split_name(lead.name)
        values = {
            "email": lead.email,
            "firstname": first,
            "lastname": last,
            "company": lead.company or "",
            "jobtitle": lead.role or "",
            "phone": lead.phone or "",
        }
        return {key: value for key, value in values.items() if value}

    def deal_properties(self, lead: LeadRecord) -> dict[str, str]:
        """Return the deal's properties: name, pipeline, stage, amount and the lead id."""
        who = lead.company or lead.name or lead.email
        values = {
            "dealname": f"{who}: chat lead ({lead.grade}, {lead.score}/100)",
            "pipeline": self.pipeline,
            "dealstage": self.deal_stage,
            self.deal_id_property: lead.id,
        }
        if lead.quotes:
            values["amount"] = str(lead.quotes[-1].total)
            values["deal_currency_code"] = lead.quotes[-1].currency
        elif lead.budget is not None:
            values["amount"] = str(lead.budget)
        return values

    def deliver(self, lead: LeadRecord, delivery: Delivery) -> DeliveryResult:
        """Upsert the contact and the deal, associate them, add the note."""
        progress = delivery.progress
        contact = self._call(
            "POST",
            "/crm/v3/objects/contacts/batch/upsert",
            {
                "inputs": [
                    {
                        "id": lead.email,
                        "idProperty": "email",
                        "properties": self.contact_properties(lead),
                    }
                ]
            },
        )
        contact_id = self._first_id(contact, "contact upsert")
        delivery.remember(contact_id=contact_id)
        deal = self._call(
            "POST",
            "/crm/v3/objects/deals/batch/upsert",
            {
                "inputs": [
                    {
                        "id": lead.id,
                        "idProperty": self.deal_id_property,
                        "properties": self.deal_properties(lead),
                    }
                ]
            },
        )
        deal_id = self._first_id(deal, "deal upsert")
        delivery.remember(deal_id=deal_id)
        if progress.get("associated") != f"{deal_id}:{contact_id}":
            self._call(
                "PUT", f"/crm/v4/objects/deals/{deal_id}/associations/default/contacts/{contact_id}"
            )
            delivery.remember(associated=f"{deal_id}:{contact_id}")
        note_key = delivery.idempotency_key
        if progress.get("note_for") != note_key:
            body = "<br>".join(html.escape(line) for line in summary_lines(lead, self.base_url))
            note = self._call(
                "POST",
                "/crm/v3/objects/notes",
                {
                    "properties": {
                        "hs_timestamp": datetime.now(UTC).isoformat(),
                        "hs_note_body": body,
                    },
                    "associations": [
                        {
                            "to": {"id": contact_id},
                            "types": [_defined(NOTE_TO_CONTACT)],
                        },
                        {"to": {"id": deal_id}, "types": [_defined(NOTE_TO_DEAL)]},
                    ],
                },
            )
            delivery.remember(note_for=note_key, note_id=str(note.get("id", "")))
        return DeliveryResult(crm_id=f"contact:{contact_id}/deal:{deal_id}")

    # --- erasure (data rights, docs/privacy.md) -------------------------------------------
    def _delete(self, method: str, path: str, body: dict[str, Any] | None = None) -> bool:
        """Call a delete endpoint; True when something was deleted, False on a 404."""
        try:
            self._call(method, path, body)
        except DeliveryError as error:
            if error.status_code == 404:
                return False
            raise
        return True

    def erase(self, record: CRMRecord, email: str) -> str:
        """Delete the note and the deal, then GDPR-delete the contact (by id, else by email).

        ``POST /crm/v3/objects/contacts/gdpr-delete`` removes the contact permanently (and
        blocks the email from being recreated by forms); ``DELETE /crm/v3/objects/{type}/{id}``
        archives the deal and the note. A 404 means already gone.
        """
        progress = record.progress
        deleted = False
        if progress.get("note_id"):
            deleted |= self._delete("DELETE", f"/crm/v3/objects/notes/{progress['note_id']}")
        if progress.get("deal_id"):
            deleted |= self._delete("DELETE", f"/crm/v3/objects/deals/{progress['deal_id']}")
        if progress.get("contact_id"):
            body: dict[str, Any] = {"objectId": str(progress["contact_id"])}
        else:
            body = {"objectId": email.strip().lower(), "idProperty": "email"}
        deleted |= self._delete("POST", "/crm/v3/objects/contacts/gdpr-delete", body)
        return ERASED if deleted else NOT_FOUND


def _defined(type_id: int) -> dict[str, Any]:
    return {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
