"""actions/leads.py: qualification answers, declines, corrections, consents and the capture."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions import deps
from actions.leads import (
    DECLINED,
    ActionCaptureLead,
    ValidateLeadForm,
    clean_answer,
    is_free_mail,
    lead_details,
)
from core.storage import ContactRequest, get_engine, session_scope
from core.storage.leads import lead_records
from knowledge.catalog import Catalog
from tests.support.trackers import DOMAIN, _domain, rendered, run, variables

from .sales_trackers import sales_tracker

ANSWERED = {
    "person_name": "Anna Schmidt",
    "email": "anna@northwind.example",
    "company": "Northwind Logistics",
    "role": "office manager",
    "team_size": "40",
    "budget": "5000 euros",
    "timeline": "within 3 months",
    "need": "coffee for a 40-person office",
    "recommended": ["koa-1", "s-office", "c-office"],
    "products_asked": ["koa-1", "s-office", "c-office"],
    "quote_numbers": [],
}
CONTACT_QUESTION = {
    "event": "bot",
    "text": "May Kestrel Coffee Works's sales team contact you by email about this request?",
    "metadata": {"utter_action": "utter_ask_consent_contact"},
}


def validate(tracker: Any) -> tuple[dict[str, Any], CollectingDispatcher]:
    """Run the form's validation action; return the slots it sets and the dispatcher."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateLeadForm().run(dispatcher, tracker, _domain(DOMAIN)))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, dispatcher


def test_answers_fill_the_question_asked_without_their_lead_in() -> None:
    assert validate(sales_tracker("my name is Anna Schmidt", requested="person_name"))[0] == {
        "person_name": "Anna Schmidt"
    }
    assert validate(sales_tracker("I work at Acme GmbH", requested="company"))[0] == {
        "company": "Acme GmbH"
    }
    assert clean_answer("I'm the facilities manager") == "facilities manager"


def test_a_declined_question_moves_on() -> None:
    slots, _ = validate(sales_tracker("I'd rather not say", intent="deny", requested="role"))
    assert slots == {"role": DECLINED}
    slots, _ = validate(sales_tracker("no idea", requested="budget"))
    assert slots == {"budget": DECLINED}


def test_a_question_is_not_taken_as_an_answer() -> None:
    slots, _ = validate(
        sales_tracker("do you deliver to Belgium?", intent="ask_policy", requested="company")
    )
    assert slots == {}


def test_a_correction_changes_the_earlier_answer_not_the_current_one() -> None:
    slots, dispatcher = validate(
        sales_tracker("actually it's 60 people", requested="timeline", slots={"team_size": "40"})
    )
    assert slots == {"team_size": "60"}
    assert dispatcher.messages[0]["response"] == "utter_lead_correction_team_size"
    assert variables(dispatcher.messages[0]) == {"team_size": "60"}


def test_a_work_email_is_taken_and_kept_for_sales_at_once(database: Engine) -> None:
    tracker = sales_tracker(
        "it's Anna@Northwind.example",
        requested="email",
        sender="conv-email-1",
        slots={"product": "Kestrel Office Auto", "quantity": "2", "quote_numbers": ["Q-1"]},
    )
    slots, dispatcher = validate(tracker)
    assert slots == {"email": "anna@northwind.example"}
    assert dispatcher.messages[0]["response"] == "utter_email_confirmed"
    with session_scope(database) as session:
        (kept,) = session.scalars(select(ContactRequest)).all()
        assert (kept.sender_id, kept.email, kept.topic) == (
            "conv-email-1",
            "anna@northwind.example",
            "sales",
        )
        assert kept.details == {
            "stage": "qualifying",
            "product": "Kestrel Office Auto",
            "quantity": "2",
            "quote_numbers": ["Q-1"],
        }


def test_a_personal_email_is_taken_with_a_note(database: Engine) -> None:
    slots, dispatcher = validate(sales_tracker("anna.s@gmail.com", requested="email"))
    assert slots == {"email": "anna.s@gmail.com"}
    assert dispatcher.messages[0]["response"] == "utter_email_personal_note"
    assert is_free_mail("x@outlook.com") and not is_free_mail("x@kestrel.example")


def test_an_address_that_is_not_one_is_asked_again() -> None:
    slots, dispatcher = validate(sales_tracker("my email is not-an-address", requested="email"))
    assert slots == {"email": None}
    assert dispatcher.messages[0]["response"] == "utter_invalid_email"


def test_declining_the_email_ends_the_questions() -> None:
    slots, dispatcher = validate(sales_tracker("/deny", intent="deny", requested="email"))
    assert slots["email"] == DECLINED
    assert slots["requested_slot"] is None
    assert dispatcher.messages[0]["response"] == "utter_lead_email_declined"


def test_each_consent_is_recorded_with_its_wording_answer_and_time() -> None:
    tracker = sales_tracker(
        "/affirm", intent="affirm", requested="consent_contact", events=[CONTACT_QUESTION]
    )
    slots, _ = validate(tracker)
    assert slots["consent_contact"] is True
    (record,) = slots["consents"]
    assert record["purpose"] == "contact"
    assert record["granted"] is True
    assert record["wording"] == CONTACT_QUESTION["text"]
    assert record["at"] == datetime.fromtimestamp(1_780_000_000, tz=UTC).isoformat()

    marketing = sales_tracker(
        "no thanks",
        intent="deny",
        requested="consent_marketing",
        slots={"consents": slots["consents"], "company_name": "Kestrel Coffee Works"},
    )
    slots, _ = validate(marketing)
    assert slots["consent_marketing"] is False
    assert [c["purpose"] for c in slots["consents"]] == ["contact", "marketing"]
    assert slots["consents"][1]["wording"] == (
        "And would you like to receive Kestrel Coffee Works's newsletter and offers by email? "
        "You can unsubscribe at any time."
    )


def test_lead_details_leave_out_declined_answers(catalog: Catalog) -> None:
    slots = {**ANSWERED, "role": DECLINED, "budget": "open", "consents": []}
    details = lead_details(sales_tracker("", slots=slots), "EUR")
    assert details.role is None and details.budget is None and details.currency is None
    assert details.team_size == 40
    assert details.products_asked == ("koa-1", "s-office", "c-office")


def _consented(contact: bool) -> list[dict[str, Any]]:
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).isoformat()
    return [
        {"purpose": "contact", "granted": contact, "wording": "May we contact you?", "at": at},
        {"purpose": "marketing", "granted": False, "wording": "Newsletter?", "at": at},
    ]


def test_the_lead_is_captured_with_consents_and_an_outbox_entry(
    database: Engine, catalog: Catalog
) -> None:
    slots = {
        **ANSWERED,
        "consent_contact": True,
        "consent_marketing": False,
        "consents": _consented(True),
    }
    tracker = sales_tracker("/deny", intent="deny", slots=slots, sender="conv-lead-1")
    events, dispatcher = run(ActionCaptureLead(), tracker)
    with session_scope(database) as session:
        (lead,) = lead_records(session)
    assert events == [{"event": "slot", "timestamp": None, "name": "lead_id", "value": lead.id}]
    assert lead.email == "anna@northwind.example"
    assert lead.company == "Northwind Logistics" and lead.team_size == 40
    assert lead.contactable and not lead.marketing
    assert {d.kind for d in lead.deliveries} >= {"crm:builtin"}
    assert dispatcher.messages[0]["response"] in {
        "utter_lead_captured",
        "utter_lead_captured_rep_notified",
    }
    assert "anna@northwind.example" in rendered(dispatcher, tracker)[0]["text"]
    assert dispatcher.messages[0]["custom"] == {"kind": "lead_captured"}  # the widget's `lead`


def test_no_contact_consent_stores_a_lead_that_is_not_contactable(
    database: Engine, catalog: Catalog
) -> None:
    slots = {
        **ANSWERED,
        "consent_contact": False,
        "consent_marketing": False,
        "consents": _consented(False),
    }
    tracker = sales_tracker("no", intent="deny", slots=slots, sender="conv-lead-2")
    _, dispatcher = run(ActionCaptureLead(), tracker)
    with session_scope(database) as session:
        (lead,) = lead_records(session)
    assert not lead.contactable
    assert dispatcher.messages[0]["response"] == "utter_lead_captured_no_contact"
    assert dispatcher.messages[0]["custom"] == {"kind": "lead_captured"}


def test_without_an_email_nothing_is_stored(database: Engine, catalog: Catalog) -> None:
    tracker = sales_tracker("/deny", intent="deny", slots={**ANSWERED, "email": DECLINED})
    events, dispatcher = run(ActionCaptureLead(), tracker)
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_lead_without_email"
    with session_scope(database) as session:
        assert lead_records(session) == []


def test_a_storage_failure_is_told_honestly(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    broken = get_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    monkeypatch.setattr(deps, "get_database", lambda: broken)
    monkeypatch.setattr("actions.leads.asyncio.sleep", _no_wait)
    slots = {**ANSWERED, "consents": _consented(True)}
    tracker = sales_tracker("yes", intent="affirm", slots=slots)
    events, dispatcher = run(ActionCaptureLead(), tracker)
    assert events == [], "the slots keep what the customer gave"
    assert dispatcher.messages[0]["response"] == "utter_lead_not_saved"
    assert "sales@" in rendered(dispatcher, tracker)[0]["text"]


async def _no_wait(_: float) -> None:
    return None
