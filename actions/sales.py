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
from actions.common import HUMAN_BUTTON, latest_text, transcript
from knowledge.catalog import Product

logger = logging.getLogger(__name__)

CATEGORY_LABELS = {
    "espresso-machines": "Espresso machines",
    "grinders": "Grinders",
    "brewers": "Filter & cold brew",
    "accessories": "Accessories",
    "coffee": "Coffee beans",
    "service-plans": "Service plans",
}
STOCK_LABELS = {
    "in_stock": "in stock",
    "low_stock": "only a few left",
    "out_of_stock": "out of stock",
    "preorder": "available to pre-order",
}
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


def format_price(product: Product) -> str:
    """Return a price as a customer reads it, e.g. ``€1,290`` or ``€22 per month``."""
    amount = f"{product.price:,.2f}".removesuffix(".00")
    symbol = "€" if product.currency.upper() == "EUR" else f"{product.currency} "
    unit = "" if product.price_unit == "one-off" else f" {product.price_unit}"
    return f"{symbol}{amount}{unit}"


def catalog_source(product: Product) -> dict[str, str]:
    """Return the citation of a product's catalog entry."""
    return {"title": f"Product catalog › {product.name}", "location": f"catalog.json#{product.id}"}


def product_card(product: Product) -> str:
    """Return a short description of a product for a recommendation."""
    stock = STOCK_LABELS.get(product.stock, product.stock)
    return f"{product.name}: {format_price(product)} ({stock}). {product.summary}"


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
                text="Happy to help you choose. What are you looking for?",
                buttons=[
                    {"title": label, "payload": _payload("ask_recommendation", category=key)}
                    for key, label in CATEGORY_LABELS.items()
                    if key in catalog.categories()
                ],
            )
            return []
        audience = "business" if words & BUSINESS_WORDS else None
        products = catalog.recommend(
            category=category, budget=budget, use_case=text or None, audience=audience, limit=3
        )
        if not products:
            where = CATEGORY_LABELS.get(category or "", "products").lower()
            limit = f" under €{budget:,.0f}" if budget else ""
            dispatcher.utter_message(
                text=f"I couldn't find {where}{limit} in our range. Would a slightly higher "
                "budget work, or shall I ask a colleague to suggest something?",
                buttons=[HUMAN_BUTTON],
            )
            return [SlotSet("budget", None)]
        intro = "Here's what I'd suggest"
        if budget:
            intro += f" within €{budget:,.0f}"
        dispatcher.utter_message(text=f"{intro}:")
        for product in products:
            dispatcher.utter_message(
                text=product_card(product),
                buttons=[
                    {
                        "title": f"More about the {product.name}",
                        "payload": _payload("ask_product", product=product.name),
                    },
                    {
                        "title": "Buy / get a quote",
                        "payload": _payload("buy", product=product.name),
                    },
                ],
                json_message={
                    "kind": "product",
                    "product_id": product.id,
                    "sources": [catalog_source(product)],
                },
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
        what = f" the {product.name} ({format_price(product)})" if product else ""
        units = f", {quantity:g} units" if quantity and quantity > 1 else ""
        dispatcher.utter_message(
            text=f"Great, I'll get our sales team on it{': ' + what.strip() if what else ''}"
            f"{units}. They prepare quotes, volume discounts and delivery dates, and usually "
            "reply within one business day."
        )
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
        dispatcher.utter_message(
            text="That doesn't look like an email address. Could you check it? "
            "For example: name@company.com"
        )
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
            dispatcher.utter_message(text="No problem. If you change your mind, just ask.")
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
        team = "sales team" if topic == "sales" else "support team"
        if stored:
            dispatcher.utter_message(
                text=f"Thanks! Our {team} will email you at {email}, usually within one "
                "business day. Anything else I can help with in the meantime?"
            )
        else:
            config = deps.settings()
            address = config.sales_email if topic == "sales" else config.support_email
            dispatcher.utter_message(
                text=f"Sorry, I couldn't save your details just now. Please email {address} "
                "and mention this chat, and we'll pick it up from there."
            )
        return [SlotSet("contact_topic", None)]


def _last_question(tracker: Tracker) -> str | None:
    """Return the last question the customer typed, for the follow-up's context."""
    for event in reversed(tracker.events):
        text = str(event.get("text") or "") if event.get("event") == "user" else ""
        if text and not text.startswith("/") and "@" not in text:
            return text
    return None
