"""actions/knowledge.py: answers with sources, declines, failures and follow-up scoping."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import Engine, select

from actions.knowledge import (
    ANSWER_RESPONSE,
    ASK_RESPONSE,
    DECLINE_RESPONSE,
    ERROR_RESPONSE,
    PROBLEM_ANSWER_RESPONSE,
    ActionAnswerQuestion,
)
from core.storage import KBAnswer, session_scope
from knowledge.catalog import Catalog
from tests.support.trackers import (
    DECLINED,
    SHIPPING,
    StubKnowledgeBase,
    load_tracker,
    rendered,
    run,
    use_kb,
    variables,
)


def test_answer_carries_sources_and_is_recorded(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_kb(monkeypatch, StubKnowledgeBase(SHIPPING))
    tracker = load_tracker("question")
    events, dispatcher = run(ActionAnswerQuestion(), tracker)

    assert events == [SlotSet("kb_found", True)]
    [message] = dispatcher.messages
    assert message["response"] == ANSWER_RESPONSE
    assert variables(message) == {"answer": SHIPPING.text}
    [shown] = rendered(dispatcher, tracker)
    assert shown["text"] == SHIPPING.text
    assert shown["buttons"] == []
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


def test_answer_to_a_problem_offers_the_support_team(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_kb(monkeypatch, StubKnowledgeBase(SHIPPING))
    tracker = load_tracker(
        "question",
        latest_message={
            "text": "my parcel never arrived",
            "intent": {"name": "report_problem"},
            "entities": [],
        },
    )
    _, dispatcher = run(ActionAnswerQuestion(), tracker)
    [message] = dispatcher.messages
    assert message["response"] == PROBLEM_ANSWER_RESPONSE
    assert message["custom"]["kind"] == "kb_answer"
    [shown] = rendered(dispatcher, tracker)
    assert shown["text"] == (
        f"{SHIPPING.text}\n\nIf that doesn't solve it, our support team can take a look."
    )
    assert [b["payload"] for b in shown["buttons"]] == ["/ask_human"]


def test_decline_offers_a_person_or_an_email(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_kb(monkeypatch, StubKnowledgeBase(DECLINED))
    tracker = load_tracker("question")
    events, dispatcher = run(ActionAnswerQuestion(), tracker)

    assert events == [SlotSet("kb_found", False)]
    [message] = dispatcher.messages
    assert message["response"] == DECLINE_RESPONSE
    [shown] = rendered(dispatcher, tracker)
    assert shown["text"].startswith("I'm sorry, I couldn't find that in our documents")
    assert [b["payload"] for b in shown["buttons"]] == ["/ask_human", "/leave_email"]
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
    tracker = load_tracker("question")
    events, dispatcher = run(ActionAnswerQuestion(), tracker)
    assert events == [SlotSet("kb_found", False)]
    assert dispatcher.messages[0]["response"] == ERROR_RESPONSE
    assert rendered(dispatcher, tracker)[0]["buttons"][0]["payload"] == "/ask_human"


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
    assert dispatcher.messages[0]["response"] == ASK_RESPONSE
    assert rendered(dispatcher, tracker)[0]["text"] == (
        "Sure. What would you like to know? Ask me about our products, orders or policies."
    )


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
    assert variables(dispatcher.messages[0])["company_name"] == "Kestrel Coffee Works"
    assert "everything Kestrel Coffee Works" in rendered(dispatcher, tracker)[0]["text"]
