"""actions/session.py: the company's name and addresses reach the responses as slots."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import deps
from actions.session import ActionSessionStart, company_slots
from core.config import Settings
from knowledge.catalog import Catalog
from tests.support.trackers import load_tracker


@pytest.fixture
def velo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = Settings(
        data_dir=tmp_path,
        company_name="Velo Works",
        support_email="help@velo.example",
        sales_email="shop@velo.example",
    )
    monkeypatch.setattr(deps, "settings", lambda: settings)
    catalog = Catalog.from_dict(
        {
            "currency": "GBP",
            "categories": [{"id": "road-bikes", "label": "Road bikes"}],
            "products": [
                {"id": "r1", "name": "Swift", "category": "road-bikes", "price": 900},
                {"id": "h1", "name": "Helmet", "category": "helmets", "price": 60},
            ],
        }
    )
    monkeypatch.setattr(deps, "get_catalog", lambda: catalog)
    return settings


def test_company_slots_come_from_the_settings_and_the_catalog(velo: Settings) -> None:
    assert company_slots() == {
        "company_name": "Velo Works",
        "support_email": "help@velo.example",
        "sales_email": "shop@velo.example",
        "company_offer": "road bikes and helmets",
    }


def test_session_start_sets_the_company_and_carries_slots_over(velo: Settings) -> None:
    tracker = load_tracker(
        "buy",
        slots={"email": "jo@example.com", "product": None, "company_name": "Old name"},
    )
    domain = {"session_config": {"carry_over_slots_to_new_session": True}}
    events = asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker, domain))
    assert events[0] == SessionStarted()
    assert events[-1] == ActionExecuted("action_listen")
    assert SlotSet("email", "jo@example.com") in events
    assert SlotSet("company_name", "Velo Works") in events
    assert SlotSet("company_name", "Old name") not in events
    assert SlotSet("company_offer", "road bikes and helmets") in events
    assert not any(e.get("name") == "product" for e in events if e.get("event") == "slot")


def test_session_start_without_carry_over_keeps_only_the_metadata(velo: Settings) -> None:
    tracker = load_tracker(
        "buy", slots={"email": "jo@example.com", "session_started_metadata": {"channel": "web"}}
    )
    domain = {"session_config": {"carry_over_slots_to_new_session": False}}
    events = asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker, domain))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots == {
        "session_started_metadata": {"channel": "web"},
        "company_name": "Velo Works",
        "support_email": "help@velo.example",
        "sales_email": "shop@velo.example",
        "company_offer": "road bikes and helmets",
    }
