"""Fallback support: ask the customer, in plain words, to confirm what they meant."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import domain_text

AFFIRMATION_RESPONSE = "utter_ask_affirmation"
"""Did you want to {meaning}? With Yes (``/{intent}``), "No, something else" and a person."""
AFFIRMATION_HUMAN_RESPONSE = "utter_ask_affirmation_human"
"""The same question when the likely meaning is already "talk to a person"."""
UNCLEAR_RESPONSE = "utter_affirmation_unclear"
MEANING_RESPONSE_PREFIX = "utter_meaning_"
"""``utter_meaning_<intent>`` in domain.yml says what an intent means in plain words."""
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
        found = _likely_intent(tracker.latest_message, domain)
        if found is None:
            dispatcher.utter_message(response=UNCLEAR_RESPONSE)
            return []
        intent, meaning = found
        dispatcher.utter_message(
            response=AFFIRMATION_HUMAN_RESPONSE if intent == "ask_human" else AFFIRMATION_RESPONSE,
            intent=intent,
            meaning=meaning,
        )
        return []


def _likely_intent(message: dict[str, Any], domain: DomainDict) -> tuple[str, str] | None:
    """Return the best-ranked intent that the domain describes, with its plain words."""
    for candidate in message.get("intent_ranking") or [message.get("intent") or {}]:
        name = candidate.get("name")
        if not isinstance(name, str) or name in NOT_AFFIRMABLE:
            continue
        meaning = domain_text(domain, MEANING_RESPONSE_PREFIX + name)
        if meaning:
            return name, meaning
    return None
