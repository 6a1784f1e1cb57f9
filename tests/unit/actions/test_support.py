"""actions/support.py: the fallback's "Did you mean...?" in plain words."""

from __future__ import annotations

from actions.support import (
    AFFIRMATION_HUMAN_RESPONSE,
    AFFIRMATION_RESPONSE,
    UNCLEAR_RESPONSE,
    ActionDefaultAskAffirmation,
)
from tests.support.trackers import load_tracker, rendered, run, variables


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
    assert message["response"] == AFFIRMATION_RESPONSE
    assert variables(message) == {
        "intent": "ask_policy",
        "meaning": "ask about shipping, returns, warranty or another policy",
    }
    [shown] = rendered(dispatcher, tracker)
    assert "shipping, returns, warranty" in shown["text"]
    assert "ask_policy'" not in shown["text"]
    assert [b["payload"] for b in shown["buttons"]] == [
        "/ask_policy",
        "/out_of_scope",
        "/ask_human",
    ]


def test_affirmation_of_a_person_does_not_offer_a_person_twice() -> None:
    tracker = load_tracker(
        "fallback",
        latest_message={
            "text": "somebody real",
            "intent": {"name": "nlu_fallback", "confidence": 0.4},
            "intent_ranking": [{"name": "ask_human", "confidence": 0.38}],
        },
    )
    _, dispatcher = run(ActionDefaultAskAffirmation(), tracker)
    assert dispatcher.messages[0]["response"] == AFFIRMATION_HUMAN_RESPONSE
    [shown] = rendered(dispatcher, tracker)
    assert shown["text"] == "Sorry, I'm not sure I understood. Did you want to talk to a person?"
    assert [b["payload"] for b in shown["buttons"]] == ["/ask_human", "/out_of_scope"]


def test_affirmation_without_a_describable_intent_asks_to_rephrase() -> None:
    tracker = load_tracker(
        "fallback",
        latest_message={
            "text": "blorp",
            "intent": {"name": "nlu_fallback", "confidence": 0.4},
            "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.4}],
        },
    )
    _, dispatcher = run(ActionDefaultAskAffirmation(), tracker)
    assert dispatcher.messages[0]["response"] == UNCLEAR_RESPONSE
    [shown] = rendered(dispatcher, tracker)
    assert [b["payload"] for b in shown["buttons"]] == ["/ask_human"]
