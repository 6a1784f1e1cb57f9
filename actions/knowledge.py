"""Answer product and policy questions from the company's documents, citing them."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import deps, store
from actions.common import channel_of, confirmed_question, latest_intent, latest_text
from actions.session import company_slots
from knowledge.types import Answer

logger = logging.getLogger(__name__)

PRODUCT_SCOPED_INTENTS = frozenset({"ask_product", "ask_price"})
FOLLOW_UP_WORDS = frozenset({"it", "its", "it's", "this", "that", "one", "them", "they"})
ASK_RESPONSE = "utter_ask_question"
DECLINE_RESPONSE = "utter_kb_declined"
ERROR_RESPONSE = "utter_kb_unavailable"
ANSWER_RESPONSE = "utter_kb_answer"
PROBLEM_ANSWER_RESPONSE = "utter_kb_answer_problem"
"""The answer followed by the offer of the support team (and a "Talk to a person" button)."""


class ActionAnswerQuestion(Action):
    """Answer from the knowledge base, or decline and offer a person or an email follow-up.

    Always sets ``kb_found``. On ``nlu_fallback`` a decline stays silent so that the
    two-stage fallback can ask the customer to rephrase; on ``out_of_scope`` it is the
    polite redirect (``utter_out_of_scope``).
    """

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Look the question up and answer with its sources."""
        question = latest_text(tracker) or confirmed_question(tracker) or ""
        intent = latest_intent(tracker)
        if not question:
            dispatcher.utter_message(response=ASK_RESPONSE)
            return [SlotSet("kb_found", False)]

        product_id = self._product_hint(tracker, intent)
        try:
            answer = await asyncio.to_thread(
                deps.get_knowledge_base().ask, question, product_id=product_id
            )
        except Exception:  # the conversation must go on whatever the knowledge base does
            logger.exception("actions.answer.failed")
            if intent != "nlu_fallback":
                dispatcher.utter_message(response=ERROR_RESPONSE)
            return [SlotSet("kb_found", False)]

        answer_id = await store.record_answer(tracker.sender_id, channel_of(tracker), answer)
        if answer.answered:
            self._send_answer(dispatcher, answer, answer_id, intent)
            return [SlotSet("kb_found", True)]
        if intent == "out_of_scope":
            dispatcher.utter_message(response="utter_out_of_scope", **company_slots())
        elif intent != "nlu_fallback":
            dispatcher.utter_message(response=DECLINE_RESPONSE)
        return [SlotSet("kb_found", False)]

    @staticmethod
    def _product_hint(tracker: Tracker, intent: str | None) -> str | None:
        """Scope a follow-up like "how much is it?" to the product discussed before."""
        if intent not in PRODUCT_SCOPED_INTENTS:
            return None
        if any(e.get("entity") == "product" for e in tracker.latest_message.get("entities", [])):
            return None  # the question names its product; retrieval finds it by itself
        mentioned = tracker.get_slot("product")
        if not mentioned:
            return None
        product = deps.get_catalog().find(str(mentioned))
        if product is None or product.name.lower() in latest_text(tracker).lower():
            return None
        question_words = set(re.findall(r"[a-z']+", latest_text(tracker).lower()))
        return product.id if question_words & FOLLOW_UP_WORDS else None

    @staticmethod
    def _send_answer(
        dispatcher: CollectingDispatcher, answer: Answer, answer_id: str, intent: str | None
    ) -> None:
        dispatcher.utter_message(
            response=PROBLEM_ANSWER_RESPONSE if intent == "report_problem" else ANSWER_RESPONSE,
            answer=answer.text or "",
            json_message={
                "kind": "kb_answer",
                "answer_id": answer_id,
                "confidence": round(answer.confidence, 3),
                "generated": answer.generated,
                "sources": [source.to_dict() for source in answer.sources],
            },
        )
