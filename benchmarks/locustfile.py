"""Locust users for the load benchmark: widget customers holding whole conversations.

Run by ``benchmarks/load.py`` (``locust -f benchmarks/locustfile.py --headless ...``; locust
is installed by ``make bench-load``). Every user holds one conversation after another, each a
kind of visitor drawn by weight like a shop's traffic: most ask questions the documents
answer, some want recommendations, fewer ask for a quote, and a few leave their details as
a lead. Each conversation starts
without a token and sends every later message with the token of the previous reply, as the
widget does (``POST /api/chat``). A request is named by its kind of turn (``faq``,
``recommend``, ``quote``, ``lead``, ``other``), so locust's statistics come per kind.

A turn succeeds only when the reply is a 200 with at least one non-empty text, no ``error``,
not the "having trouble" fallback, and (for the sales turns) the words the next step needs,
e.g. "budget" after the need; otherwise the rest of that conversation is abandoned.

This module needs nothing but the standard library and locust; without locust (the app's
test environment) it still defines the scripts and the reply check, which the tests read.
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FAQ, RECOMMEND, QUOTE, LEAD, OTHER = "faq", "recommend", "quote", "lead", "other"
KINDS = (FAQ, RECOMMEND, QUOTE, LEAD, OTHER)
FALLBACK_START = "Sorry, I'm having trouble right now"
"""The start of the gateway's reply when the conversation engine cannot answer."""


@dataclass(frozen=True)
class Step:
    """One customer turn: text to type or the start of a button title to press."""

    kind: str
    say: str | None = None
    press: str | None = None
    expect: str | None = None
    """A lower-case phrase the reply must contain for the conversation to go on."""


FAQ_QUESTIONS = [
    "what is the return window for a grinder?",
    "how much does the Kestrel Barista Pro 300 cost?",
    "do you ship to Austria?",
    "how long is the warranty on espresso machines?",
    "my machine shows error E3",
    "what are your support hours?",
]
"""Questions the demo documents answer (benchmarks/conversation.py)."""

SMALL_TALK_START = ["hello", "hi there", "good morning"]
SMALL_TALK_END = ["thanks!", "bye", "thank you, bye"]

NEED = [
    Step(RECOMMEND, say="we need something for a 40-person office", expect="budget"),
    Step(RECOMMEND, say="around 5000 euros", expect="must have"),
    Step(RECOMMEND, press="No must-haves", expect="within your budget"),
]
"""Need, budget, no must-haves: three picks (tests/e2e/test_sales_flow.py's wording)."""

ASK_QUOTE = [Step(QUOTE, say="what would 2 of the first one cost?", expect="total")]


def faq_script(rng: random.Random) -> list[Step]:
    """A visitor who greets, asks three or four questions and leaves."""
    questions = rng.sample(FAQ_QUESTIONS, k=rng.choice((3, 4)))
    return [
        Step(OTHER, say=rng.choice(SMALL_TALK_START)),
        *(Step(FAQ, say=q) for q in questions),
        Step(OTHER, say=rng.choice(SMALL_TALK_END)),
    ]


def recommend_script(rng: random.Random) -> list[Step]:
    """A shopper who describes a need and gets three picks, maybe asks one question."""
    extra = [Step(FAQ, say=rng.choice(FAQ_QUESTIONS))] if rng.random() < 0.5 else []
    return [Step(OTHER, say=rng.choice(SMALL_TALK_START)), *NEED, *extra]


def quote_script(rng: random.Random) -> list[Step]:
    """A shopper who gets picks and a quote for two of the first one."""
    return [Step(OTHER, say=rng.choice(SMALL_TALK_START)), *NEED, *ASK_QUOTE]


def lead_script(rng: random.Random) -> list[Step]:
    """A buyer: picks, a quote, then email, name, company, role, timeline and consents."""
    who = uuid.UUID(int=rng.getrandbits(128)).hex[:10]
    return [
        *NEED,
        *ASK_QUOTE,
        Step(LEAD, press="Go ahead", expect="email"),
        Step(LEAD, say=f"load.{who}@northwind-logistics.eu", expect="name"),
        Step(LEAD, say="Anna Schmidt", expect="company"),
        Step(LEAD, say="Northwind Logistics", expect="role"),
        Step(LEAD, say="head of facilities", expect="when"),
        Step(LEAD, press="This month", expect="contact you"),
        Step(LEAD, press="Yes", expect="newsletter"),
        Step(LEAD, press="No", expect="thank you!"),  # the lead-captured reply, either wording
    ]


SCRIPTS: dict[str, Callable[[random.Random], list[Step]]] = {
    "faq": faq_script,
    "recommend": recommend_script,
    "quote": quote_script,
    "lead": lead_script,
}
WEIGHTS = {"faq": 6, "recommend": 2, "quote": 1, "lead": 1}
"""How often each kind of visitor arrives, relative to the others."""


def pick_script(rng: random.Random) -> list[Step]:
    """Draw the next visitor's kind by ``WEIGHTS`` and return that visitor's turns."""
    (kind,) = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))
    return SCRIPTS[kind](rng)


def reply_problem(status: int, body: Any, expect: str | None) -> str | None:
    """Return why a reply is not a real answer, or None when it is one."""
    if status != 200:
        return f"status {status}"
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return "no messages in the reply"
    if body.get("error"):
        return f"error: {body['error']}"
    texts: list[str] = [
        m["text"]
        for m in body["messages"]
        if isinstance(m, dict) and isinstance(m.get("text"), str) and m["text"].strip()
    ]
    if not texts:
        return "empty reply"
    if any(t.startswith(FALLBACK_START) for t in texts):
        return "the unavailable fallback"
    if expect is not None and expect not in "\n".join(texts).lower():
        return f"reply without {expect!r}"
    return None


def button_payload(body: Any, title_start: str) -> str | None:
    """Return the payload of the first button whose title starts with ``title_start``."""
    messages = body.get("messages") if isinstance(body, dict) else None
    for message in messages if isinstance(messages, list) else []:
        buttons = message.get("buttons") if isinstance(message, dict) else None
        for button in buttons if isinstance(buttons, list) else []:
            title, payload = button.get("title"), button.get("payload")
            if isinstance(title, str) and title.startswith(title_start) and payload:
                return str(payload)
    return None


# The user class exists only when locust itself loads this file (its command imported the
# package first). Anywhere else the scripts are read without it: importing locust patches
# the standard library for gevent, which breaks a process that has already loaded ssl.
if "locust" in sys.modules:
    import gevent
    from locust import HttpUser, between, events
else:
    HttpUser = None

if HttpUser is not None:

    def _options(parser: Any) -> None:
        parser.add_argument(
            "--think-seconds", default="0.5,2", help="pause between turns: MIN,MAX seconds"
        )
        parser.add_argument(
            "--gateways", default="", help="gateway replicas (comma-separated), users spread"
        )
        parser.add_argument("--samples-out", default="", help="write every turn here (JSON)")

    _samples: list[list[Any]] = []
    _arrivals = itertools.count()
    _window: dict[str, float] = {}

    def _record(name: str, response_time: float, exception: Any, **_kw: Any) -> None:
        _samples.append([name, response_time, exception is None, str(exception or "")[:80]])

    def _started(**_kw: Any) -> None:
        _window["start"] = time.time()

    def _stopped(**_kw: Any) -> None:
        _window["stop"] = time.time()

    def _write(environment: Any, **_kw: Any) -> None:
        path = environment.parsed_options.samples_out
        if path:
            stop = _window.get("stop", time.time())
            seconds = stop - _window.get("start", stop)
            with open(path, "w", encoding="utf-8") as out:
                json.dump({"seconds": seconds, "samples": _samples}, out)

    events.init_command_line_parser.add_listener(_options)
    events.request.add_listener(_record)
    events.test_start.add_listener(_started)
    events.test_stop.add_listener(_stopped)
    events.quitting.add_listener(_write)

    class Visitor(HttpUser):  # type: ignore[misc]
        """A widget customer: one conversation after another, each of a kind drawn by weight."""

        wait_time = between(0, 0)  # the pause is taken between turns, inside a conversation

        def on_start(self) -> None:
            low, _, high = str(self.environment.parsed_options.think_seconds).partition(",")
            self.think = (float(low), float(high or low))
            self.rng = random.Random()
            gateways = [g for g in str(self.environment.parsed_options.gateways).split(",") if g]
            if gateways:  # like a load balancer keeping each visitor on one replica
                self.client.base_url = gateways[next(_arrivals) % len(gateways)]

        def converse(self) -> None:
            """Hold one whole conversation; stop at the first turn without a real answer."""
            token: str | None = None
            body: Any = None
            for step in pick_script(self.rng):
                message = step.say
                if step.press is not None:
                    message = button_payload(body, step.press)
                    if message is None:  # the previous reply was counted already; give up
                        return
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                with self.client.post(
                    "/api/chat",
                    json={"message": message},
                    headers=headers,
                    name=step.kind,
                    catch_response=True,
                ) as response:
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                    problem = reply_problem(response.status_code, body, step.expect)
                    if problem is not None:
                        response.failure(problem)
                        return
                    response.success()
                token = body.get("token") or token
                self.wait_between(*self.think)

        tasks = [converse]

        def wait_between(self, low: float, high: float) -> None:
            """Pause like a person reading the reply."""
            gevent.sleep(self.rng.uniform(low, high))
