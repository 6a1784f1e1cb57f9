"""The built-in CRM: the leads tables of the project's own database.

The lead was stored by the capture itself (the source of truth in every mode), so delivery
only confirms that the row is there and names it by its id.
"""

from __future__ import annotations

from bot.crm.base import Delivery, DeliveryResult
from bot.crm.erasure import ERASED, CRMRecord
from core.storage.leads import LeadRecord


class BuiltinCRM:
    """Delivery to the project's own leads tables (``CONCIERGE_CRM=builtin``)."""

    name = "builtin"

    def deliver(self, lead: LeadRecord, delivery: Delivery) -> DeliveryResult:
        """Confirm the stored lead; its CRM id is the lead id."""
        return DeliveryResult(crm_id=lead.id)

    def erase(self, record: CRMRecord, email: str) -> str:
        """Nothing outside: the built-in CRM's rows are erased with the application database."""
        return ERASED
