"""Hand the conversation to a person when the customer asks for one."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import store
from actions.common import channel_of, latest_intent, previous_customer_text
from core.logging import sender_ref
from core.messages import HANDOFF_REQUESTED

logger = logging.getLogger(__name__)

HANDOFF_RESPONSE = "utter_handoff"


HANDOFF_MARKER = {"kind": HANDOFF_REQUESTED}
"""The custom payload of the reply that records a handoff request."""


class ActionHandoffToHuman(Action):
    """Record the request for a person and tell the customer what happens next."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_handoff_to_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Store the request with the conversation's context; offer an email follow-up."""
        reason = "customer_request" if latest_intent(tracker) == "ask_human" else "fallback"
        stored = await store.record_handoff(
            sender_id=tracker.sender_id,
            channel=channel_of(tracker),
            reason=reason,
            last_message=previous_customer_text(tracker),
            email=tracker.get_slot("email"),
        )
        if not stored:
            logger.error("actions.handoff.unrecorded sender=%s", sender_ref(tracker.sender_id))
        # ``custom.kind`` tells the widget (and the host page's analytics) a person was asked for
        dispatcher.utter_message(response=HANDOFF_RESPONSE, json_message=HANDOFF_MARKER)
        return [SlotSet("contact_topic", "support")]
