"""Lead qualification: ``lead_form`` with consent, then the lead through ``capture_lead``.

The form asks for the name, work email, company, role, team size, budget, timeline and need,
skipping what the conversation already told (the recommendation's team size, budget and
need), then the consent to be contacted and, separately, the marketing consent.
``validate_lead_form`` reads each answer: "I'd rather not say" declines one question (the
form goes on), a correction such as "actually it's 60 people" changes the earlier answer
instead of becoming the answer to the current question, and a free-mail address is accepted
with a note (docs/sales.md). Each consent answer is kept with the exact question the customer
saw and the time of the answer. ``action_capture_lead`` then stores the lead with
:func:`core.storage.leads.capture_lead` (which also owes the CRM delivery through the outbox;
the assistant never calls a CRM) and says what happens next.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import deps, store
from actions.common import channel_of, domain_text, latest_intent, latest_text
from actions.parsing import find_money, find_team_size, is_decline, parse_amount, read_count
from actions.recommend import NO_MUST_HAVES, OPEN_BUDGET, QUESTION_INTENTS
from core.storage.leads import CapturedLead, ConsentAnswer, LeadDetails, LeadError, capture_lead
from core.storage.unit_of_work import session_scope

logger = logging.getLogger(__name__)

FORM = "lead_form"
DECLINED = "(declined)"
"""The value of a question the customer chose not to answer (the form then moves on)."""
LEAD_MARKER = {"kind": "lead_captured"}
"""The custom payload of the reply that confirms a captured lead (the widget emits `lead`)."""
TEXT_SLOTS = ("person_name", "company", "role", "timeline", "need")
CONSENT_SLOTS = {"consent_contact": "contact", "consent_marketing": "marketing"}
CONSENT_QUESTIONS = {
    "consent_contact": "utter_ask_consent_contact",
    "consent_marketing": "utter_ask_consent_marketing",
}
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.de",
        "yahoo.fr",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.de",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "web.de",
        "t-online.de",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "yandex.com",
        "zoho.com",
        "ziggo.nl",
        "kpnmail.nl",
        "home.nl",
        "telenet.be",
        "skynet.be",
        "orange.fr",
        "free.fr",
        "libero.it",
        "wanadoo.fr",
    }
)
"""Personal-address providers: accepted, with a note that a work address reaches sales better."""
_AFFIRM = re.compile(r"^\s*(yes|yeah|yep|sure|ok|okay|of course|please do|fine|go ahead)\b", re.I)
_LEAD_INS = (
    "my name is",
    "my name's",
    "name is",
    "name's",
    "i am",
    "i'm",
    "im",
    "it's",
    "it is",
    "this is",
    "call me",
    "i work at",
    "i work for",
    "we are",
    "we're",
    "our company is",
    "the company is",
    "company is",
    "my role is",
    "as",
)
_LEAD_IN = re.compile(
    r"^\s*(?:" + "|".join(re.escape(w) for w in sorted(_LEAD_INS, key=len, reverse=True)) + r")"
    r"\s+(?:(?:the|a|an)\s+)?",
    re.IGNORECASE,
)
WRITE_ATTEMPTS = 3


def find_email(text: str) -> str | None:
    """Return the email address in a message, lower-cased, or None."""
    match = EMAIL_PATTERN.search(text)
    return match.group(0).strip(".").lower() if match and len(match.group(0)) <= 254 else None


def is_free_mail(email: str) -> bool:
    """Whether the address is at a personal-mail provider (gmail.com, outlook.com...)."""
    return email.rsplit("@", 1)[-1].lower() in FREE_MAIL_DOMAINS


def clean_answer(text: str) -> str:
    """Return an answer without its lead-in ("my name is Anna" -> "Anna")."""
    cleaned = _LEAD_IN.sub("", text.strip(), count=1).strip().strip(".!")
    return cleaned or text.strip()


def answer_time(tracker: Tracker) -> datetime:
    """Return when the customer sent the latest message (UTC), now if unknown."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("timestamp"):
            return datetime.fromtimestamp(float(event["timestamp"]), tz=UTC)
    return datetime.now(tz=UTC)


def question_wording(tracker: Tracker, response: str, domain: DomainDict) -> str:
    """Return the question exactly as the customer saw it before answering.

    The bot event Rasa recorded for ``response`` (its ``utter_action`` metadata) holds the
    sent text; without one (a test tracker), the response is rendered from the domain.
    """
    for event in reversed(tracker.events):
        if event.get("event") != "bot":
            continue
        metadata = event.get("metadata") or {}
        if metadata.get("utter_action") == response and event.get("text"):
            return str(event["text"])
    slots = {k: str(v) for k, v in tracker.current_slot_values().items() if v is not None}
    return domain_text(domain, response, **slots) or response


def known(value: Any) -> str | None:
    """Return a slot's value unless it is empty, declined or a recommendation placeholder."""
    if value in (None, "", DECLINED, OPEN_BUDGET, NO_MUST_HAVES):
        return None
    return str(value)


class ValidateLeadForm(FormValidationAction):
    """Read the qualification answers, declines and corrections; keep the consents' wording."""

    def name(self) -> str:
        """Return the validator's name in the domain."""
        return "validate_lead_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Stop asking when the customer declines to give an email: there is no lead then."""
        if tracker.get_slot("email") == DECLINED:
            return ["email"]  # filled with the decline, so the form is done
        return domain_slots

    @staticmethod
    def _asked(tracker: Tracker) -> str | None:
        slot = tracker.get_slot("requested_slot")
        return None if latest_intent(tracker) in QUESTION_INTENTS else slot

    @staticmethod
    def _correction(tracker: Tracker) -> str | None:
        """Return the earlier answer the latest message corrects (team size, budget, email)."""
        text = latest_text(tracker)
        asked = tracker.get_slot("requested_slot")
        if asked != "team_size" and find_team_size(text):
            return "team_size"
        if asked != "budget" and find_money(text):
            return "budget"
        if asked != "email" and find_email(text):
            return "email"
        return None

    async def _text(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        if self._asked(tracker) != slot or self._correction(tracker):
            return {}
        text = latest_text(tracker)
        if not text:
            return {slot: DECLINED} if latest_intent(tracker) == "deny" else {}
        if is_decline(text, latest_intent(tracker)):
            return {slot: DECLINED}
        return {slot: clean_answer(text)[:200]}

    async def extract_person_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the name when asked."""
        return await self._text("person_name", tracker)

    async def extract_company(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the company when asked."""
        return await self._text("company", tracker)

    async def extract_role(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the role when asked."""
        return await self._text("role", tracker)

    async def extract_timeline(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the timeline when asked."""
        return await self._text("timeline", tracker)

    async def extract_need(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take the need when asked."""
        return await self._text("need", tracker)

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take an address from any message (a correction too); a decline when asked."""
        found = find_email(latest_text(tracker))
        if found:
            return {"email": found}
        if self._asked(tracker) != "email" or self._correction(tracker):
            return {}
        text = latest_text(tracker)
        if is_decline(text, latest_intent(tracker)):
            return {"email": DECLINED}
        # not an address: validate_email says so and the form asks again
        return {"email": text} if text else {}

    async def extract_team_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read a team size from any message; a bare number or a decline when asked."""
        text = latest_text(tracker)
        size = find_team_size(text)
        asked = self._asked(tracker) == "team_size"
        if size is None and asked:
            if is_decline(text, latest_intent(tracker)):
                return {"team_size": DECLINED}
            size = read_count(text)
        if size and tracker.get_slot("team_size") not in (None, str(size)) and not asked:
            dispatcher.utter_message(
                response="utter_lead_correction_team_size", team_size=str(size)
            )
        return {"team_size": str(size)} if size else {}

    async def extract_budget(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read a money amount from any message; any number or a decline when asked."""
        text = latest_text(tracker)
        money = find_money(text)
        asked = self._asked(tracker) == "budget"
        if money:
            if tracker.get_slot("budget") not in (None, money) and not asked:
                dispatcher.utter_message(response="utter_lead_correction_budget", budget=money)
            return {"budget": money}
        if asked:
            if is_decline(text, latest_intent(tracker)):
                return {"budget": DECLINED}
            if parse_amount(text):
                return {"budget": text}
        return {}

    async def extract_consent_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read a yes or no to the contact question."""
        return self._consent("consent_contact", tracker)

    async def extract_consent_marketing(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read a yes or no to the marketing question."""
        return self._consent("consent_marketing", tracker)

    def _consent(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        if self._asked(tracker) != slot:
            return {}
        intent, text = latest_intent(tracker), latest_text(tracker)
        if intent == "affirm" or _AFFIRM.match(text):
            return {slot: True}
        if is_decline(text, intent):
            return {slot: False}
        return {}

    async def validate_email(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept a work address; a personal one with a note; ask again for anything else.

        The address is kept for the sales team at once (``contact_requests``, topic
        ``sales``), so a conversation that ends mid-form still leaves it; the lead itself,
        contactable or not, is stored with the consents at the end.
        """
        if slot_value == DECLINED:
            dispatcher.utter_message(response="utter_lead_email_declined")
            return {"email": DECLINED}
        email = find_email(str(slot_value or ""))
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
            return {"email": None}
        if is_free_mail(email):
            dispatcher.utter_message(response="utter_email_personal_note", email=email)
        else:
            dispatcher.utter_message(response="utter_email_confirmed", email=email)
        details = {
            "stage": "qualifying",
            "product": tracker.get_slot("product"),
            "quantity": tracker.get_slot("quantity"),
            "quote_numbers": list(tracker.get_slot("quote_numbers") or []),
        }
        await store.record_contact(tracker.sender_id, email, "sales", details)
        return {"email": email}

    def validate_team_size(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept a whole number of people, or a decline."""
        if slot_value == DECLINED:
            return {"team_size": DECLINED}
        text = str(slot_value)
        if not text.isdigit() or not 0 < int(text) <= 100_000:
            dispatcher.utter_message(response="utter_team_size_not_understood")
            return {"team_size": None}
        return {"team_size": text}

    def validate_consent_contact(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Record the answer to the contact question with its wording and time."""
        return self._record("consent_contact", slot_value, tracker, domain)

    def validate_consent_marketing(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Record the answer to the marketing question with its wording and time."""
        return self._record("consent_marketing", slot_value, tracker, domain)

    @staticmethod
    def _record(slot: str, value: Any, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        if not isinstance(value, bool):
            return {slot: None}
        answers = [
            a for a in tracker.get_slot("consents") or [] if a.get("purpose") != CONSENT_SLOTS[slot]
        ]
        answers.append(
            {
                "purpose": CONSENT_SLOTS[slot],
                "granted": value,
                "wording": question_wording(tracker, CONSENT_QUESTIONS[slot], domain),
                "at": answer_time(tracker).isoformat(),
            }
        )
        return {slot: value, "consents": answers}


def lead_details(tracker: Tracker, currency: str) -> LeadDetails:
    """Build what ``capture_lead`` stores from the conversation's slots and transcript."""
    consents = tuple(
        ConsentAnswer(
            purpose=str(item["purpose"]),
            granted=bool(item["granted"]),
            wording=str(item["wording"]),
            at=datetime.fromisoformat(str(item["at"])),
        )
        for item in tracker.get_slot("consents") or []
    )
    budget = parse_amount(known(tracker.get_slot("budget")))
    team = known(tracker.get_slot("team_size"))
    lines: list[tuple[str, str]] = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            text = str(event["text"])
            if not text.startswith("/"):
                lines.append(("customer" if event["event"] == "user" else "bot", text))
    return LeadDetails(
        conversation_id=tracker.sender_id,
        channel=channel_of(tracker),
        email=str(tracker.get_slot("email")),
        name=known(tracker.get_slot("person_name")),
        company=known(tracker.get_slot("company")),
        role=known(tracker.get_slot("role")),
        team_size=int(team) if team and team.isdigit() else None,
        budget=Decimal(str(budget)) if budget else None,
        currency=currency if budget else None,
        timeline=known(tracker.get_slot("timeline")),
        need=known(tracker.get_slot("need")),
        products_asked=tuple(tracker.get_slot("products_asked") or ()),
        quote_numbers=tuple(tracker.get_slot("quote_numbers") or ()),
        consents=consents,
        transcript=tuple(lines),
    )


async def store_lead(details: LeadDetails) -> CapturedLead | None:
    """Capture the lead; retry briefly (SQLite may be busy). None if it could not be stored."""
    settings = deps.settings()
    rules = deps.get_scoring_rules()

    def capture() -> CapturedLead:
        with session_scope(deps.get_database()) as session:
            return capture_lead(session, details, settings, rules)

    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return await asyncio.to_thread(capture)
        except SQLAlchemyError as error:
            logger.warning(
                "actions.lead.capture_failed attempt=%d error=%s", attempt, type(error).__name__
            )
            await asyncio.sleep(0.2 * attempt)
    logger.error("actions.lead.dropped after %d attempts", WRITE_ATTEMPTS)
    return None


class ActionCaptureLead(Action):
    """Store the qualified lead and tell the customer what happens next."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_capture_lead"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Capture the lead once; if it cannot be stored, say so (the slots keep everything)."""
        email = tracker.get_slot("email")
        if not email or email == DECLINED:
            dispatcher.utter_message(response="utter_lead_without_email")
            return []
        try:
            details = lead_details(tracker, deps.get_catalog().currency)
            captured = await store_lead(details)
        except LeadError as error:
            logger.warning("actions.lead.refused reason=%s", error)
            dispatcher.utter_message(response="utter_invalid_email")
            return [SlotSet("email", None)]
        if captured is None:
            dispatcher.utter_message(response="utter_lead_not_saved")
            return []
        logger.info(
            "actions.lead.captured lead=%s grade=%s created=%s enqueued=%s",
            captured.lead_id,
            captured.grade,
            captured.created,
            ",".join(captured.enqueued),
        )
        # ``custom.kind`` tells the widget (and the host page's analytics) a lead was captured
        if captured.contactable:
            notified = any(kind.startswith("notify:") for kind in captured.enqueued)
            response = "utter_lead_captured_rep_notified" if notified else "utter_lead_captured"
            dispatcher.utter_message(response=response, email=str(email), json_message=LEAD_MARKER)
        else:
            dispatcher.utter_message(
                response="utter_lead_captured_no_contact", json_message=LEAD_MARKER
            )
        return [SlotSet("lead_id", captured.lead_id)]
