"""Instant quotes: "what would 2 of the first one cost?" answered with an itemised, stored quote.

The product is the one named in the message, else the one a reference like "the first one"
points at among the products just recommended (the ``recommended`` slot), else the product
discussed last. The quote is priced by the content folder's pricing rules, stored through
:func:`core.storage.quotes.save_quote` (a number and a page token) and shown with its lines,
discount, tax, shipping, total, validity date and the link to its printable page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import deps
from actions.common import channel_of, domain_text, latest_text
from actions.parsing import find_country, find_ordinal, find_quantity
from actions.recommend import payload
from core.storage.quotes import QuoteDraft, QuoteLine, StoredQuote, save_quote
from core.storage.unit_of_work import session_scope
from knowledge.catalog import Catalog, Product, format_money
from knowledge.pricing import PricedQuote, PricingError

logger = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3
LINE_RESPONSES = ("utter_quote_line", "utter_quote_line_discount")
"""The wording of one quote line, without and with a volume discount (read, not sent)."""
QUOTE_RESPONSES = {
    (False, True): "utter_quote",
    (True, True): "utter_quote_monthly",
    (False, False): "utter_quote_unsaved",
    (True, False): "utter_quote_monthly_unsaved",
}
"""The quote message by (monthly plan, stored)."""


def resolve_product(tracker: Tracker, catalog: Catalog) -> Product | None:
    """Return the product a quote request means: named, "the first one", or the last one."""
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") == "product":
            found = catalog.find(str(entity.get("value") or ""))
            if found:
                return found
    text = latest_text(tracker)
    named = catalog.find(text) if text else None
    if named:
        return named
    recommended = [p for p in (catalog.get(i) for i in tracker.get_slot("recommended") or []) if p]
    index = find_ordinal(text)
    if index is not None and recommended and -len(recommended) <= index < len(recommended):
        return recommended[index]
    last = tracker.get_slot("product")
    if last:
        found = catalog.find(str(last))
        if found:
            return found
    return recommended[0] if recommended else None


def delivery_country(tracker: Tracker, known: Collection[str]) -> str | None:
    """Return the delivery country the customer named, newest message first, if priced.

    A country the pricing file has no tax rate for is skipped (the default applies), so a
    passing mention of somewhere else never makes a quote impossible.
    """
    said = [latest_text(tracker)] + [
        str(event.get("text") or "")
        for event in reversed(tracker.events)
        if event.get("event") == "user"
    ]
    for text in said:
        code = find_country(text or "")
        if code and code in known:
            return code
    return None


def requested_quantity(tracker: Tracker) -> int:
    """Return the units asked for: an entity, a number in the message, else 1."""
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") == "quantity":
            value = find_quantity(f"{entity.get('value')} units")
            if value:
                return value
    return find_quantity(latest_text(tracker)) or 1


def draft_of(quote: PricedQuote, conversation_id: str, channel: str) -> QuoteDraft:
    """Return the storable draft of a priced quote."""
    notes: list[str] = []
    if quote.recurring:
        notes.append("Amounts per month.")
    if quote.freight_on_request:
        notes.append("Freight to this country is quoted separately.")
    return QuoteDraft(
        conversation_id=conversation_id,
        channel=channel,
        currency=quote.currency,
        country=quote.country,
        lines=tuple(
            QuoteLine(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_rate=line.discount_rate,
                line_total=line.line_total,
            )
            for line in quote.lines
        ),
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        tax_rate=quote.tax_rate,
        tax=quote.tax,
        shipping=quote.shipping,
        total=quote.total,
        valid_until=quote.valid_until,
        notes=tuple(notes),
    )


async def store_quote(draft: QuoteDraft) -> StoredQuote | None:
    """Save the quote; retry briefly (SQLite may be busy). None if it could not be stored."""

    def save() -> StoredQuote:
        with session_scope(deps.get_database()) as session:
            return save_quote(session, draft)

    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return await asyncio.to_thread(save)
        except SQLAlchemyError as error:
            logger.warning(
                "actions.quote.save_failed attempt=%d error=%s", attempt, type(error).__name__
            )
            await asyncio.sleep(0.2 * attempt)
    logger.error("actions.quote.dropped after %d attempts", WRITE_ATTEMPTS)
    return None


def percent(rate: Decimal) -> str:
    """Return a rate as a customer reads it: ``Decimal("0.05")`` -> ``"5%"``."""
    return f"{(rate * 100).normalize():f}%"


def long_date(day: date) -> str:
    """Return a date as ``31 December 2026``."""
    return f"{day.day} {day:%B %Y}"


def quote_values(quote: PricedQuote, domain: DomainDict) -> dict[str, str]:
    """Return the variables of the quote responses: the lines and the amounts, worded."""
    cur = quote.currency

    def amount(value: Decimal) -> str:
        return format_money(float(value), cur)

    lines = []
    for line in quote.lines:
        response = LINE_RESPONSES[1] if line.discount_rate else LINE_RESPONSES[0]
        text = domain_text(
            domain,
            response,
            quantity=str(line.quantity),
            name=line.name,
            unit_price=amount(line.unit_price),
            discount=percent(line.discount_rate),
            line_total=amount(line.line_total),
        )
        lines.append(text or f"{line.quantity} x {line.name}: {amount(line.line_total)}")
    values = {
        "lines": "\n".join(lines),
        "subtotal": amount(quote.subtotal),
        "discount": amount(quote.discount_total),
        "shipping": amount(quote.shipping),
        "tax_rate": percent(quote.tax_rate),
        "country": quote.country,
        "tax": amount(quote.tax),
        "total": amount(quote.total),
        "currency": cur,
        "valid_until": long_date(quote.valid_until),
    }
    if quote.recurring:  # plans: no discount tiers, delivery included
        for key in ("subtotal", "discount", "shipping"):
            values.pop(key)
    return values


class ActionMakeQuote(Action):
    """Price the product and quantity asked for, store the quote and show it itemised."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_make_quote"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Quote, or ask which product when none can be told."""
        catalog = deps.get_catalog()
        product = resolve_product(tracker, catalog)
        if product is None:
            dispatcher.utter_message(response="utter_ask_quote_product")
            return []
        quantity = requested_quantity(tracker)
        try:
            rules = deps.get_pricing_rules()
            country = delivery_country(tracker, rules.tax_rates)
            priced = rules.quote([(product, quantity)], country=country)
        except PricingError as error:
            logger.warning("actions.quote.not_priced product=%s reason=%s", product.id, error)
            dispatcher.utter_message(response="utter_quote_not_possible", product_name=product.name)
            return [SlotSet("product", product.name)]
        values = quote_values(priced, domain)
        stored = await store_quote(draft_of(priced, tracker.sender_id, channel_of(tracker)))
        buttons = [
            {
                "title": domain_text(domain, "utter_button_quote_go_ahead") or "Go ahead",
                "payload": payload("buy", product=product.name),
            }
        ]
        events: list[EventType] = [
            SlotSet("product", product.name),
            SlotSet("quantity", str(quantity)),
        ]
        asked = list(tracker.get_slot("products_asked") or [])
        events.append(SlotSet("products_asked", list(dict.fromkeys([*asked, product.id]))))
        if stored is None:
            response = QUOTE_RESPONSES[(priced.recurring, False)]
            dispatcher.utter_message(response=response, buttons=buttons, **values)
            return events
        link = f"{deps.settings().base_url.rstrip('/')}/quotes/{stored.token}"
        dispatcher.utter_message(
            response=QUOTE_RESPONSES[(priced.recurring, True)],
            buttons=buttons,
            json_message=self._payload(stored, link),
            number=stored.number,
            link=link,
            **values,
        )
        numbers = list(tracker.get_slot("quote_numbers") or [])
        events.append(SlotSet("quote_numbers", [*numbers, stored.number]))
        return events

    @staticmethod
    def _payload(stored: StoredQuote, link: str) -> dict[str, Any]:
        return {
            "kind": "quote",
            "number": stored.number,
            "url": link,
            "total": str(stored.total),
            "currency": stored.currency,
        }
