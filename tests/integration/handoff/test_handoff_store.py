"""The handoff state machine on both engines: transitions with who and when, one claim wins."""

from __future__ import annotations

import threading

import pytest

from bot.services.handoff import HandoffConflict, HandoffNotFound, HandoffStore
from core.storage import HandoffRequest, get_engine, session_scope
from core.storage.handoff import ACTIVE, CLOSED, RETURNED, WAITING
from core.storage.migrate import upgrade
from core.storage.models import Contact, Lead


@pytest.fixture
def store(database_url: str) -> HandoffStore:
    upgrade(database_url)
    return HandoffStore(get_engine(database_url))


def test_a_handoff_goes_through_its_states_and_records_each(store: HandoffStore) -> None:
    view, created = store.open("c1", "web", "customer_request", "my grinder", "customer")
    assert created and view.state == WAITING
    assert store.open_for("c1") == view

    store.transition(view.id, [WAITING], ACTIVE, "agent:sam@example.com", agent=("u1", "sam@x"))
    store.transition(view.id, [ACTIVE], RETURNED, "agent:sam@example.com")

    assert store.open_for("c1") is None
    steps = [(t.from_state, t.to_state, t.actor) for t in store.transitions(view.id)]
    assert steps == [
        (None, WAITING, "customer"),
        (WAITING, ACTIVE, "agent:sam@example.com"),
        (ACTIVE, RETURNED, "agent:sam@example.com"),
    ]
    times = [t.at for t in store.transitions(view.id)]
    assert times == sorted(times)
    # a new request opens a new handoff; the old one stays as it ended
    again, created = store.open("c1", "web", "fallback", None, "customer")
    assert created and again.id != view.id
    assert store.get(view.id).state == RETURNED


def test_one_open_handoff_per_conversation(store: HandoffStore) -> None:
    first, _ = store.open("c2", "web", "customer_request", None, "customer")
    second, created = store.open("c2", "web", "customer_request", None, "customer")
    assert not created and second.id == first.id
    assert [v.id for v in store.queue()] == [first.id]


def test_transitions_that_are_not_allowed_are_conflicts(store: HandoffStore) -> None:
    view, _ = store.open("c3", "web", "customer_request", None, "customer")
    with pytest.raises(HandoffConflict, match="waiting, it cannot become returned"):
        store.transition(view.id, [ACTIVE], RETURNED, "agent:a")
    store.transition(view.id, [WAITING, ACTIVE], CLOSED, "agent:a")
    with pytest.raises(HandoffConflict):
        store.transition(view.id, [WAITING], ACTIVE, "agent:a", agent=("u", "a"))
    with pytest.raises(HandoffNotFound):
        store.transition("nope", [WAITING], ACTIVE, "agent:a")


def test_concurrent_claims_exactly_one_wins(store: HandoffStore) -> None:
    view, _ = store.open("c4", "telegram", "customer_request", None, "customer")
    start = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim(n: int) -> None:
        start.wait()
        try:
            store.transition(
                view.id, [WAITING], ACTIVE, f"agent:a{n}@x", agent=(f"u{n}", f"a{n}@x")
            )
            result = f"won:a{n}@x"
        except HandoffConflict as error:
            result = f"lost:{error}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(winners) == 1, outcomes
    winner = winners[0].removeprefix("won:")
    assert store.get(view.id).agent_email == winner
    assert all(o == f"lost:already claimed by {winner}" for o in outcomes if o not in winners)
    claims = [t for t in store.transitions(view.id) if t.to_state == ACTIVE]
    assert [t.actor for t in claims] == [f"agent:{winner}"]


def test_requests_from_the_action_server_are_taken_once(store: HandoffStore) -> None:
    with session_scope(store.engine) as session:
        session.add(HandoffRequest(sender_id="c5", channel="web", reason="customer_request"))
    [taken] = store.take_requests("c5", "queued")
    assert taken.reason == "customer_request"
    assert store.take_requests("c5", "queued") == []


def test_hot_leads_go_first_in_the_queue(store: HandoffStore) -> None:
    older, _ = store.open("c6", "web", "customer_request", None, "customer")
    hot, _ = store.open("c7", "web", "customer_request", None, "customer")
    with session_scope(store.engine) as session:
        contact = Contact(email_normalized="ada@example.com", email="ada@example.com")
        session.add(contact)
        session.flush()
        session.add(
            Lead(contact_id=contact.id, conversation_id="c7", channel="web", score=82, grade="hot")
        )
    queue = store.queue()
    assert [v.id for v in queue] == [hot.id, older.id]
    assert (queue[0].lead_score, queue[0].lead_grade) == (82, "hot")
    assert queue[1].lead_score is None
