"""actions/sales.py: the sales handoff and the support contact form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions import deps
from actions.parsing import parse_amount
from actions.sales import ActionSalesHandoff, ActionSaveContact, ValidateContactForm
from core.storage import ContactRequest, get_engine, session_scope
from knowledge.catalog import Catalog
from tests.support.trackers import load_tracker, render, rendered, run, session_slots, variables


def test_sales_handoff_names_the_product_and_marks_the_topic(catalog: Catalog) -> None:
    tracker = load_tracker("buy")
    events, dispatcher = run(ActionSalesHandoff(), tracker)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_sales_handoff_product_units"
    assert variables(message) == {
        "product_name": "Kestrel Office Auto",
        "price": "€2,750",
        "units": "12",
    }
    text = rendered(dispatcher, tracker)[0]["text"]
    assert "Kestrel Office Auto" in text
    assert "12 units" in text
    assert text.startswith("Great, I'll get our sales team on it: the Kestrel Office Auto (€2,750)")
    assert events == [SlotSet("contact_topic", "sales")]


@pytest.mark.parametrize(
    ("slots", "response", "start"),
    [
        ({"product": "Kestrel Office Auto", "quantity": None}, "utter_sales_handoff_product",
         "Great, I'll get our sales team on it: the Kestrel Office Auto (€2,750). A few"),
        ({"product": None, "quantity": "12"}, "utter_sales_handoff_units",
         "Great, I'll get our sales team on it, 12 units. A few"),
        ({"product": None, "quantity": None}, "utter_sales_handoff",
         "Great, I'll get our sales team on it. A few"),
    ],
)  # fmt: skip
def test_sales_handoff_wording_without_product_or_quantity(
    catalog: Catalog, slots: dict[str, Any], response: str, start: str
) -> None:
    tracker = load_tracker("buy", slots={"email": None, "contact_topic": None, **slots})
    _, dispatcher = run(ActionSalesHandoff(), tracker)
    assert dispatcher.messages[0]["response"] == response
    assert rendered(dispatcher, tracker)[0]["text"].startswith(start)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jane.Doe@Example.com", "jane.doe@example.com"),
        ("<sales@acme.co.uk>", "sales@acme.co.uk"),
        ("not-an-address", None),
        ("jane@", None),
        ("@example.com", None),
    ],
)
def test_contact_form_validates_email(value: str, expected: str | None) -> None:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("buy")
    result = ValidateContactForm().validate_email(value, dispatcher, tracker, {})
    assert result == {"email": expected}
    assert bool(dispatcher.messages) is (expected is None)
    if expected is None:
        assert dispatcher.messages[0]["response"] == "utter_invalid_email"
        assert "name@company.com" in rendered(dispatcher, tracker)[0]["text"]


def test_saved_contact_keeps_what_the_customer_wanted(database: Engine, catalog: Catalog) -> None:
    tracker = load_tracker("buy")
    _, dispatcher = run(ActionSaveContact(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_contact_saved"
    assert variables(dispatcher.messages[0]) == {"email": "jane.doe@example.com"}
    text = rendered(dispatcher, tracker)[0]["text"]
    assert "jane.doe@example.com" in text
    assert "Our sales team will email you" in text
    with session_scope(database) as session:
        lead = session.scalars(select(ContactRequest)).one()
    assert (lead.email, lead.topic) == ("jane.doe@example.com", "sales")
    assert lead.details["product"] == "Kestrel Office Auto"
    assert lead.details["question"] == "I want to order 12 Kestrel Office Auto machines"
    assert lead.details["transcript"][0]["from"] == "customer"


def test_saved_support_contact_names_the_support_team(database: Engine) -> None:
    tracker = load_tracker("buy", slots={"email": "jo@example.com", "contact_topic": "support"})
    _, dispatcher = run(ActionSaveContact(), tracker)
    assert (
        "Our support team will email you at jo@example.com"
        in (rendered(dispatcher, tracker)[0]["text"])
    )


def test_no_email_left_is_fine(database: Engine) -> None:
    tracker = load_tracker("buy", slots={"email": None, "contact_topic": "sales"})
    events, dispatcher = run(ActionSaveContact(), tracker)
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_contact_not_left"
    assert rendered(dispatcher, tracker)[0]["text"] == (
        "No problem. If you change your mind, just ask."
    )


def test_unsaved_contact_tells_the_customer_where_to_write(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = get_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    monkeypatch.setattr(deps, "get_database", lambda: broken)
    (tmp_path / "missing" / "dir").rmdir()
    tracker = load_tracker("buy")
    _, dispatcher = run(ActionSaveContact(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_contact_not_saved"
    address = variables(dispatcher.messages[0])["address"]
    assert address == deps.settings().company.sales_email
    text = render(dispatcher.messages[0], session_slots(tracker))["text"]
    assert "sales@" in text
    assert f"Please email {address} and mention this chat" in text


@pytest.mark.parametrize(
    ("text", "amount"),
    [("under 200 euros", 200), ("€1,290", 1290), ("1.5k", 1500), ("about 89.90", 89.9),
     ("no idea", None), (12, 12)],
)  # fmt: skip
def test_parse_amount(text: Any, amount: float | None) -> None:
    assert parse_amount(text) == amount
