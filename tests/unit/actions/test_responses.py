"""Every response the actions send exists in domain.yml and renders with what they pass.

Rasa fills ``{name}`` from the variables passed to ``utter_message(response=..., name=...)``
and from the slots; a placeholder with neither is sent raw to the customer. These tests run
each action down each of its branches, render every message with every variation the domain
offers (strictly: a missing variable fails), and check that the responses the rules send
directly need nothing but the slots that action_session_start sets.
"""

from __future__ import annotations

import asyncio
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
from actions.leads import CONSENT_QUESTIONS, ActionCaptureLead, ValidateLeadForm
from actions.leads import DECLINED as NOT_SAID
from actions.privacy import ActionWithdrawConsent
from actions.quotes import LINE_RESPONSES, ActionMakeQuote
from actions.recommend import (
    REASON_RESPONSES,
    ActionAskMustHaves,
    ActionAskNeed,
    ActionRecommendProducts,
    ValidateRecommendationForm,
)
from actions.sales import ActionSalesHandoff, ActionSaveContact, ValidateContactForm
from actions.session import COMPANY_SLOTS
from actions.support import ActionDefaultAskAffirmation
from core.config import PROJECT_ROOT
from core.storage import ContactRequest, get_engine, session_scope
from knowledge.catalog import Catalog
from knowledge.recommend import Recommender
from tests.support.embeddings import HashingEmbeddings
from tests.support.trackers import (
    DECLINED,
    DOMAIN,
    SHIPPING,
    StubKnowledgeBase,
    _domain,
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

from .sales_trackers import sales_tracker

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
    empty = Catalog([])
    monkeypatch.setattr(deps, "get_catalog", lambda: empty)
    monkeypatch.setattr(deps, "get_recommender", lambda: Recommender(empty, HashingEmbeddings()))
    tracker = sales_tracker("", slots={"need": "a big office kitchen"})
    return run(ActionRecommendProducts(), tracker)[1], tracker


def _recommend(**slots: Any) -> Scenario:
    def scenario(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> tuple[CollectingDispatcher, Tracker]:
        catalog = deps.get_catalog()
        monkeypatch.setattr(
            deps, "get_recommender", lambda: Recommender(catalog, HashingEmbeddings())
        )
        tracker = sales_tracker("", slots=slots)
        return run(ActionRecommendProducts(), tracker)[1], tracker

    return scenario


def _recommend_in(products: list[dict[str, Any]], **slots: Any) -> Scenario:
    def scenario(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> tuple[CollectingDispatcher, Tracker]:
        catalog = Catalog.from_dict({"products": products})
        monkeypatch.setattr(deps, "get_catalog", lambda: catalog)
        monkeypatch.setattr(
            deps, "get_recommender", lambda: Recommender(catalog, HashingEmbeddings())
        )
        tracker = sales_tracker("", slots=slots)
        return run(ActionRecommendProducts(), tracker)[1], tracker

    return scenario


def _validate(action: Any, text: str, intent: str = "inform", **changes: Any) -> Scenario:
    def scenario(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> tuple[CollectingDispatcher, Tracker]:
        tracker = sales_tracker(text, intent=intent, **changes)
        dispatcher = CollectingDispatcher()
        asyncio.run(action.run(dispatcher, tracker, _domain(DOMAIN)))
        return dispatcher, tracker

    return scenario


def _sales(action: Any, text: str = "", intent: str = "inform", **changes: Any) -> Scenario:
    def scenario(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> tuple[CollectingDispatcher, Tracker]:
        tracker = sales_tracker(text, intent=intent, **changes)
        return run(action, tracker)[1], tracker

    return scenario


def _broken_database(action: Any, text: str, **changes: Any) -> Scenario:
    def scenario(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> tuple[CollectingDispatcher, Tracker]:
        broken = get_engine(f"sqlite:///{tmp_path / 'gone' / 'x.db'}")
        monkeypatch.setattr(deps, "get_database", lambda: broken)
        monkeypatch.setattr("asyncio.sleep", _no_wait)
        tracker = sales_tracker(text, **changes)
        return run(action, tracker)[1], tracker

    return scenario


async def _no_wait(_: float) -> None:
    return None


def _failing_recommender(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    def broken() -> Recommender:
        raise RuntimeError("down")

    monkeypatch.setattr(deps, "get_recommender", broken)
    tracker = sales_tracker("", slots={"need": "x"})
    return run(ActionRecommendProducts(), tracker)[1], tracker


def _team_size_not_understood(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    dispatcher, tracker = CollectingDispatcher(), sales_tracker("0", requested="team_size")
    ValidateRecommendationForm().validate_team_size("0", dispatcher, tracker, {})
    ValidateLeadForm().validate_team_size("0", dispatcher, tracker, {})
    return dispatcher, tracker


def _recommend_with(action: Any) -> Scenario:
    def scenario(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> tuple[CollectingDispatcher, Tracker]:
        catalog = deps.get_catalog()
        monkeypatch.setattr(
            deps, "get_recommender", lambda: Recommender(catalog, HashingEmbeddings())
        )
        tracker = sales_tracker("", slots={"team_size": "40"})
        return run(action, tracker)[1], tracker

    return scenario


def _must_haves_without_features(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    plain = Catalog.from_dict({"products": [_item("a")]})
    monkeypatch.setattr(deps, "get_catalog", lambda: plain)
    monkeypatch.setattr(deps, "get_recommender", lambda: Recommender(plain, HashingEmbeddings()))
    tracker = sales_tracker("")
    return run(ActionAskMustHaves(), tracker)[1], tracker


def _not_priced(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    pounds = Catalog.from_dict({"currency": "GBP", "products": [_item("velo-one")]})
    monkeypatch.setattr(deps, "get_catalog", lambda: pounds)
    tracker = sales_tracker("quote for 2 Velo-One", intent="ask_quote")
    return run(ActionMakeQuote(), tracker)[1], tracker


def _rep_notified(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    from core.storage.leads import CapturedLead

    async def hot(details: Any) -> CapturedLead:
        return CapturedLead(
            lead_id="lead-1",
            contact_id="contact-1",
            score=90,
            grade="hot",
            reasons=(),
            created=True,
            contactable=True,
            enqueued=("crm:builtin", "notify:telegram"),
        )

    monkeypatch.setattr("actions.leads.store_lead", hot)
    tracker = sales_tracker("", slots=LEAD)
    return run(ActionCaptureLead(), tracker)[1], tracker


def _item(pid: str, **fields: Any) -> dict[str, Any]:
    return {"id": pid, "name": pid.title(), "category": "machines", "price": 100, **fields}


RECOMMENDED = ["koa-1", "s-office", "c-office"]
OFFICE = {"need": "office coffee", "team_size": "40", "budget": "5000 euros", "must_haves": "none"}
_RECOMMEND: dict[str, Scenario] = {
    "team and budget": _recommend(**OFFICE),
    "budget only": _recommend(need="grinder", budget="300 euros", category="grinders"),
    "team only": _recommend(need="office", team_size="40"),
    "nothing given": _recommend(need="something nice"),
    "unknown must-have": _recommend(need="office", must_haves="karaoke"),
    "relax budget": _recommend(need="espresso", category="espresso-machines", budget="€10"),
    "relax team size": _recommend_in(
        [_item("a", capacity={"people": [1, 2]})], need="x", team_size="500"
    ),
    "relax features": _recommend_in(
        [_item("a", features=["steam wand"]), _item("b", features=["two groups"])],
        need="x",
        must_haves="steam wand and two groups",
    ),
    "relax category": _recommend_in(
        [
            _item("a", category="grinders", capacity={"people": [1, 2]}),
            _item("b", category="machines", capacity={"people": [50, 60]}),
        ],
        need="x",
        category="grinders",
        team_size="55",
    ),
    "relax stock": _recommend_in([_item("a", stock="out_of_stock")], need="x"),
    "nothing near": _recommend_in(
        [_item("a", category="grinders", stock="out_of_stock")], need="x", category="machines"
    ),
    "recommender down": _failing_recommender,
    "ask need": _sales(ActionAskNeed()),
    "ask must-haves": _recommend_with(ActionAskMustHaves()),
    "ask must-haves, no features": _must_haves_without_features,
    "team size not understood": _team_size_not_understood,
}
_QUOTE: dict[str, Scenario] = {
    "quote": _sales(
        ActionMakeQuote(), "2 of the first one", "ask_quote", slots={"recommended": RECOMMENDED}
    ),
    "discount": _sales(ActionMakeQuote(), "quote for 12 Barista Pro 300", "ask_quote"),
    "monthly": _sales(
        ActionMakeQuote(), "the second one", "ask_quote", slots={"recommended": RECOMMENDED}
    ),
    "which product": _sales(ActionMakeQuote(), "a quote please", "ask_quote"),
    "not priced": _not_priced,
    "unsaved": _broken_database(
        ActionMakeQuote(),
        "2 of the first one",
        intent="ask_quote",
        slots={"recommended": RECOMMENDED},
    ),
    "monthly unsaved": _broken_database(
        ActionMakeQuote(), "the second one", intent="ask_quote", slots={"recommended": RECOMMENDED}
    ),
}
CONSENTED = [
    {"purpose": "contact", "granted": True, "wording": "May we?", "at": "2026-12-01T12:00:00+00:00"}
]
LEAD = {"email": "anna@northwind.example", "person_name": "Anna", "consents": CONSENTED}
_LEAD: dict[str, Scenario] = {
    "captured": _sales(ActionCaptureLead(), slots=LEAD),
    "captured, rep notified": _rep_notified,
    "captured, no contact": _sales(
        ActionCaptureLead(), slots={**LEAD, "consents": [{**CONSENTED[0], "granted": False}]}
    ),
    "no email": _sales(ActionCaptureLead(), slots={"email": NOT_SAID}),
    "not saved": _broken_database(ActionCaptureLead(), "yes", slots=LEAD),
    "correction": _validate(
        ValidateLeadForm(),
        "actually we're 60 people and budget is 9000 euros",
        requested="timeline",
        slots={"team_size": "40", "budget": "5000"},
    ),
    "personal email": _validate(ValidateLeadForm(), "anna@gmail.com", requested="email"),
    "work email": _validate(ValidateLeadForm(), "anna@northwind.example", requested="email"),
    "email declined": _validate(ValidateLeadForm(), "/deny", "deny", requested="email"),
    "invalid email": _validate(ValidateLeadForm(), "anna@nowhere", requested="email"),
}


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


def _withdrawn_after_contact(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[CollectingDispatcher, Tracker]:
    tracker = load_tracker("buy", **_message("stop contacting me", "withdraw_consent"))
    with session_scope(deps.get_database()) as session:
        session.add(ContactRequest(sender_id=tracker.sender_id, email="a@b.example", topic="sales"))
    return run(ActionWithdrawConsent(), tracker)[1], tracker


SCENARIOS: dict[str, Scenario] = {
    "answer": _answer(SHIPPING),
    "answer to a problem": _answer(SHIPPING, **_message("it leaks", "report_problem")),
    "decline": _answer(DECLINED),
    "out of scope": _answer(DECLINED, **_message("weather?", "out_of_scope")),
    "knowledge base down": _answer(None),
    "bare button": _answer(
        SHIPPING, **_message("/ask_policy", "ask_policy"), events=[{"event": "user", "text": "/x"}]
    ),
    "nothing at all": _nothing_at_all,
    **{f"recommend: {name}": scenario for name, scenario in _RECOMMEND.items()},
    **{f"quote: {name}": scenario for name, scenario in _QUOTE.items()},
    **{f"lead: {name}": scenario for name, scenario in _LEAD.items()},
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
    # consent withdrawal (actions/privacy.py)
    "consent withdrawn": _withdrawn_after_contact,
    "consent withdrawn, nothing held": _action(
        ActionWithdrawConsent(), "question", **_message("stop contacting me", "withdraw_consent")
    ),
    "consent withdrawal not saved": _broken_database(
        ActionWithdrawConsent(), "stop contacting me", intent="withdraw_consent"
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
    # "utter_action" is the key of Rasa's bot-event metadata, not a response
    return names - _responses_read_in_actions() - {"utter_action"}


def _responses_read_in_actions() -> set[str]:
    """Responses whose text an action reads with ``domain_text`` (words inside its messages).

    Besides the literal ``domain_text(domain, "utter_...")`` calls: the reasons of a pick and
    the lines of a quote (read by kind), and the consent questions (read back from the
    conversation for the consent record; the form sends them).
    """
    names: set[str] = {*REASON_RESPONSES.values(), *LINE_RESPONSES, *CONSENT_QUESTIONS.values()}
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
        values = {key: "Velo 1" for key in placeholders(responses[name][0]["text"])}
        text = domain_text({"responses": responses}, name, **values)
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
