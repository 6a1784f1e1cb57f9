"""Fallback support: ask the customer, in plain words, to confirm what they meant."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

AFFIRMATION_RESPONSE = "utter_ask_affirmation"
"""Did you want to {meaning}? With Yes (``/{intent}``), "No, something else" and a person."""
AFFIRMATION_HUMAN_RESPONSE = "utter_ask_affirmation_human"
"""The same question when the likely meaning is already "talk to a person"."""
UNCLEAR_RESPONSE = "utter_affirmation_unclear"
INTENT_DESCRIPTIONS = {
    "ask_product": "ask about one of our products",
    "ask_price": "know what something costs",
    "ask_policy": "ask about shipping, returns, warranty or another policy",
    "ask_recommendation": "get a product recommendation",
    "buy": "order something or talk to our sales team",
    "report_problem": "get help with a problem",
    "ask_human": "talk to a person",
    "leave_email": "leave your email so we can contact you",
    "greet": "say hello",
    "goodbye": "end the conversation",
    "thank": "say thanks",
    "bot_challenge": "know whether you're talking to a bot",
    "chitchat": "have a chat",
}
NOT_AFFIRMABLE = frozenset({"nlu_fallback", "out_of_scope", "affirm", "deny", "inform"})


class ActionDefaultAskAffirmation(Action):
    """Replace Rasa's "Did you mean 'intent_name'?" with a question a customer understands."""

    def name(self) -> str:
        """Return Rasa's name for the affirmation step of the two-stage fallback."""
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Offer the most likely meaning, a way out, and a person."""
        intent = _likely_intent(tracker.latest_message)
        if intent is None:
            dispatcher.utter_message(response=UNCLEAR_RESPONSE)
            return []
        dispatcher.utter_message(
            response=AFFIRMATION_HUMAN_RESPONSE if intent == "ask_human" else AFFIRMATION_RESPONSE,
            intent=intent,
            meaning=INTENT_DESCRIPTIONS[intent],
        )
        return []


def _likely_intent(message: dict[str, Any]) -> str | None:
    """Return the best-ranked intent that can be described to the customer."""
    for candidate in message.get("intent_ranking") or [message.get("intent") or {}]:
        name = candidate.get("name")
        if name in INTENT_DESCRIPTIONS and name not in NOT_AFFIRMABLE:
            return str(name)
    return None
