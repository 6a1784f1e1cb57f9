"""Custom actions against real Tracker fixtures, a real SQLite database and the demo catalog."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select

from actions import deps
from actions.handoff import ActionHandoffToHuman
from actions.knowledge import ASK_TEXT, DECLINE_TEXT, ActionAnswerQuestion
from actions.sales import (
    ActionRecommendProducts,
    ActionSalesHandoff,
    ActionSaveContact,
    ValidateContactForm,
    parse_amount,
)
from actions.support import ActionDefaultAskAffirmation
from core.config import PROJECT_ROOT
from core.storage import ContactRequest, HandoffRequest, KBAnswer, get_engine, session_scope
from core.storage.migrate import upgrade
from knowledge.catalog import Catalog
from knowledge.types import Answer, Chunk, Source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "trackers"


def load_tracker(name: str, **changes: Any) -> Tracker:
    state = json.loads((FIXTURES / f"{name}.json").read_text())
    state.update(changes)
    return Tracker.from_dict(state)


def run(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return list(events), dispatcher


class StubKnowledgeBase:
    """Answers every question with a fixed Answer (or raises), to isolate the action's logic."""

    def __init__(self, answer: Answer | None = None, error: Exception | None = None) -> None:
        self.answer = answer
        self.error = error
        self.questions: list[tuple[str, str | None]] = []

    def ask(self, question: str, *, product_id: str | None = None) -> Answer:
        self.questions.append((question, product_id))
        if self.error:
            raise self.error
        assert self.answer is not None
        return self.answer


SHIPPING = Answer(
    question="How long does shipping to Germany take?",
    text="Orders to Germany arrive in 2-4 business days.",
    confidence=0.81,
    sources=[Source(title="Shipping › Delivery times", location="docs/shipping.md#delivery-times")],
    chunks=[
        Chunk(
            id="c1",
            text="Germany: 2-4 business days.",
            source="docs/shipping.md",
            title="Shipping › Delivery times",
            location="docs/shipping.md#delivery-times",
            score=0.81,
        )
    ],
)
DECLINED = Answer(question="blorp the frobnicator", text=None, confidence=0.05)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'concierge.db'}"
    upgrade(url)
    engine = get_engine(url)
    monkeypatch.setattr(deps, "get_database", lambda: engine)
    yield engine
    engine.dispose()


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch) -> Catalog:
    loaded = Catalog.load(PROJECT_ROOT / "knowledge" / "demo" / "catalog.json")
    monkeypatch.setattr(deps, "get_catalog", lambda: loaded)
    return loaded


def use_kb(monkeypatch: pytest.MonkeyPatch, kb: StubKnowledgeBase) -> None:
    monkeypatch.setattr(deps, "get_knowledge_base", lambda: kb)


def test_answer_carries_sources_and_is_recorded(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_kb(monkeypatch, StubKnowledgeBase(SHIPPING))
    events, dispatcher = run(ActionAnswerQuestion(), load_tracker("question"))

    assert events == [SlotSet("kb_found", True)]
    [message] = dispatcher.messages
    assert message["text"] == SHIPPING.text
    custom = message["custom"]
    assert custom["sources"] == [
        {"title": "Shipping › Delivery times", "location": "docs/shipping.md#delivery-times"}
    ]
    with session_scope(database) as session:
        stored = session.scalars(select(KBAnswer)).one()
        assert stored.id == custom["answer_id"]
        assert stored.question == SHIPPING.question
        assert stored.chunk_ids == ["c1"]
        assert stored.channel == "web"


def test_decline_offers_a_person_or_an_email(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_kb(monkeypatch, StubKnowledgeBase(DECLINED))
    events, dispatcher = run(ActionAnswerQuestion(), load_tracker("question"))

    assert events == [SlotSet("kb_found", False)]
    [message] = dispatcher.messages
    assert message["text"] == DECLINE_TEXT
    assert [b["payload"] for b in message["buttons"]] == ["/ask_human", "/leave_email"]
    with session_scope(database) as session:
        assert session.scalars(select(KBAnswer)).one().answer is None


def test_decline_on_nlu_fallback_stays_silent_for_the_two_stage_fallback(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_kb(monkeypatch, StubKnowledgeBase(DECLINED))
    events, dispatcher = run(ActionAnswerQuestion(), load_tracker("fallback"))
    assert events == [SlotSet("kb_found", False)]
    assert dispatcher.messages == []


def test_knowledge_base_failure_never_crashes_the_conversation(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_kb(monkeypatch, StubKnowledgeBase(error=RuntimeError("index is corrupt")))
    events, dispatcher = run(ActionAnswerQuestion(), load_tracker("question"))
    assert events == [SlotSet("kb_found", False)]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/ask_human"


def test_follow_up_question_is_scoped_to_the_product_discussed(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = StubKnowledgeBase(SHIPPING)
    use_kb(monkeypatch, kb)
    product = catalog.find("Kestrel Barista Pro 300")
    assert product is not None
    tracker = load_tracker(
        "question",
        slots={"product": "Barista Pro"},
        latest_message={
            "text": "how much is it?",
            "intent": {"name": "ask_price", "confidence": 0.9},
            "entities": [],
        },
    )
    run(ActionAnswerQuestion(), tracker)
    assert kb.questions == [("how much is it?", product.id)]


def test_recommendation_respects_category_and_budget(catalog: Catalog) -> None:
    events, dispatcher = run(ActionRecommendProducts(), load_tracker("recommend"))
    cards = [m for m in dispatcher.messages if m.get("custom", {}).get("kind") == "product"]
    assert cards, dispatcher.messages
    recommended = [catalog.get(m["custom"]["product_id"]) for m in cards]
    assert all(p is not None and p.category == "grinders" for p in recommended)
    assert all(p is not None and p.price <= 200 for p in recommended)
    assert all(any(b["payload"].startswith("/buy") for b in m["buttons"]) for m in cards)
    assert events[0]["name"] == "product"


def test_recommendation_without_criteria_asks_for_a_category(catalog: Catalog) -> None:
    tracker = load_tracker(
        "recommend",
        slots={"category": None, "budget": None},
        latest_message={"text": "recommend something", "intent": {"name": "ask_recommendation"}},
    )
    events, dispatcher = run(ActionRecommendProducts(), tracker)
    assert events == []
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert '/ask_recommendation{"category": "grinders"}' in payloads


def test_impossible_budget_says_so_instead_of_inventing(catalog: Catalog) -> None:
    tracker = load_tracker("recommend", slots={"category": "espresso-machines", "budget": "€50"})
    events, dispatcher = run(ActionRecommendProducts(), tracker)
    assert "couldn't find" in dispatcher.messages[0]["text"]
    assert events == [SlotSet("budget", None)]


def test_sales_handoff_names_the_product_and_marks_the_topic(catalog: Catalog) -> None:
    events, dispatcher = run(ActionSalesHandoff(), load_tracker("buy"))
    assert "Kestrel Office Auto" in dispatcher.messages[0]["text"]
    assert "12 units" in dispatcher.messages[0]["text"]
    assert events == [SlotSet("contact_topic", "sales")]


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
    result = ValidateContactForm().validate_email(value, dispatcher, load_tracker("buy"), {})
    assert result == {"email": expected}
    assert bool(dispatcher.messages) is (expected is None)


def test_saved_contact_keeps_what_the_customer_wanted(database: Engine, catalog: Catalog) -> None:
    _, dispatcher = run(ActionSaveContact(), load_tracker("buy"))
    assert "jane.doe@example.com" in dispatcher.messages[0]["text"]
    with session_scope(database) as session:
        lead = session.scalars(select(ContactRequest)).one()
    assert (lead.email, lead.topic) == ("jane.doe@example.com", "sales")
    assert lead.details["product"] == "Kestrel Office Auto"
    assert lead.details["question"] == "I want to order 12 Kestrel Office Auto machines"
    assert lead.details["transcript"][0]["from"] == "customer"


def test_unsaved_contact_tells_the_customer_where_to_write(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = get_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    monkeypatch.setattr(deps, "get_database", lambda: broken)
    (tmp_path / "missing" / "dir").rmdir()
    _, dispatcher = run(ActionSaveContact(), load_tracker("buy"))
    assert "sales@" in dispatcher.messages[0]["text"]


def test_handoff_is_recorded_with_context(database: Engine) -> None:
    tracker = load_tracker(
        "question",
        latest_message={"text": "a human please", "intent": {"name": "ask_human"}},
        events=[
            {"event": "user", "text": "my grinder makes a weird noise"},
            {"event": "bot", "text": "Sorry to hear that."},
            {"event": "user", "text": "a human please"},
        ],
    )
    events, dispatcher = run(ActionHandoffToHuman(), tracker)
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/leave_email"
    with session_scope(database) as session:
        handoff = session.scalars(select(HandoffRequest)).one()
    assert handoff.reason == "customer_request"
    assert handoff.last_message == "my grinder makes a weird noise"
    assert events == [SlotSet("contact_topic", "support")]


@pytest.mark.parametrize(
    ("text", "amount"),
    [("under 200 euros", 200), ("€1,290", 1290), ("1.5k", 1500), ("about 89.90", 89.9),
     ("no idea", None), (12, 12)],
)  # fmt: skip
def test_parse_amount(text: Any, amount: float | None) -> None:
    assert parse_amount(text) == amount


def test_affirmation_describes_the_likely_intent_in_plain_words() -> None:
    tracker = load_tracker(
        "fallback",
        latest_message={
            "text": "do u do the thing with returns",
            "intent": {"name": "nlu_fallback", "confidence": 0.4},
            "intent_ranking": [
                {"name": "nlu_fallback", "confidence": 0.4},
                {"name": "ask_policy", "confidence": 0.38},
            ],
        },
    )
    _, dispatcher = run(ActionDefaultAskAffirmation(), tracker)
    [message] = dispatcher.messages
    assert "shipping, returns, warranty" in message["text"]
    assert "ask_policy'" not in message["text"]
    assert [b["payload"] for b in message["buttons"]] == [
        "/ask_policy",
        "/out_of_scope",
        "/ask_human",
    ]


def test_confirmed_question_is_answered_after_the_affirmation(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = StubKnowledgeBase(SHIPPING)
    use_kb(monkeypatch, kb)
    tracker = load_tracker(
        "question",
        latest_message={"text": "/ask_policy", "intent": {"name": "ask_policy"}},
        events=[
            {"event": "user", "text": "shiping to germny how long"},
            {"event": "action", "name": "action_default_ask_affirmation"},
            {"event": "user", "text": "/ask_policy"},
        ],
    )
    events, _ = run(ActionAnswerQuestion(), tracker)
    assert kb.questions == [("shiping to germny how long", None)]
    assert events == [SlotSet("kb_found", True)]


def test_a_bare_button_asks_what_the_customer_wants_to_know(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = StubKnowledgeBase(SHIPPING)
    use_kb(monkeypatch, kb)
    tracker = load_tracker(
        "question",
        latest_message={"text": "/ask_policy", "intent": {"name": "ask_policy"}},
        events=[{"event": "user", "text": "hi"}, {"event": "user", "text": "/ask_policy"}],
    )
    _, dispatcher = run(ActionAnswerQuestion(), tracker)
    assert kb.questions == []
    assert dispatcher.messages[0]["text"] == ASK_TEXT


def test_out_of_scope_decline_is_the_polite_redirect(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_kb(monkeypatch, StubKnowledgeBase(DECLINED))
    tracker = load_tracker(
        "question",
        latest_message={
            "text": "what's the weather in Vienna?",
            "intent": {"name": "out_of_scope"},
        },
    )
    events, dispatcher = run(ActionAnswerQuestion(), tracker)
    assert events == [SlotSet("kb_found", False)]
    assert dispatcher.messages[0]["response"] == "utter_out_of_scope"
