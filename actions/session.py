"""Start each conversation with the company's name and addresses in slots, for the responses.

The responses in ``domain.yml`` say ``{company_name}``, ``{support_email}``,
``{sales_email}`` and ``{company_offer}``; Rasa fills them from these slots, so the domain
never names the company and a new company only changes its settings and content folder.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import deps
from knowledge.catalog import CatalogError

logger = logging.getLogger(__name__)

COMPANY_SLOTS = ("company_name", "support_email", "sales_email", "company_offer")
SESSION_METADATA_SLOT = "session_started_metadata"


def company_slots() -> dict[str, str]:
    """Return the values of the company slots, from the settings and the catalog."""
    company = deps.settings().company
    try:
        offer = deps.get_catalog().offer
    except CatalogError:
        logger.exception("actions.session.catalog_unreadable")
        offer = "our products"
    return {
        "company_name": company.name,
        "support_email": company.support_email,
        "sales_email": company.sales_email,
        "company_offer": offer,
    }


class ActionSessionStart(Action):
    """Rasa's session start plus the company slots; other slots carry over if so configured."""

    def name(self) -> str:
        """Return Rasa's name for the session start action."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Start the session, carry slots over, set the company slots, then listen."""
        events: list[EventType] = [SessionStarted()]
        session_config: dict[str, Any] = domain.get("session_config") or {}
        carry_over = bool(session_config.get("carry_over_slots_to_new_session", True))
        events.extend(
            SlotSet(key, value)
            for key, value in tracker.current_slot_values().items()
            if value is not None
            and key not in COMPANY_SLOTS
            and (carry_over or key == SESSION_METADATA_SLOT)
        )
        events.extend(SlotSet(key, value) for key, value in company_slots().items())
        events.append(ActionExecuted("action_listen"))
        return events
