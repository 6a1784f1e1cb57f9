"""actions/recommend.py: the recommendation form reads any message; picks come with reasons."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import deps
from actions.recommend import (
    ActionAskMustHaves,
    ActionRecommendProducts,
    ValidateRecommendationForm,
)
from knowledge.catalog import Catalog
from knowledge.recommend import Recommender
from tests.support.embeddings import HashingEmbeddings
from tests.support.trackers import DOMAIN, _domain, rendered, run, session_slots, variables

from .sales_trackers import sales_tracker

FORM_SLOTS = ["need", "team_size", "budget", "must_haves"]


@pytest.fixture
def recommender(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Recommender:
    built = Recommender(catalog, HashingEmbeddings())
    monkeypatch.setattr(deps, "get_recommender", lambda: built)
    return built


def extract(tracker: Any) -> dict[str, Any]:
    """Run the form's validation action and return the slots it sets."""
    domain = _domain(DOMAIN)
    events = asyncio.run(ValidateRecommendationForm().run(CollectingDispatcher(), tracker, domain))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_everything_in_one_message_leaves_only_the_must_haves(catalog: Catalog) -> None:
    text = "we're a 40-person office and need a coffee setup, budget around 5000 euros"
    slots = extract(sales_tracker(text, intent="ask_recommendation"))
    assert slots["need"] == text
    assert slots["team_size"] == "40"
    assert slots["budget"] == "5000 euros"
    assert "must_haves" not in slots


def test_answers_fill_the_slot_that_was_asked(catalog: Catalog) -> None:
    assert extract(sales_tracker("about 25", requested="team_size"))["team_size"] == "25"
    assert extract(sales_tracker("just me", requested="team_size"))["team_size"] == "1"
    budget = extract(sales_tracker("/deny", intent="deny", requested="budget"))
    assert budget["budget"] == "open"
    assert extract(sales_tracker("3000", requested="budget"))["budget"] == "3000"
    must = extract(sales_tracker("plumbed-in water and a milk system", requested="must_haves"))
    assert must["must_haves"] == "plumbed-in water and a milk system"
    none = extract(sales_tracker("nothing special", intent="deny", requested="must_haves"))
    assert none["must_haves"] == "none"


def test_a_question_fills_nothing_so_the_rules_can_answer_it(catalog: Catalog) -> None:
    slots = extract(
        sales_tracker(
            "how long is the warranty?",
            intent="ask_policy",
            requested="team_size",
            slots={"need": "espresso at home"},
        )
    )
    assert slots == {}


def test_a_correction_changes_the_team_size_after_the_fact(catalog: Catalog) -> None:
    slots = extract(
        sales_tracker(
            "actually it's 60 people",
            slots={
                "need": "office coffee",
                "team_size": "40",
                "budget": "open",
                "must_haves": "none",
            },
        )
    )
    assert slots == {"team_size": "60"}


def test_a_quantity_replaces_the_team_size_question(catalog: Catalog) -> None:
    slots = extract(sales_tracker("I need 3 grinders for our shops", intent="ask_recommendation"))
    assert "team_size" not in slots
    assert slots["requested_slot"] == "budget", "required slots changed: rasa-sdk asks next"


def test_the_need_question_offers_the_catalog_categories(catalog: Catalog) -> None:
    domain = _domain(DOMAIN)
    from actions.recommend import ActionAskNeed

    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskNeed().run(dispatcher, sales_tracker("/ask_recommendation"), domain))
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["title"] for b in buttons] == list(catalog.category_labels().values())
    assert buttons[0]["payload"] == '/inform{"category": "espresso-machines"}'


def test_the_must_have_question_gives_examples_that_fit_the_need(
    catalog: Catalog, recommender: Recommender
) -> None:
    tracker = sales_tracker("", slots={"need": "office", "team_size": "40", "budget": "5000"})
    _, dispatcher = run(ActionAskMustHaves(), tracker)
    examples = variables(dispatcher.messages[0])["examples"]
    assert examples == "automatic fresh milk system or bean-to-cup"


def test_recommendations_come_with_reasons_and_quote_buttons(
    catalog: Catalog, recommender: Recommender
) -> None:
    tracker = sales_tracker(
        "",
        slots={
            "need": "coffee for our 40-person office",
            "team_size": "40",
            "budget": "5000 euros",
            "must_haves": "plumbed-in water",
        },
    )
    events, dispatcher = run(ActionRecommendProducts(), tracker)
    intro, *cards = dispatcher.messages
    assert intro["response"] == "utter_recommendation_intro_team_budget"
    assert variables(intro) == {"team_size": "40", "max_price": "€5,000"}
    ids = [card["custom"]["product_id"] for card in cards]
    assert ids and ids[0] == "koa-1"
    shown = rendered(dispatcher, tracker)
    assert shown[1]["text"] == (
        "Kestrel Office Auto, €2,750 (in stock): within your budget of €5,000; "
        "rated for 10-60 people; rated for 30-150 cups a day; plumbed-in water."
    )
    payloads = [b["payload"] for b in shown[1]["buttons"]]
    assert payloads == [
        '/ask_product{"product": "Kestrel Office Auto"}',
        '/ask_quote{"product": "Kestrel Office Auto"}',
    ]
    slots = {e["name"]: e["value"] for e in events}
    assert slots["recommended"] == ids
    assert slots["product"] == "Kestrel Office Auto"
    assert slots["products_asked"] == ids


def test_nothing_fits_says_what_to_relax_and_shows_the_nearest(
    catalog: Catalog, recommender: Recommender
) -> None:
    tracker = sales_tracker(
        "",
        slots={
            "need": "espresso machine",
            "category": "espresso-machines",
            "team_size": "2",
            "budget": "€100",
            "must_haves": "none",
        },
    )
    events, dispatcher = run(ActionRecommendProducts(), tracker)
    assert dispatcher.messages[0]["response"] == "utter_relax_budget"
    text = rendered(dispatcher, tracker)[0]["text"]
    assert text.startswith("Nothing fits everything you asked for within €100.")
    nearest = [m["custom"]["product_id"] for m in dispatcher.messages[1:]]
    assert nearest and nearest[0] == "km-100", "the cheapest machine that fits the rest"
    assert {e["name"]: e["value"] for e in events}["recommended"] == nearest


def test_a_must_have_nobody_offers_is_said(catalog: Catalog, recommender: Recommender) -> None:
    tracker = sales_tracker(
        "", slots={"need": "office", "team_size": "40", "must_haves": "karaoke machine"}
    )
    _, dispatcher = run(ActionRecommendProducts(), tracker)
    first = dispatcher.messages[0]
    assert first["response"] == "utter_must_have_not_offered"
    assert variables(first) == {"feature": "karaoke machine"}


def test_a_recommender_failure_offers_a_person(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Recommender:
        raise RuntimeError("index gone")

    monkeypatch.setattr(deps, "get_recommender", broken)
    events, dispatcher = run(ActionRecommendProducts(), sales_tracker("", slots={"need": "x"}))
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_recommendation_unavailable"
    assert "person" in rendered(dispatcher, session_tracker())[0]["text"]


def session_tracker() -> Any:
    return sales_tracker("", slots=session_slots(sales_tracker("")))


def test_a_shop_without_capacities_or_features_asks_only_need_and_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bikes = Catalog.from_dict(
        {
            "currency": "GBP",
            "products": [{"id": "e-1", "name": "Volt", "category": "e-bikes", "price": 1899}],
        }
    )
    monkeypatch.setattr(deps, "get_catalog", lambda: bikes)
    slots = extract(
        sales_tracker(
            "Can you recommend an electric bike under £2,000?",
            "ask_recommendation",
            entities=[{"entity": "category", "value": "e-bikes"}],
        )
    )
    assert slots["need"] == "Can you recommend an electric bike under £2,000?"
    assert slots["budget"] == "£2,000"
    assert slots["requested_slot"] is None, "nothing left to ask: recommend"


def test_an_off_topic_looking_question_is_not_taken_as_the_need(catalog: Catalog) -> None:
    tracker = sales_tracker("what is the return window?", intent="out_of_scope", requested="need")
    assert extract(tracker) == {}


def test_an_unclear_question_is_not_the_need_but_an_unclear_description_is(
    catalog: Catalog,
) -> None:
    question = sales_tracker("what is the return window?", "nlu_fallback", requested="need")
    assert extract(question) == {}
    described = sales_tracker("a thing for the team kitchen", "nlu_fallback", requested="need")
    assert extract(described)["need"] == "a thing for the team kitchen"
