"""Salesforce (REST sObjects): the lead upserted by an external id field.

``PATCH /services/data/<version>/sobjects/Lead/<ExternalIdField__c>/<lead id>`` creates the
Lead (201 with ``{"id", "success", "errors", "created": true}``) or updates it (200, or 204
with no body on older API versions, then its id is read back). The field must exist on Lead
as an External ID (docs/crm.md). Errors come as a JSON list of ``{message, errorCode}``:
``REQUEST_LIMIT_EXCEEDED`` and ``UNABLE_TO_LOCK_ROW`` are retried; 300 (the external id
matches several records), 400 and 401 go to the dead letters with Salesforce's message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.crm.base import (
    Delivery,
    DeliveryError,
    DeliveryResult,
    parse_retry_after,
    summary_lines,
    transport_errors,
)
from bot.crm.erasure import ERASED, NOT_FOUND, CRMRecord
from bot.crm.hubspot import split_name
from core.storage.leads import LeadRecord

RETRYABLE_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})
RATINGS = {"hot": "Hot", "warm": "Warm", "cold": "Cold"}
"""Lead's standard Rating picklist."""


def _errors(response: httpx.Response) -> tuple[str, set[str]]:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300], set()
    items = body if isinstance(body, list) else [body]
    messages, codes = [], set()
    for item in items:
        if isinstance(item, dict):
            messages.append(f"{item.get('errorCode', '?')}: {item.get('message', '')}")
            codes.add(str(item.get("errorCode", "")))
    return "; ".join(messages)[:500], codes


class SalesforceCRM:
    """Delivery to Salesforce's REST API (``CONCIERGE_CRM=salesforce``)."""

    name = "salesforce"

    def __init__(
        self,
        instance_url: str,
        token: str,
        client: httpx.Client,
        base_url: str,
        *,
        api_version: str = "v60.0",
        external_id_field: str = "Concierge_Lead_Id__c",
    ) -> None:
        """Call ``instance_url`` with an OAuth access ``token``."""
        self.instance_url = instance_url.rstrip("/")
        self.token = token
        self.client = client
        self.base_url = base_url
        self.api_version = api_version
        self.external_id_field = external_id_field

    @property
    def lead_url(self) -> str:
        """The Lead sObject's endpoint."""
        return f"{self.instance_url}/services/data/{self.api_version}/sobjects/Lead"

    def fields(self, lead: LeadRecord) -> dict[str, Any]:
        """Return the Lead's fields (LastName and Company are required by Salesforce)."""
        first, last = split_name(lead.name)
        values: dict[str, Any] = {
            "FirstName": first or None,
            "LastName": last or first or lead.email.split("@")[0],
            "Company": lead.company or "(not given)",
            "Email": lead.email,
            "Phone": lead.phone,
            "Title": lead.role,
            "LeadSource": "Chat",
            "Rating": RATINGS.get(lead.grade),
            "NumberOfEmployees": lead.team_size,
            "Description": "\n".join(summary_lines(lead, self.base_url))[:32000],
            "HasOptedOutOfEmail": not lead.marketing,
        }
        return {key: value for key, value in values.items() if value is not None}

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def _raise(self, response: httpx.Response) -> None:
        message, codes = _errors(response)
        status = response.status_code
        retryable = status >= 500 or status == 429 or bool(codes & RETRYABLE_CODES)
        if status == 300:
            message = f"the external id matches several Leads: {message}"
        elif status == 401:
            message = f"Salesforce refused the access token (401): {message}"
        raise DeliveryError(
            f"Salesforce answered {status}: {message}" if status not in (300, 401) else message,
            retryable=retryable,
            status_code=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def deliver(self, lead: LeadRecord, delivery: Delivery) -> DeliveryResult:
        """Upsert the Lead by its external id; return the Salesforce record id."""
        url = f"{self.lead_url}/{quote(self.external_id_field)}/{quote(lead.id)}"
        with transport_errors("Salesforce"):
            response = self.client.patch(url, json=self.fields(lead), headers=self._headers())
        if response.status_code not in (200, 201, 204):
            self._raise(response)
        if response.status_code in (200, 201) and response.content:
            body = response.json()
            if isinstance(body, dict) and body.get("id"):
                return DeliveryResult(crm_id=str(body["id"]))
        with transport_errors("Salesforce"):
            found = self.client.get(url, params={"fields": "Id"}, headers=self._headers())
        if found.status_code != 200:
            self._raise(found)
        record = found.json()
        return DeliveryResult(crm_id=str(record.get("Id")) if record.get("Id") else None)

    def erase(self, record: CRMRecord, email: str) -> str:
        """Delete the Lead: ``DELETE .../sobjects/Lead/<Id>`` (else by the external id).

        Salesforce answers 204; a 404 (``NOT_FOUND``, ``ENTITY_IS_DELETED``) means already
        gone. The deleted Lead stays in Salesforce's recycle bin until it is emptied there
        (docs/privacy.md).
        """
        if record.crm_id:
            url = f"{self.lead_url}/{quote(record.crm_id)}"
        else:
            url = f"{self.lead_url}/{quote(self.external_id_field)}/{quote(record.lead_id)}"
        with transport_errors("Salesforce"):
            response = self.client.delete(url, headers=self._headers())
        if response.status_code == 404:
            return NOT_FOUND
        if response.status_code not in (200, 204):
            self._raise(response)
        return ERASED
