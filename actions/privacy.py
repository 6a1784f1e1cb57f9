"""Consent withdrawal: "stop contacting me" records a refusal and stops the deliveries.

``action_withdraw_consent`` shows the customer the confirmation (``utter_consent_withdrawn``,
or ``utter_consent_withdrawn_unknown`` when the conversation has no contact details) and
records, through :func:`core.storage.privacy.withdraw_consent`, a refused consent for contact
and for marketing with that exact wording and the time of the customer's message: the lead
is no longer contactable, rep notifications not yet sent are cancelled, and a CRM that
already has the lead gets it again with the opt-out (docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import deps
from actions.common import channel_of
from core.logging import sender_ref
from core.storage.privacy import Withdrawal, withdraw_consent
from core.storage.unit_of_work import session_scope

logger = logging.getLogger(__name__)

CONFIRMED = "utter_consent_withdrawn"
NOTHING_HELD = "utter_consent_withdrawn_unknown"
NOT_SAVED = "utter_consent_withdrawal_not_saved"
WRITE_ATTEMPTS = 3
FALLBACK_WORDING = "We will not contact you or send you marketing any more."


def _message_time(tracker: Tracker) -> datetime:
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("timestamp"):
            return datetime.fromtimestamp(float(event["timestamp"]), UTC)
    return datetime.now(UTC)


def _wording(domain: DomainDict, response: str, tracker: Tracker) -> str:
    variations = (domain.get("responses") or {}).get(response) or []
    text = variations[0].get("text") if variations and isinstance(variations[0], dict) else None
    if not isinstance(text, str) or not text.strip():
        return FALLBACK_WORDING
    values = {
        name: str(tracker.get_slot(name) or "")
        for name in ("company_name", "sales_email", "support_email")
    }
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


async def record_withdrawal(
    conversation_id: str, channel: str, wording: str, at: datetime
) -> Withdrawal | None:
    """Record the withdrawal; retry briefly (SQLite may be busy). None if it failed."""

    def write() -> Withdrawal:
        with session_scope(deps.get_database()) as session:
            return withdraw_consent(session, conversation_id, channel, wording, at)

    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return await asyncio.to_thread(write)
        except SQLAlchemyError as error:
            logger.warning(
                "actions.consent.withdraw_failed attempt=%d error=%s",
                attempt,
                type(error).__name__,
            )
            await asyncio.sleep(0.2 * attempt)
    logger.error("actions.consent.withdraw_dropped after %d attempts", WRITE_ATTEMPTS)
    return None


class ActionWithdrawConsent(Action):
    """Honour "stop contacting me": record the refusal, stop deliveries, confirm."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_withdraw_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Record the withdrawal with the confirmation's wording, then show that confirmation."""
        wording = _wording(domain, CONFIRMED, tracker)
        done = await record_withdrawal(
            tracker.sender_id, channel_of(tracker), wording, _message_time(tracker)
        )
        if done is None:
            dispatcher.utter_message(response=NOT_SAVED)
            return []
        logger.info(
            "actions.consent.withdrawn conversation=%s contact=%s cancelled=%d rearmed=%d",
            sender_ref(tracker.sender_id), done.contact_found, done.cancelled, done.rearmed,
        )  # fmt: skip
        if done.contact_found or done.contact_requests:
            dispatcher.utter_message(response=CONFIRMED)
        else:
            dispatcher.utter_message(response=NOTHING_HELD)
        return []
