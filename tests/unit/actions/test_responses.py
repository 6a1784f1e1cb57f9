"""Every response the actions send exists in domain.yml and renders with what they pass.

Rasa fills ``{name}`` from the variables passed to ``utter_message(response=..., name=...)``
and from the slots; a placeholder with neither is sent raw to the customer. These tests run
each action down each of its branches, render every message with every variation the domain
offers (strictly: a missing variable fails), and check that the responses the rules send
directly need nothing but the slots that action_session_start sets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions import deps
from actions.common import domain_text
from actions.handoff import ActionHandoffToHuman
from actions.knowledge import ActionAnswerQuestion
from actions.sales import (
    ActionRecommendProducts,
    ActionSalesHandoff,
    ActionSaveContact,
    ValidateContactForm,
)
from actions.session import COMPANY_SLOTS
from actions.support import ActionDefaultAskAffirmation
from core.config import PROJECT_ROOT
from core.storage import get_engine
from knowledge.catalog import Catalog
from tests.support.trackers import (
    DECLINED,
    SHIPPING,
    StubKnowledgeBase,
    domain_responses,
    domain_slots,
    load_tracker,
    placeholders,
    render_all,
    run,
    session_slots,
    use_kb,
    variables,
)

ACTIONS_DIR = PROJECT_ROOT / "actions"
LEFTOVER = re.compile(r"{[A-Za-z_][A-Za-z0-9_]*}")
Scenario = Callable[[pytest.MonkeyPatch, Path], tuple[CollectingDispatcher, Tracker]]


def _answer(answer: Any, **latest: Any) -> Scenario:
    def scenario(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> tuple[CollectingDispatcher, Tracker]:
        use_kb(monkeypatch, StubKnowledgeBase(answer) if answer else StubKnowledgeBase())
        if answer is None:
            use_kb(monkeypatch, StubKnowledgeBase(error=RuntimeError("down")))
        tracker = load_tracker("question", **latest)
        return run(ActionAnswerQuestion(), tracker)[1], tracker

    return scenario


def _action(action: Any, fixture: str, **changes: Any) -> Scenario:
    def scenario(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> tuple[CollectingDispatcher, Tracker]:
        tracker = load_tracker(fixture, **changes)
        return run(action, tracker)[1], tracker

    return scenario


def _invalid_email(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("buy")
    ValidateContactForm().validate_email("nope", dispatcher, tracker, {})
    return dispatcher, tracker


def _unsaved_contact(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    broken = get_engine(f"sqlite:///{tmp_path / 'gone' / 'x.db'}")
    monkeypatch.setattr(deps, "get_database", lambda: broken)
    tracker = load_tracker("buy")
    return run(ActionSaveContact(), tracker)[1], tracker


def _nothing_at_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    monkeypatch.setattr(deps, "get_catalog", lambda: Catalog([]))
    tracker = load_tracker(
        "recommend",
        slots={"category": None, "budget": None},
        **_message("what would you suggest for a big office kitchen", "ask_recommendation"),
    )
    return run(ActionRecommendProducts(), tracker)[1], tracker


def _ranking(*names: str) -> dict[str, Any]:
    return {
        "latest_message": {
            "text": "hmm",
            "intent": {"name": "nlu_fallback", "confidence": 0.4},
            "intent_ranking": [{"name": n, "confidence": 0.3} for n in names],
        }
    }


def _message(text: str, intent: str) -> dict[str, Any]:
    return {"latest_message": {"text": text, "intent": {"name": intent}, "entities": []}}


SCENARIOS: dict[str, Scenario] = {
    "answer": _answer(SHIPPING),
    "answer to a problem": _answer(SHIPPING, **_message("it leaks", "report_problem")),
    "decline": _answer(DECLINED),
    "out of scope": _answer(DECLINED, **_message("weather?", "out_of_scope")),
    "knowledge base down": _answer(None),
    "bare button": _answer(
        SHIPPING, **_message("/ask_policy", "ask_policy"), events=[{"event": "user", "text": "/x"}]
    ),
    "recommend with budget": _action(ActionRecommendProducts(), "recommend"),
    "recommend without budget": _action(
        ActionRecommendProducts(),
        "recommend",
        slots={"category": "grinders", "budget": None},
        **_message("which grinder should I buy", "ask_recommendation"),
    ),
    "ask category": _action(
        ActionRecommendProducts(),
        "recommend",
        slots={"category": None, "budget": None},
        **_message("recommend something", "ask_recommendation"),
    ),
    "nothing in budget": _action(
        ActionRecommendProducts(), "recommend", slots={"category": "grinders", "budget": "€5"}
    ),
    "nothing at all": _nothing_at_all,
    "sales handoff": _action(ActionSalesHandoff(), "buy"),
    "sales handoff, product": _action(
        ActionSalesHandoff(), "buy", slots={"product": "Kestrel Office Auto"}
    ),
    "sales handoff, units": _action(ActionSalesHandoff(), "buy", slots={"quantity": "5"}),
    "sales handoff, plain": _action(ActionSalesHandoff(), "buy", slots={}),
    "invalid email": _invalid_email,
    "contact saved": _action(ActionSaveContact(), "buy"),
    "contact not left": _action(ActionSaveContact(), "buy", slots={"contact_topic": "sales"}),
    "contact not saved": _unsaved_contact,
    "handoff": _action(
        ActionHandoffToHuman(), "question", **_message("a human please", "ask_human")
    ),
    "affirmation": _action(ActionDefaultAskAffirmation(), "fallback", **_ranking("ask_price")),
    "affirmation, person": _action(
        ActionDefaultAskAffirmation(), "fallback", **_ranking("ask_human")
    ),
    "affirmation, unclear": _action(
        ActionDefaultAskAffirmation(), "fallback", **_ranking("nlu_fallback")
    ),
}


@pytest.fixture
def actions_ready(
    database: Engine, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    yield


def _responses_named_in_actions() -> set[str]:
    """Responses the actions send (``utter_message(response=...)``), not the ones they read."""
    names: set[str] = set()
    for path in ACTIONS_DIR.glob("*.py"):
        names.update(re.findall(r"[\"'](utter_[a-z0-9_]*[a-z0-9])[\"']", path.read_text()))
    return names - _responses_read_in_actions()


def _responses_read_in_actions() -> set[str]:
    """Responses whose text an action reads with ``domain_text`` (words inside its messages)."""
    names: set[str] = set()
    for path in ACTIONS_DIR.glob("*.py"):
        names.update(
            re.findall(r"domain_text\(\s*domain,\s*[\"'](utter_[a-z0-9_]+)[\"']", path.read_text())
        )
    return names


def test_words_the_actions_read_from_the_domain_exist_and_fill() -> None:
    responses = domain_responses()
    read = _responses_read_in_actions()
    assert {"utter_button_product_details", "utter_button_product_quote"} <= read
    for name in read:
        assert name in responses, f"{name} is read by an action but not in domain.yml"
        text = domain_text({"responses": responses}, name, name="Velo 1")
        assert text and not LEFTOVER.search(text), (name, text)


def test_every_affirmable_intent_has_plain_words_in_the_domain() -> None:
    import yaml

    from actions.support import MEANING_RESPONSE_PREFIX, NOT_AFFIRMABLE

    intents = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["intents"]
    responses = domain_responses()
    for intent in intents:
        if intent not in NOT_AFFIRMABLE:
            assert MEANING_RESPONSE_PREFIX + intent in responses, intent


def _sent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[dict[str, Any], Tracker]]:
    sent: list[tuple[dict[str, Any], Tracker]] = []
    for name, scenario in SCENARIOS.items():
        with monkeypatch.context() as patch:
            dispatcher, tracker = scenario(patch, tmp_path / name.replace(" ", "-"))
        assert dispatcher.messages, f"scenario {name!r} sent nothing"
        sent.extend((message, tracker) for message in dispatcher.messages)
    return sent


def test_every_response_the_actions_name_is_in_the_domain() -> None:
    missing = _responses_named_in_actions() - set(domain_responses())
    assert not missing, f"responses used in actions/ but not in domain.yml: {sorted(missing)}"


@pytest.mark.usefixtures("actions_ready")
def test_actions_send_responses_only_and_every_variation_renders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sent = _sent(monkeypatch, tmp_path)
    used = set()
    for message, tracker in sent:
        assert message.get("text") is None, f"wording in Python: {message}"
        assert message["response"] in domain_responses(), message
        used.add(message["response"])
        for shown in render_all(message, session_slots(tracker)):  # KeyError: a missing variable
            assert shown["text"].strip()
            assert not LEFTOVER.search(shown["text"]), shown["text"]
            for button in shown["buttons"]:
                assert not LEFTOVER.search(button["title"] + button["payload"]), button
    not_exercised = _responses_named_in_actions() - used
    assert not not_exercised, f"no scenario sends {sorted(not_exercised)}"


def test_responses_sent_by_rules_need_only_the_session_slots() -> None:
    from_actions = _responses_named_in_actions() | _responses_read_in_actions()
    slots = domain_slots()
    assert set(COMPANY_SLOTS) <= slots
    for name, variations in domain_responses().items():
        if name in from_actions or name.startswith("utter_meaning_"):
            continue
        for variation in variations:
            texts = [
                variation["text"],
                *(b["title"] + b["payload"] for b in variation.get("buttons", [])),
            ]
            needed = set().union(*(placeholders(t) for t in texts))
            assert needed <= set(COMPANY_SLOTS), (name, needed - set(COMPANY_SLOTS))


@pytest.mark.usefixtures("actions_ready")
def test_passed_variables_are_used_by_the_response(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for message, _ in _sent(monkeypatch, tmp_path):
        passed = set(variables(message))
        for variation in domain_responses()[message["response"]]:
            texts = [variation["text"], *(b["payload"] for b in variation.get("buttons", []))]
            used = set().union(*(placeholders(t) for t in texts))
            unused = passed - used - set(COMPANY_SLOTS)
            assert not unused, (message["response"], unused)
