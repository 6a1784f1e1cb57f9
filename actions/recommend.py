"""Recommendations: gather the need, team size, budget and must-haves, then the best three.

``recommendation_form`` asks only for what is still missing; ``validate_recommendation_form``
reads every message for all four (in any order, or all in one), so "we're a 40-person office
and need a coffee setup, budget around 5000 euros" leaves one question (must-haves) and
"actually it's 60 people" after the recommendations changes the team size and recommends
again. ``action_recommend_products`` ranks with :mod:`knowledge.recommend` and sends each
pick with its reasons and the buttons "More about" and "Get a quote"; the picks are kept in
the ``recommended`` slot so that "the first one" can be resolved later.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import deps
from actions.common import domain_text, latest_intent, latest_text
from actions.parsing import (
    find_money,
    find_quantity,
    find_team_size,
    is_decline,
    parse_amount,
    read_count,
)
from knowledge.catalog import STOCK_LABELS, Catalog, Product, format_money
from knowledge.recommend import Needs, Pick, Reason, Recommendations, split_must_haves

logger = logging.getLogger(__name__)

FORM = "recommendation_form"
OPEN_BUDGET = "open"
"""The budget slot's value when the customer has no fixed budget."""
NO_MUST_HAVES = "none"
"""The must_haves slot's value when the customer insists on nothing."""
QUESTION_INTENTS = frozenset(
    {
        "ask_product",
        "ask_price",
        "ask_policy",
        "report_problem",
        "ask_human",
        "bot_challenge",
        "chitchat",
        "goodbye",
        "ask_quote",
    }
)
"""Intents that are not an answer to the form's question: the form lets the rules reply."""
RELAX_RESPONSES = {
    "budget": "utter_relax_budget",
    "team_size": "utter_relax_team_size",
    "features": "utter_relax_features",
    "category": "utter_relax_category",
    "stock": "utter_relax_stock",
}
"""What to say when nothing fits, by the constraint to relax (``utter_relax_nothing``: none)."""
REASON_RESPONSES = {
    "budget": "utter_reason_budget",
    "capacity_people": "utter_reason_capacity_people",
    "capacity_cups": "utter_reason_capacity_cups",
    "feature": "utter_reason_feature",
    "use_case": "utter_reason_use_case",
    "low_stock": "utter_reason_low_stock",
    "preorder": "utter_reason_preorder",
}


def payload(intent: str, **entities: str) -> str:
    """Return a button payload that triggers ``intent`` with entities (Rasa's ``/intent{...}``)."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def catalog_source(product: Product) -> dict[str, str]:
    """Return the citation of a product's catalog entry."""
    return {"title": f"Product catalog › {product.name}", "location": f"catalog.json#{product.id}"}


def product_buttons(product: Product, domain: DomainDict) -> list[dict[str, str]]:
    """Return a pick's buttons: details and a quote, titled by responses in domain.yml."""
    details = domain_text(domain, "utter_button_product_details", name=product.name)
    quote = domain_text(domain, "utter_button_product_quote", name=product.name)
    return [
        {"title": details or product.name, "payload": payload("ask_product", product=product.name)},
        {"title": quote or product.name, "payload": payload("ask_quote", product=product.name)},
    ]


def reason_text(reasons: tuple[Reason, ...], domain: DomainDict) -> str:
    """Word a pick's reasons with the ``utter_reason_*`` responses, joined by semicolons."""
    parts = []
    for reason in reasons:
        text = domain_text(domain, REASON_RESPONSES[reason.kind], **reason.values)
        if text:
            parts.append(text)
    return "; ".join(parts)


def needs_from_slots(tracker: Tracker, catalog: Catalog) -> Needs:
    """Build the recommender's input from the slots the form filled."""
    budget_slot = tracker.get_slot("budget")
    amount = None if budget_slot in (None, OPEN_BUDGET) else parse_amount(budget_slot)
    category = tracker.get_slot("category")
    must_haves = str(tracker.get_slot("must_haves") or "")
    return Needs(
        text=str(tracker.get_slot("need") or ""),
        category=category if category in catalog.categories() else None,
        budget=Decimal(str(amount)) if amount else None,
        team_size=_as_int(tracker.get_slot("team_size")),
        quantity=_as_int(tracker.get_slot("quantity")),
        must_haves=() if must_haves in ("", NO_MUST_HAVES) else split_must_haves(must_haves),
    )


def _as_int(value: Any) -> int | None:
    try:
        number = int(float(str(value)))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


class ValidateRecommendationForm(FormValidationAction):
    """Read the need, team size, budget and must-haves from whatever the customer writes."""

    def name(self) -> str:
        """Return the validator's name in the domain."""
        return "validate_recommendation_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Ask only what the catalog can use, and only as much as the need leaves open.

        Need and budget are always asked for. A need named by its category ("a grinder
        under 200 euros") is enough to rank; an open one ("something for our office") also
        gets the team size, when products of the catalog have a rated capacity and no
        quantity was given, and the must-haves, when products list features. A team size
        or must-have the customer gives anyway is used all the same.
        """
        catalog = deps.get_catalog()
        category = tracker.get_slot("category")
        if category in catalog.categories():
            return [slot for slot in domain_slots if slot in ("need", "budget")]
        skip = set()
        quantity = tracker.get_slot("quantity") or find_quantity(latest_text(tracker))
        if quantity or not any(p.capacity.declared for p in catalog.products):
            skip.add("team_size")
        if not any(p.features for p in catalog.products):
            skip.add("must_haves")
        return [slot for slot in domain_slots if slot not in skip]

    @staticmethod
    def _answering(tracker: Tracker, slot: str) -> bool:
        # "what is the return window?" can look off-topic to the NLU: a question for the
        # knowledge base (data/rules/recommendations.yml), not a need
        intent = latest_intent(tracker)
        return tracker.get_slot("requested_slot") == slot and (
            intent not in QUESTION_INTENTS and intent != "out_of_scope"
        )

    async def extract_need(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the need from the first message that says it, or the category picked."""
        text = latest_text(tracker)
        category = next(
            (
                e.get("value")
                for e in tracker.latest_message.get("entities", [])
                if e.get("entity") == "category"
            ),
            None,
        )
        if tracker.get_slot("need") and not self._answering(tracker, "need"):
            return {}
        intent = latest_intent(tracker)
        # an unclear question ("what is the return window?" scores low) is looked up instead
        unclear_question = intent == "nlu_fallback" and text.rstrip().endswith("?")
        describes = intent not in QUESTION_INTENTS and intent != "out_of_scope"
        describes = describes and not unclear_question
        if text and describes and (self._answering(tracker, "need") or len(text.split()) >= 4):
            return {"need": text}
        if category:
            catalog = deps.get_catalog()
            if category in catalog.categories():
                return {"need": catalog.category_label(str(category))}
        return {}

    async def extract_team_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read a team size from any message; a bare number when it was asked for."""
        text = latest_text(tracker)
        size = find_team_size(text)
        if size is None and self._answering(tracker, "team_size"):
            size = read_count(text)
        return {"team_size": str(size)} if size else {}

    async def extract_budget(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read a money amount from any message; any number or "no budget" when asked."""
        text = latest_text(tracker)
        money = find_money(text)
        if money:
            return {"budget": money}
        if self._answering(tracker, "budget"):
            if is_decline(text, latest_intent(tracker)) or "no budget" in text.lower():
                return {"budget": OPEN_BUDGET}
            if parse_amount(text):
                return {"budget": text}
        return {}

    async def extract_must_haves(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the must-haves when asked; "no" or the button means none."""
        if not self._answering(tracker, "must_haves"):
            return {}
        text = latest_text(tracker)
        if not text or is_decline(text, latest_intent(tracker)) or not split_must_haves(text):
            return {"must_haves": NO_MUST_HAVES}
        return {"must_haves": text}

    def validate_team_size(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept a whole number of people from 1 to 100,000."""
        size = _as_int(slot_value)
        if size is None or size > 100_000:
            dispatcher.utter_message(response="utter_team_size_not_understood")
            return {"team_size": None}
        return {"team_size": str(size)}


class ActionAskNeed(Action):
    """Ask what the customer is looking for, with the catalog's categories as buttons."""

    def name(self) -> str:
        """Return the action's name in the domain (the form's question for ``need``)."""
        return "action_ask_recommendation_form_need"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send ``utter_ask_recommendation_form_need`` with one button per category."""
        catalog = deps.get_catalog()
        dispatcher.utter_message(
            response="utter_ask_recommendation_form_need",
            buttons=[
                {"title": label, "payload": payload("inform", category=key)}
                for key, label in catalog.category_labels().items()
            ],
        )
        return []


class ActionAskMustHaves(Action):
    """Ask for must-have features, with examples from the catalog's own features."""

    def name(self) -> str:
        """Return the action's name in the domain (the form's question for ``must_haves``)."""
        return "action_ask_must_haves"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send ``utter_ask_must_haves`` with the two features most products that fit share."""
        catalog = deps.get_catalog()
        products = deps.get_recommender().candidates(needs_from_slots(tracker, catalog))
        counts: dict[str, int] = {}
        for product in products or catalog.products:
            for feature in product.features:
                counts[feature] = counts.get(feature, 0) + 1
        common = sorted(counts, key=lambda f: (-counts[f], f))[:2]
        joiner = domain_text(domain, "utter_word_or") or "or"
        examples = f" {joiner} ".join(common)
        if examples:
            dispatcher.utter_message(response="utter_ask_must_haves", examples=examples)
        else:
            dispatcher.utter_message(response="utter_ask_must_haves_plain")
        return []


class ActionRecommendProducts(Action):
    """Send the best three products with reasons, or what to relax and the nearest ones."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_recommend_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Rank the catalog for the needs in the slots and send the picks as cards."""
        catalog = deps.get_catalog()
        needs = needs_from_slots(tracker, catalog)
        try:
            result = deps.get_recommender().recommend(needs)
        except Exception:  # the conversation goes on: a person can recommend instead
            logger.exception("actions.recommend.failed")
            dispatcher.utter_message(response="utter_recommendation_unavailable")
            return []
        for phrase in result.unmatched:
            dispatcher.utter_message(response="utter_must_have_not_offered", feature=phrase)
        if result.picks:
            self._intro(dispatcher, needs, catalog)
            shown = self._cards(dispatcher, result.picks, domain)
        else:
            self._relax(dispatcher, result, needs, catalog)
            shown = self._cards(dispatcher, result.nearest, domain)
        if not shown:
            return [SlotSet("recommended", [])]
        asked = list(tracker.get_slot("products_asked") or [])
        first = catalog.get(shown[0])
        return [
            SlotSet("recommended", shown),
            SlotSet("product", first.name if first else None),
            SlotSet("products_asked", list(dict.fromkeys([*asked, *shown]))),
        ]

    @staticmethod
    def _intro(dispatcher: CollectingDispatcher, needs: Needs, catalog: Catalog) -> None:
        if needs.team_size and needs.budget is not None:
            dispatcher.utter_message(
                response="utter_recommendation_intro_team_budget",
                team_size=str(needs.team_size),
                max_price=format_money(float(needs.budget), catalog.currency),
            )
        elif needs.budget is not None:
            dispatcher.utter_message(
                response="utter_recommendation_intro_budget",
                max_price=format_money(float(needs.budget), catalog.currency),
            )
        elif needs.team_size:
            dispatcher.utter_message(
                response="utter_recommendation_intro_team", team_size=str(needs.team_size)
            )
        else:
            dispatcher.utter_message(response="utter_recommendation_intro")

    @staticmethod
    def _relax(
        dispatcher: CollectingDispatcher, result: Recommendations, needs: Needs, catalog: Catalog
    ) -> None:
        values: dict[str, str] = {}
        if result.relax == "budget" and needs.budget is not None:
            values["max_price"] = format_money(float(needs.budget), catalog.currency)
        if result.relax == "team_size":
            values["team_size"] = str(needs.team_size)
        if result.relax == "category" and needs.category:
            values["what"] = catalog.category_label(needs.category).lower()
        if result.relax == "features":
            values["features"] = ", ".join(needs.must_haves)
        response = RELAX_RESPONSES.get(result.relax or "", "utter_relax_nothing")
        dispatcher.utter_message(response=response, **values)

    @staticmethod
    def _cards(
        dispatcher: CollectingDispatcher, picks: tuple[Pick, ...], domain: DomainDict
    ) -> list[str]:
        for pick in picks:
            product = pick.product
            dispatcher.utter_message(
                response="utter_product_card",
                buttons=product_buttons(product, domain),
                json_message={
                    "kind": "product",
                    "product_id": product.id,
                    "sources": [catalog_source(product)],
                },
                name=product.name,
                price=product.display_price,
                stock=STOCK_LABELS.get(product.stock, product.stock),
                reason=reason_text(pick.reasons, domain) or product.summary,
            )
        return [pick.product.id for pick in picks]
