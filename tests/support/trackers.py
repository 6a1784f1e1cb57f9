"""Helpers for action tests: trackers from JSON fixtures, running actions, rendering responses.

``render`` turns what an action handed the dispatcher (``response=`` plus variables) into the
message Rasa would send, the way Rasa 3.6 does it (``rasa.core.nlg.interpolator``): the
variation whose slot conditions match (else the unconditional ones), ``{name}`` placeholders
filled from the slots and the action's variables, the action's buttons appended to the
template's. Unlike Rasa, which logs and sends the raw template, a missing variable raises
``KeyError``, so a test fails when an action forgets to pass one.
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core.config import PROJECT_ROOT
from core.messages import SourceRef
from knowledge.types import Answer, Chunk

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "trackers"
DOMAIN = PROJECT_ROOT / "domain.yml"
MESSAGE_KEYS = frozenset(
    {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
)
_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


def load_tracker(name: str, **changes: Any) -> Tracker:
    """Build a Tracker from ``tests/fixtures/trackers/<name>.json`` with top-level changes."""
    state = json.loads((FIXTURES / f"{name}.json").read_text())
    state.update(changes)
    return Tracker.from_dict(state)


def run(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    """Run an action with a fresh dispatcher; return its events and the dispatcher."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, _domain(DOMAIN)))
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


def use_kb(monkeypatch: Any, kb: StubKnowledgeBase) -> None:
    """Make the actions use ``kb`` as their knowledge base."""
    from actions import deps

    monkeypatch.setattr(deps, "get_knowledge_base", lambda: kb)


SHIPPING = Answer(
    question="How long does shipping to Germany take?",
    text="Orders to Germany arrive in 2-4 business days.",
    confidence=0.81,
    sources=[
        SourceRef(title="Shipping › Delivery times", location="docs/shipping.md#delivery-times")
    ],
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


@lru_cache(maxsize=4)
@lru_cache(maxsize=4)
def _domain(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def domain_responses(path: Path = DOMAIN) -> dict[str, list[dict[str, Any]]]:
    """Return the ``responses`` section of the domain."""
    return dict(_domain(path)["responses"])


def domain_slots(path: Path = DOMAIN) -> set[str]:
    """Return the names of the domain's slots."""
    return set(_domain(path)["slots"])


def fill(template: str, values: dict[str, Any]) -> str:
    """Fill ``{name}`` placeholders as Rasa does; raise ``KeyError`` for a missing one."""
    return _PLACEHOLDER.sub(r"{0[\1]}", template).format(values)


def placeholders(template: str) -> set[str]:
    """Return the variable names a template uses."""
    return set(_PLACEHOLDER.findall(template))


def variables(message: dict[str, Any]) -> dict[str, Any]:
    """Return the variables an action passed with a response (everything but the message keys)."""
    return {k: v for k, v in message.items() if k not in MESSAGE_KEYS}


def _matches(variation: dict[str, Any], slots: dict[str, Any]) -> bool:
    return all(
        c.get("type") == "slot" and slots.get(c["name"]) == c["value"]
        for c in variation.get("condition", [])
    )


def variations_for(name: str, slots: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the variations Rasa may choose for ``name`` given the slots."""
    candidates = domain_responses()[name]
    conditional = [v for v in candidates if v.get("condition") and _matches(v, slots)]
    return conditional or [v for v in candidates if not v.get("condition")]


def render_variation(
    variation: dict[str, Any], values: dict[str, Any], extra_buttons: list[dict[str, Any]]
) -> dict[str, Any]:
    """Fill one variation's text and buttons; append the action's buttons."""
    buttons = [
        {"title": fill(b["title"], values), "payload": fill(b["payload"], values)}
        for b in variation.get("buttons", [])
    ]
    return {"text": fill(variation["text"], values), "buttons": buttons + list(extra_buttons)}


def render_all(message: dict[str, Any], slots: dict[str, Any]) -> list[dict[str, Any]]:
    """Render a dispatched message with every variation Rasa may pick."""
    if not message.get("response"):
        return [{"text": message.get("text"), "buttons": list(message.get("buttons") or [])}]
    values = {**slots, **variables(message)}
    rendered = [
        render_variation(v, values, message.get("buttons") or [])
        for v in variations_for(message["response"], slots)
    ]
    for item in rendered:
        item["custom"] = message.get("custom") or {}
    return rendered


def render(message: dict[str, Any], slots: dict[str, Any]) -> dict[str, Any]:
    """Render a dispatched message with the first variation Rasa may pick."""
    return render_all(message, slots)[0]


def session_slots(tracker: Tracker) -> dict[str, Any]:
    """Return the tracker's slots plus the company slots action_session_start sets."""
    from actions.session import company_slots

    return {**company_slots(), **tracker.current_slot_values()}


def rendered(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Render every message an action dispatched, as the customer would see it."""
    slots = session_slots(tracker)
    return [render(message, slots) for message in dispatcher.messages]
