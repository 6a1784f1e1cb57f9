"""Recommend products from the catalog and hand buyers to the sales team."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import deps, store
from actions.common import domain_text, latest_text, transcript
from knowledge.catalog import STOCK_LABELS, Catalog, Product, format_money

logger = logging.getLogger(__name__)

EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_AMOUNT = re.compile(r"(\d[\d.,]*)\s*(k\b)?", re.IGNORECASE)
BUSINESS_WORDS = frozenset(
    {"office", "offices", "cafe", "café", "restaurant", "hotel", "team", "staff", "business"}
)


def parse_amount(value: Any) -> float | None:
    """Read an amount like ``"under €1,200"``, ``"500 euros"`` or ``"1.5k"``; None if absent."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    match = _AMOUNT.search(str(value))
    if not match:
        return None
    digits, thousands = match.group(1), match.group(2)
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", digits):
        digits = re.sub(r"[.,]", "", digits)
    else:
        digits = digits.replace(",", ".").rstrip(".")
    try:
        amount = float(digits)
    except ValueError:
        return None
    amount *= 1000 if thousands else 1
    return amount if amount > 0 else None


def catalog_source(product: Product) -> dict[str, str]:
    """Return the citation of a product's catalog entry."""
    return {"title": f"Product catalog › {product.name}", "location": f"catalog.json#{product.id}"}


def product_card(product: Product) -> dict[str, str]:
    """Return the variables of ``utter_product_card`` for a product."""
    return {
        "name": product.name,
        "price": product.display_price,
        "stock": STOCK_LABELS.get(product.stock, product.stock),
        "summary": product.summary,
    }


def product_buttons(product: Product, domain: DomainDict) -> list[dict[str, str]]:
    """Return a product card's buttons, titled by ``utter_button_product_*`` in domain.yml."""
    details = domain_text(domain, "utter_button_product_details", name=product.name)
    quote = domain_text(domain, "utter_button_product_quote", name=product.name)
    buttons = [
        {"title": details or product.name, "payload": _payload("ask_product", product=product.name)}
    ]
    if quote:
        buttons.append({"title": quote, "payload": _payload("buy", product=product.name)})
    return buttons


def _budget_text(catalog: Catalog, budget: float) -> str:
    """Return a budget in the catalog's currency, rounded as a customer says it (``€200``)."""
    return format_money(round(budget), catalog.currency)


class ActionRecommendProducts(Action):
    """Recommend up to three products for the customer's category, budget and use."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_recommend_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Pick products from the catalog, or ask which kind of product first."""
        catalog = deps.get_catalog()
        category = tracker.get_slot("category")
        category = category if category in catalog.categories() else None
        budget = parse_amount(tracker.get_slot("budget"))
        text = latest_text(tracker)
        words = set(re.findall(r"[a-zé]+", text.lower()))
        if category is None and budget is None and len(words) < 6:
            dispatcher.utter_message(
                response="utter_ask_category",
                buttons=[
                    {"title": label, "payload": _payload("ask_recommendation", category=key)}
                    for key, label in catalog.category_labels().items()
                ],
            )
            return []
        audience = "business" if words & BUSINESS_WORDS else None
        products = catalog.recommend(
            category=category, budget=budget, use_case=text or None, audience=audience, limit=3
        )
        label = catalog.category_label(category) if category else "Products"
        what = label[:1].lower() + label[1:]
        if not products:
            if budget:
                dispatcher.utter_message(
                    response="utter_no_products_in_budget",
                    what=what,
                    max_price=_budget_text(catalog, budget),
                )
            else:
                dispatcher.utter_message(response="utter_no_products", what=what)
            return [SlotSet("budget", None)]
        if budget:
            dispatcher.utter_message(
                response="utter_recommendation_intro_budget",
                max_price=_budget_text(catalog, budget),
            )
        else:
            dispatcher.utter_message(response="utter_recommendation_intro")
        for product in products:
            dispatcher.utter_message(
                response="utter_product_card",
                buttons=product_buttons(product, domain),
                json_message={
                    "kind": "product",
                    "product_id": product.id,
                    "sources": [catalog_source(product)],
                },
                **product_card(product),
            )
        return [SlotSet("product", products[0].name)]


def _payload(intent: str, **entities: str) -> str:
    """Return a button payload that triggers ``intent`` with entities (Rasa's ``/intent{...}``)."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


class ActionSalesHandoff(Action):
    """Acknowledge a purchase wish; the contact form then collects an email for sales."""

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
