"""Hand buyers to the sales team (the lead form follows), and the support contact form."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import deps, store
from actions.common import transcript
from actions.parsing import parse_amount

logger = logging.getLogger(__name__)

EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


class ActionSalesHandoff(Action):
    """Acknowledge a purchase wish; the lead form then qualifies the customer for sales."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_sales_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Say what happens next and mark the follow-up as a sales one."""
        product_name = tracker.get_slot("product")
        product = deps.get_catalog().find(str(product_name)) if product_name else None
        quantity = parse_amount(tracker.get_slot("quantity"))
        units = f"{quantity:g}" if quantity and quantity > 1 else None
        if product and units:
            dispatcher.utter_message(
                response="utter_sales_handoff_product_units",
                product_name=product.name,
                price=product.display_price,
                units=units,
            )
        elif product:
            dispatcher.utter_message(
                response="utter_sales_handoff_product",
                product_name=product.name,
                price=product.display_price,
            )
        elif units:
            dispatcher.utter_message(response="utter_sales_handoff_units", units=units)
        else:
            dispatcher.utter_message(response="utter_sales_handoff")
        return [SlotSet("contact_topic", "sales")]


class ValidateContactForm(FormValidationAction):
    """Check the email the customer leaves for a follow-up."""

    def name(self) -> str:
        """Return the validator's name in the domain."""
        return "validate_contact_form"

    def validate_email(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept a plausible email address; otherwise ask again with an example."""
        candidate = str(slot_value or "").strip().strip(".,;<>()").lower()
        if EMAIL_PATTERN.match(candidate) and len(candidate) <= 254:
            return {"email": candidate}
        dispatcher.utter_message(response="utter_invalid_email")
        return {"email": None}


class ActionSaveContact(Action):
    """Store the email with what the customer wanted, and confirm who will reply."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_save_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Record the contact request; if it cannot be stored, say so and give an address."""
        email = tracker.get_slot("email")
        if not email:
            dispatcher.utter_message(response="utter_contact_not_left")
            return []
        topic = str(tracker.get_slot("contact_topic") or "support")
        details = {
            "product": tracker.get_slot("product"),
            "quantity": tracker.get_slot("quantity"),
            "budget": tracker.get_slot("budget"),
            "question": _last_question(tracker),
            "transcript": transcript(tracker),
        }
        stored = await store.record_contact(tracker.sender_id, str(email), topic, details)
        if stored:
            # The response's variant (sales or support team) follows the contact_topic slot.
            dispatcher.utter_message(response="utter_contact_saved", email=str(email))
        else:
            company = deps.settings().company
            address = company.sales_email if topic == "sales" else company.support_email
            dispatcher.utter_message(response="utter_contact_not_saved", address=address)
        return [SlotSet("contact_topic", None)]


def _last_question(tracker: Tracker) -> str | None:
    """Return the last question the customer typed, for the follow-up's context."""
    for event in reversed(tracker.events):
        text = str(event.get("text") or "") if event.get("event") == "user" else ""
        if text and not text.startswith("/") and "@" not in text:
            return text
    return None
