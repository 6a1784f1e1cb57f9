"""A known, deterministic history for the analytics tests: nine conversations over five days.

:func:`seed_history` writes it into a migrated database: Rasa's events as the feed stores
them (``app_events``), knowledge-base answers and thumbs, handoffs with their transitions,
requests for a person, contacts, leads and their CRM and notification deliveries.

The days are 2026-11-01 (D0) to 2026-11-05 (D4); the tests ask for D1 to D3
(:data:`RANGE_FROM`, :data:`RANGE_TO`), so D0 and D4 are outside and must not be counted.

======  =========  ===  ===================================================================
conv    channel    day  what happens
======  =========  ===  ===================================================================
c0      web        D0   starts on D0; one more message on D1 01:00, answered in 900 ms
c1      web        D1   two messages: 800 ms (two bot messages), 1200 ms (two-stage fallback);
                        one answer, one "I don't know" from the knowledge base; thumbs up
c2      web        D1   asks for a person (400 ms); handoff taken after 90 s; the customer's
                        message to the person and the person's reply are not bot turns
c3      telegram   D1   23:59, answered in 600 ms; a cold lead; thumbs up on D2 00:00
c4      telegram   D2   1000 ms, then a fallback (action_default_fallback) in 2000 ms; a hot
                        lead delivered to the CRM; a handoff taken after 30 s; thumbs down
c5      web        D2   asks for a person outside business hours (a request, no handoff)
c6      rest       D3   700 ms, then a message with no reply; "I don't know"; a warm lead
                        whose CRM delivery died (only its notification was delivered)
c7      web        D3   300 ms; a handoff nobody took; a warm lead delivered to the CRM on
                        the second attempt; a last message at 23:59:59.7 answered at D4 00:00
c8      web        D4   everything on D4: outside the range
======  =========  ===  ===================================================================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Double, Engine, Integer, String, Text, column, insert, table

from core.storage import session_scope
from core.storage.handoff import Handoff, HandoffTransition
from core.storage.models import (
    Contact,
    ConversationLink,
    DeliveryAttempt,
    Feedback,
    HandoffRequest,
    KBAnswer,
    Lead,
    OutboxEntry,
)

D0, D1, D2, D3, D4 = (date(2026, 11, day) for day in range(1, 6))
RANGE_FROM = D1
RANGE_TO = D3

APP_EVENTS = table(
    "app_events",
    column("event_key", String),
    column("conversation_id", String),
    column("channel", String),
    column("type", String),
    column("name", String),
    column("text", Text),
    column("confidence", Double),
    column("timestamp", DateTime(timezone=True)),
    column("data", JSON),
    column("recorded_at", DateTime(timezone=True)),
    column("id", Integer),
)
"""``app_events`` of migration 0009, written with SQLAlchemy Core as the feed writes it."""


def at(day: date, clock: str) -> datetime:
    """Return ``day`` at ``clock`` (``HH:MM:SS`` or ``HH:MM:SS.fff``) in UTC."""
    clock = clock if "." in clock else clock + ".000"
    moment = datetime.strptime(f"{day.isoformat()} {clock}", "%Y-%m-%d %H:%M:%S.%f")
    return moment.replace(tzinfo=UTC)


@dataclass
class Conversation:
    """One conversation's Rasa events, in order, as dictionaries Rasa publishes."""

    id: str
    channel: str
    events: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def user(self, when: datetime, intent: str, text: str = "a message", **metadata: Any) -> None:
        """Add a customer message (``user`` event) with its intent."""
        self.events.append(
            (
                when,
                {
                    "event": "user",
                    "text": text,
                    "parse_data": {
                        "text": text,
                        "intent": {"name": intent, "confidence": 0.9},
                        "entities": [],
                    },
                    "input_channel": self.channel,
                    "metadata": metadata,
                },
            )
        )

    def action(self, when: datetime, name: str) -> None:
        """Add an executed action."""
        self.events.append((when, {"event": "action", "name": name}))

    def bot(self, when: datetime, text: str = "a reply", **metadata: Any) -> None:
        """Add a message to the customer (``bot`` event)."""
        self.events.append((when, {"event": "bot", "text": text, "data": {}, "metadata": metadata}))

    def other(self, when: datetime, kind: str, **values: Any) -> None:
        """Add another event (``session_started``, ``slot``...)."""
        self.events.append((when, {"event": kind, **values}))


def _event_rows(conversation: Conversation) -> list[dict[str, Any]]:
    rows = []
    for number, (when, event) in enumerate(conversation.events):
        data = {**event, "timestamp": when.timestamp()}
        intent = event.get("parse_data", {}).get("intent", {})
        kind = event["event"]
        key = hashlib.sha256(f"{conversation.id}/{number}".encode()).hexdigest()
        rows.append(
            {
                "event_key": key,
                "conversation_id": conversation.id,
                "channel": conversation.channel,
                "type": kind,
                "name": intent.get("name") if kind == "user" else event.get("name"),
                "text": event.get("text"),
                "confidence": intent.get("confidence") if kind == "user" else None,
                "timestamp": when,
                "data": data,
                "recorded_at": when + timedelta(seconds=1),
            }
        )
    return rows


def conversations() -> list[Conversation]:
    """Return the seeded conversations' events (see the module's table)."""
    c0 = Conversation("c0", "web")
    c0.other(at(D0, "20:00:00"), "session_started")
    c0.user(at(D0, "20:00:01"), "greet")
    c0.bot(at(D0, "20:00:01.500"))
    c0.user(at(D1, "01:00:00"), "ask_policy")
    c0.action(at(D1, "01:00:00.300"), "action_answer_question")
    c0.bot(at(D1, "01:00:00.900"))  # 900 ms

    c1 = Conversation("c1", "web")
    c1.action(at(D1, "09:00:00"), "action_session_start")
    c1.other(at(D1, "09:00:00.010"), "session_started")
    c1.action(at(D1, "09:00:00.020"), "action_listen")
    c1.user(at(D1, "09:00:05"), "ask_price")
    c1.action(at(D1, "09:00:05.300"), "action_answer_question")
    c1.bot(at(D1, "09:00:05.800"))  # 800 ms
    c1.bot(at(D1, "09:00:05.850"), "a second message of the same reply")
    c1.action(at(D1, "09:00:05.900"), "action_listen")
    c1.user(at(D1, "09:01:00"), "nlu_fallback")
    c1.action(at(D1, "09:01:00.400"), "action_answer_question")
    c1.other(at(D1, "09:01:00.450"), "slot", name="kb_found", value=False)
    c1.action(at(D1, "09:01:00.600"), "action_two_stage_fallback")
    c1.bot(at(D1, "09:01:01.200"), "Did you mean ...?")  # 1200 ms, a fallback turn
    c1.action(at(D1, "09:01:01.300"), "action_listen")

    c2 = Conversation("c2", "web")
    c2.user(at(D1, "10:00:00"), "request_human")
    c2.action(at(D1, "10:00:00.200"), "action_request_human")
    c2.bot(at(D1, "10:00:00.400"), "I'll find a person")  # 400 ms
    c2.user(at(D1, "10:00:30"), "handoff_customer_turn", handoff="h2")  # to the person
    c2.action(at(D1, "10:00:30"), "action_listen")
    c2.bot(at(D1, "10:01:31"), "Hi, Sam here.", handoff="h2", agent="sam@example.com")

    c3 = Conversation("c3", "telegram")
    c3.user(at(D1, "23:59:00"), "ask_product")
    c3.action(at(D1, "23:59:00.200"), "action_answer_question")
    c3.bot(at(D1, "23:59:00.600"))  # 600 ms

    c4 = Conversation("c4", "telegram")
    c4.user(at(D2, "08:00:00"), "buy")
    c4.bot(at(D2, "08:00:01"))  # 1000 ms
    c4.user(at(D2, "08:00:10"), "out_of_scope")
    c4.action(at(D2, "08:00:10.500"), "action_default_fallback")
    c4.bot(at(D2, "08:00:12"))  # 2000 ms, a fallback turn

    c5 = Conversation("c5", "web")
    c5.user(at(D2, "12:00:00"), "request_human")
    c5.bot(at(D2, "12:00:00.500"), "We answer from 9 to 17; leave your email?")  # 500 ms

    c6 = Conversation("c6", "rest")
    c6.user(at(D3, "15:00:00"), "ask_policy")
    c6.action(at(D3, "15:00:00.300"), "action_answer_question")
    c6.bot(at(D3, "15:00:00.700"))  # 700 ms
    c6.user(at(D3, "15:05:00"), "ask_price")  # never answered: a turn, no response time

    c7 = Conversation("c7", "web")
    c7.user(at(D3, "16:00:00"), "request_human")
    c7.bot(at(D3, "16:00:00.300"))  # 300 ms
    c7.user(at(D3, "23:59:59.700"), "ask_price")
    c7.bot(at(D4, "00:00:00.300"))  # 600 ms, across midnight

    c8 = Conversation("c8", "web")
    c8.user(at(D4, "10:00:00"), "ask_price")
    c8.bot(at(D4, "10:00:05"))  # 5000 ms
    return [c0, c1, c2, c3, c4, c5, c6, c7, c8]


def _answers() -> list[KBAnswer]:
    def answer(key: str, cid: str, when: datetime, text: str | None) -> KBAnswer:
        return KBAnswer(
            id=key,
            sender_id=cid,
            channel="web",
            question="a question",
            answer=text,
            confidence=0.8 if text else 0.1,
            chunk_ids=[],
            sources=[],
            created_at=when,
        )

    return [
        answer("a0", "c0", at(D0, "20:00:01.300"), "An answer."),
        answer("a1", "c1", at(D1, "09:00:05.300"), "An answer."),
        answer("a2", "c1", at(D1, "09:01:00.400"), None),
        answer("a3", "c3", at(D1, "23:59:00.200"), "An answer."),
        answer("a4", "c4", at(D2, "08:00:00.500"), "An answer."),
        answer("a6", "c6", at(D3, "15:00:00.300"), None),
        answer("a8", "c8", at(D4, "10:00:01"), "An answer."),
    ]


def _thumbs() -> list[Feedback]:
    def thumb(answer_id: str, cid: str, rating: str, when: datetime) -> Feedback:
        return Feedback(
            answer_id=answer_id,
            sender_id=cid,
            rating=rating,
            question="a question",
            answer="An answer.",
            chunk_ids=[],
            created_at=when,
        )

    return [
        thumb("a1", "c1", "up", at(D1, "09:00:10")),
        thumb("a3", "c3", "up", at(D2, "00:00:10")),
        thumb("a4", "c4", "down", at(D2, "08:00:05")),
        thumb("a8", "c8", "down", at(D4, "10:00:10")),
    ]


def _handoff(
    key: str,
    cid: str,
    channel: str,
    reason: str,
    opened: datetime,
    steps: list[tuple[str, str, datetime]],
) -> list[Handoff | HandoffTransition]:
    """A handoff opened at ``opened`` and its transitions ``(to_state, actor, at)``."""
    state = steps[-1][0] if steps else "waiting"
    rows: list[Handoff | HandoffTransition] = [
        Handoff(
            id=key,
            conversation_id=cid,
            channel=channel,
            state=state,
            reason=reason,
            created_at=opened,
            updated_at=steps[-1][2] if steps else opened,
        ),
        HandoffTransition(
            handoff_id=key, from_state=None, to_state="waiting", actor="customer", at=opened
        ),
    ]
    previous = "waiting"
    for to_state, actor, when in steps:
        rows.append(
            HandoffTransition(
                handoff_id=key, from_state=previous, to_state=to_state, actor=actor, at=when
            )
        )
        previous = to_state
    return rows


def _handoffs() -> list[Any]:
    sam = "agent:sam@example.com"
    return [
        *_handoff(
            "h2",
            "c2",
            "web",
            "customer_request",
            at(D1, "10:00:01"),
            [("active", sam, at(D1, "10:01:31")), ("closed", sam, at(D1, "10:05:00"))],
        ),
        *_handoff(
            "h4",
            "c4",
            "telegram",
            "hot_lead",
            at(D2, "08:00:20"),
            [("active", sam, at(D2, "08:00:50")), ("returned", sam, at(D2, "08:10:00"))],
        ),
        *_handoff(
            "h7",
            "c7",
            "web",
            "customer_request",
            at(D3, "16:00:10"),
            [("returned", "system", at(D3, "16:05:10"))],
        ),
        *_handoff(
            "h8",
            "c8",
            "web",
            "customer_request",
            at(D4, "10:01:00"),
            [("active", sam, at(D4, "10:01:10"))],
        ),
        HandoffRequest(
            sender_id="c2", channel="web", reason="customer", created_at=at(D1, "10:00:00.200")
        ),
        HandoffRequest(
            sender_id="c5", channel="web", reason="customer", created_at=at(D2, "12:00:00.300")
        ),
    ]


def _lead(
    number: int,
    cid: str,
    channel: str,
    grade: str,
    created: datetime,
    deliveries: list[tuple[str, list[str]]],
) -> list[Any]:
    """A contact, its conversation link, its lead and outbox entries ``(kind, outcomes)``."""
    contact = f"contact{number}"
    lead = f"lead{number}"
    score = {"hot": 80, "warm": 50, "cold": 10}[grade]
    rows: list[Any] = [
        Contact(
            id=contact,
            email_normalized=f"buyer{number}@example.com",
            email=f"buyer{number}@example.com",
            created_at=created,
            updated_at=created,
        ),
        ConversationLink(
            contact_id=contact, conversation_id=cid, channel=channel, created_at=created
        ),
        Lead(
            id=lead,
            contact_id=contact,
            conversation_id=cid,
            channel=channel,
            score=score,
            grade=grade,
            reasons=[],
            products_asked=[],
            transcript=[],
            contactable=True,
            created_at=created,
            updated_at=created,
        ),
    ]
    for index, (kind, outcomes) in enumerate(deliveries):
        entry = f"{lead}-out{index}"
        delivered = "delivered" in outcomes
        finished = [created + timedelta(seconds=60 * (n + 1)) for n in range(len(outcomes))]
        status = "delivered" if delivered else ("dead" if "dead" in outcomes else "pending")
        rows.append(
            OutboxEntry(
                id=entry,
                lead_id=lead,
                kind=kind,
                status=status,
                attempts=len(outcomes),
                next_attempt_at=created,
                progress={},
                created_at=created,
                updated_at=finished[-1] if finished else created,
                delivered_at=finished[-1] if delivered else None,
            )
        )
        rows.extend(
            DeliveryAttempt(
                entry_id=entry,
                number=n + 1,
                outcome=outcome,
                started_at=finished[n] - timedelta(seconds=1),
                finished_at=finished[n],
            )
            for n, outcome in enumerate(outcomes)
        )
    return rows


def _leads() -> list[Any]:
    return [
        *_lead(3, "c3", "telegram", "cold", at(D1, "23:59:30"), [("crm:builtin", ["delivered"])]),
        *_lead(
            4,
            "c4",
            "telegram",
            "hot",
            at(D2, "08:00:15"),
            [("crm:builtin", ["delivered"]), ("notify:telegram", ["delivered"])],
        ),
        *_lead(
            6,
            "c6",
            "rest",
            "warm",
            at(D3, "15:06:00"),
            [("crm:webhook", ["retry", "dead"]), ("notify:email", ["delivered"])],
        ),
        *_lead(
            7, "c7", "web", "warm", at(D3, "16:00:05"), [("crm:builtin", ["retry", "delivered"])]
        ),
        *_lead(8, "c8", "web", "hot", at(D4, "10:00:30"), [("crm:builtin", ["delivered"])]),
    ]


def seed_history(engine: Engine) -> None:
    """Write the whole history into the (migrated, empty) database of ``engine``."""
    with session_scope(engine) as session:
        for conversation in conversations():
            session.execute(insert(APP_EVENTS), _event_rows(conversation))
        session.add_all(_answers())
        session.flush()
        session.add_all(_thumbs())
        for row in [*_handoffs(), *_leads()]:
            session.add(row)
            session.flush()  # parents before children, in the order written
