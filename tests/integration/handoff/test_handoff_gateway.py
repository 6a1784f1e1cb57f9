"""The whole handoff through the real gateway: ask for a person, claim, reply, hand back.

Rasa is stood in (with its tracker events API); the action server's part, recording a
``handoff_requests`` row when the customer asks for a person and marking its reply
``custom.kind == "handoff_requested"``, is played by the stand-in's reply. The tracker is the
proof: the human turns are in it and no bot prediction is.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from bot.deps import GatewayState
from bot.services.handoff import CUSTOMER_TURN_INTENT
from bot.services.realtime import RealtimeHub
from core.storage import Handoff, HandoffRequest, get_engine, session_scope
from tests.integration.bot.conftest import ClientFactory
from tests.support.handoff import (
    ALWAYS_OPEN,
    ASK,
    HANDOFF_TEXT,
    handing_over,
    handoff_reply,
    record_request,
)
from tests.support.rasa_events import StandInRasaWithEvents
from tests.support.staff import add_user, sign_in


@pytest.fixture
def rasa() -> StandInRasaWithEvents:
    return StandInRasaWithEvents()


def gateway(client: TestClient) -> GatewayState:
    """Return the running gateway's shared state."""
    state: GatewayState = client.app.state.gateway  # type: ignore[attr-defined]
    return state


def agent_client(customer: TestClient, email: str, role: str = "support") -> tuple[TestClient, str]:
    """A second browser on the same running gateway, signed in as ``email``."""
    add_user(gateway(customer).engine, email, role)
    agent = TestClient(customer.app)
    return agent, sign_in(agent, email)  # type: ignore[arg-type]


def chat(client: TestClient, text: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/api/chat", json={"message": text}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def webhook_texts(rasa: StandInRasaWithEvents) -> list[str]:
    return [r["body"]["message"] for r in rasa.requests]


def test_the_whole_round_trip(make_client: ClientFactory, rasa: StandInRasaWithEvents) -> None:
    customer = make_client(rasa=rasa, **ALWAYS_OPEN)
    settings = gateway(customer).settings
    handing_over(rasa, settings.sqlalchemy_url)

    first = chat(customer, ASK)
    conversation, token = first["conversation_id"], first["token"]
    assert [m["text"] for m in first["messages"]] == [HANDOFF_TEXT]

    agent, csrf = agent_client(customer, "sam@example.com")
    [item] = agent.get("/api/agent/queue").json()
    assert item["conversation_id"] == conversation
    assert (item["state"], item["channel"], item["summary"]) == ("waiting", "web", ASK)

    # waiting: the customer's message is kept from Rasa's NLU, and the bot is silent
    assert chat(customer, "hello? anyone?", token)["messages"] == []
    base = f"/api/agent/conversations/{conversation}"
    claimed = agent.post(f"{base}/claim", headers={"X-CSRF-Token": csrf})
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["agent"] == "sam@example.com"
    assert (
        agent.post(
            f"{base}/reply", json={"text": "Hi, Sam here."}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 200
    )
    assert chat(customer, "My grinder is broken", token)["messages"] == []

    page = agent.get(base).json()
    turns = [(t["role"], t["text"]) for t in page["transcript"]]
    assert ("customer", "hello? anyone?") in turns
    assert ("agent", "Hi, Sam here.") in turns
    assert turns[-1] == ("customer", "My grinder is broken")

    # the customer's open chat got the notice and the reply pushed live
    hub = RealtimeHub(gateway(customer).engine)
    pushed = hub.events_after(conversation, 0)
    assert [e.kind for e in pushed] == ["agent_joined", "message"]
    assert pushed[1].payload["messages"][0]["text"] == "Hi, Sam here."

    assert agent.post(f"{base}/handback", headers={"X-CSRF-Token": csrf}).status_code == 200
    after = chat(customer, "What is the return window?", token)
    assert [m["text"] for m in after["messages"]] == ["bot: What is the return window?"]

    # Rasa's NLU saw only the turns before and after the person
    assert webhook_texts(rasa) == [ASK, "What is the return window?"]
    events = rasa.trackers[conversation]
    human_turns = [
        e for e in events if e["event"] == "user" and e.get("metadata", {}).get("handoff")
    ]
    assert [e["text"] for e in human_turns] == ["hello? anyone?", "My grinder is broken"]
    assert {e["parse_data"]["intent"]["name"] for e in human_turns} == {CUSTOMER_TURN_INTENT}
    handoff_span = events[events.index(human_turns[0]) : events.index(human_turns[-1]) + 1]
    predicted = [
        e for e in handoff_span if e["event"] == "bot" and not e.get("metadata", {}).get("handoff")
    ]
    assert predicted == []
    agent_turns = [e for e in events if e["event"] == "bot" and e["metadata"].get("agent")]
    assert [e["text"] for e in agent_turns] == ["Hi, Sam here."]
    assert agent.get("/api/agent/queue").json() == []
    steps = [(t["from_state"], t["to_state"], t["actor"]) for t in page["transitions"]]
    assert steps == [(None, "waiting", "customer"), ("waiting", "active", "agent:sam@example.com")]


def test_two_agents_one_claim_and_only_the_claimant_replies(
    make_client: ClientFactory, rasa: StandInRasaWithEvents
) -> None:
    customer = make_client(rasa=rasa, **ALWAYS_OPEN)
    handing_over(rasa, gateway(customer).settings.sqlalchemy_url)
    conversation = chat(customer, ASK)["conversation_id"]
    sam, sam_csrf = agent_client(customer, "sam@example.com")
    kim, kim_csrf = agent_client(customer, "kim@example.com", role="sales")
    base = f"/api/agent/conversations/{conversation}"

    assert sam.post(f"{base}/claim", headers={"X-CSRF-Token": sam_csrf}).status_code == 200
    taken = kim.post(f"{base}/claim", headers={"X-CSRF-Token": kim_csrf})
    assert taken.status_code == 409
    assert "sam@example.com" in taken.json()["error"]
    refused = kim.post(f"{base}/reply", json={"text": "me too"}, headers={"X-CSRF-Token": kim_csrf})
    assert refused.status_code == 409
    assert sam.post(f"{base}/reply", json={"text": "hi"}).status_code == 403  # no CSRF token
    assert (
        sam.post(
            f"{base}/reply", json={"text": "  "}, headers={"X-CSRF-Token": sam_csrf}
        ).status_code
        == 422
    )
    assert kim.post(f"{base}/close", headers={"X-CSRF-Token": kim_csrf}).status_code == 200
    assert (
        sam.post(
            f"{base}/reply", json={"text": "hi"}, headers={"X-CSRF-Token": sam_csrf}
        ).status_code
        == 404
    )


def test_outside_business_hours_the_customer_is_offered_to_leave_a_message(
    make_client: ClientFactory, rasa: StandInRasaWithEvents
) -> None:
    today = datetime.now(UTC).date()
    closed = [str(today + timedelta(days=d)) for d in (-1, 0, 1)]
    customer = make_client(
        rasa=rasa, handoff_timezone="UTC", handoff_days="mon-sun", handoff_holidays=closed
    )
    handing_over(rasa, gateway(customer).settings.sqlalchemy_url)

    first = chat(customer, ASK)

    texts = [m["text"] for m in first["messages"]]
    assert texts[0] == HANDOFF_TEXT
    assert "Someone will answer from" in texts[1] and "(UTC)" in texts[1]
    assert first["messages"][1]["buttons"] == [
        {"title": "Leave my email", "payload": "/leave_email"}
    ]
    agent, _ = agent_client(customer, "sam@example.com")
    assert agent.get("/api/agent/queue").json() == []
    # the offered button passes the payload guard: the bot's contact flow takes the message
    chat(customer, "/leave_email", first["token"])
    assert webhook_texts(rasa)[-1] == "/leave_email"


def test_a_customer_waiting_too_long_is_offered_the_same(
    make_client: ClientFactory, rasa: StandInRasaWithEvents
) -> None:
    customer = make_client(rasa=rasa, handoff_max_wait_seconds=10, **ALWAYS_OPEN)
    settings = gateway(customer).settings
    handing_over(rasa, settings.sqlalchemy_url)
    first = chat(customer, ASK)
    with session_scope(get_engine(settings.sqlalchemy_url)) as session:
        handoff = session.query(Handoff).one()
        handoff.created_at = datetime.now(UTC) - timedelta(seconds=60)

    reply = chat(customer, "still there?", first["token"])

    assert "nobody from our team is free" in reply["messages"][0]["text"]
    assert webhook_texts(rasa) == [ASK]  # the message itself went to the tracker only
    agent, _ = agent_client(customer, "sam@example.com")
    assert agent.get("/api/agent/queue").json() == []
    assert chat(customer, "ok then", first["token"])["messages"][0]["text"] == "bot: ok then"


def test_when_rasa_cannot_record_a_human_turn_the_customer_gets_the_fallback(
    make_client: ClientFactory, rasa: StandInRasaWithEvents
) -> None:
    customer = make_client(rasa=rasa, **ALWAYS_OPEN)
    handing_over(rasa, gateway(customer).settings.sqlalchemy_url)
    first = chat(customer, ASK)
    rasa.mode = "error"

    response = customer.post(
        "/api/chat", json={"message": "hi"}, headers={"Authorization": f"Bearer {first['token']}"}
    )

    assert response.status_code == 503
    assert webhook_texts(rasa) == [ASK]


def test_unclaimed_handoffs_are_handed_back_with_the_offer_without_the_customer_writing(
    make_client: ClientFactory, rasa: StandInRasaWithEvents
) -> None:
    customer = make_client(rasa=rasa, handoff_max_wait_seconds=10, **ALWAYS_OPEN)
    state = gateway(customer)
    handing_over(rasa, state.settings.sqlalchemy_url)
    conversation = chat(customer, ASK)["conversation_id"]
    service = state.conversation.handoff
    assert service is not None
    portal = customer.portal
    assert portal is not None
    assert portal.call(service.expire_waiting) == 0  # not waited long enough yet

    with session_scope(state.engine) as session:
        row = session.query(Handoff).one()
        row.created_at = datetime.now(UTC) - timedelta(seconds=60)
        handoff_id = row.id

    assert portal.call(service.expire_waiting) == 1
    assert portal.call(service.expire_waiting) == 0
    [pushed] = RealtimeHub(state.engine).events_after(conversation, 0)
    offer = pushed.payload["messages"][0]
    assert "nobody from our team is free" in offer["text"]
    assert offer["buttons"] == [{"title": "Leave my email", "payload": "/leave_email"}]
    steps = [(t.to_state, t.actor) for t in service.store.transitions(handoff_id)]
    assert steps == [("waiting", "customer"), ("returned", "system")]


def test_the_agent_api_is_documented_in_the_openapi(make_client: ClientFactory) -> None:
    paths = make_client().get("/openapi.json").json()["paths"]
    base = "/api/agent/conversations/{conversation_id}"
    assert set(paths["/api/agent/queue"]) == {"get"}
    assert set(paths[base]) == {"get"}
    for action in ("claim", "reply", "handback", "close"):
        assert set(paths[f"{base}/{action}"]) == {"post"}, action
    assert "409" in paths[f"{base}/claim"]["post"]["responses"]


def test_a_turn_without_the_marker_does_not_read_the_requests(
    make_client: ClientFactory, rasa: StandInRasaWithEvents
) -> None:
    customer = make_client(rasa=rasa, **ALWAYS_OPEN)
    state = gateway(customer)
    url = state.settings.sqlalchemy_url

    def reply(body: dict[str, Any]) -> list[dict[str, Any]]:
        record_request(url, body)  # a row the turn's reply does not speak of
        if body["message"] == ASK:
            return handoff_reply(body["sender"])
        return [{"recipient_id": body["sender"], "text": f"bot: {body['message']}"}]

    rasa.reply = reply
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "handoff_requests" in statement and not statement.lstrip().upper().startswith("INSERT"):
            statements.append(statement)

    event.listen(state.engine, "before_cursor_execute", seen)
    try:
        first = chat(customer, "What is the return window?")
        assert statements == []  # no read, no claim: the request is left as it is
        with session_scope(state.engine) as session:
            [row] = session.query(HandoffRequest).all()
            assert row.status == "open"
        agent, _ = agent_client(customer, "sam@example.com")
        assert agent.get("/api/agent/queue").json() == []

        # the marked reply of a request for a person takes every open request of the turn's
        # conversation: the handoff opens
        chat(customer, ASK, first["token"])
        assert any(s.lstrip().upper().startswith("UPDATE") for s in statements)
    finally:
        event.remove(state.engine, "before_cursor_execute", seen)
    [item] = agent.get("/api/agent/queue").json()
    assert item["conversation_id"] == first["conversation_id"]
    with session_scope(state.engine) as session:
        assert {r.status for r in session.query(HandoffRequest).all()} == {"queued"}


class FailingAfterRecording(StandInRasaWithEvents):
    """Rasa whose turn for a request for a person raises after the action recorded it.

    The action server has written the row; the turn then fails (the tracker database, Redis)
    and Rasa's REST channel answers 500, so the marked reply never reaches the gateway.
    """

    database_url = ""
    """The app database the action server writes to (set once the gateway has started)."""

    async def _webhook(self, body: Any) -> httpx.Response:
        if isinstance(body, dict) and body.get("message") == ASK:
            await asyncio.to_thread(record_request, self.database_url, body)
            return httpx.Response(500, json={"error": "ConnectionError"})
        return await super()._webhook(body)


def failed_request(
    make_client: ClientFactory, **overrides: Any
) -> tuple[TestClient, FailingAfterRecording, str, str]:
    """Start a gateway whose Rasa fails the turn that asks for a person; ask for one.

    Returns the client, the stand-in Rasa, the conversation id and its token.
    """
    rasa = FailingAfterRecording()
    customer = make_client(rasa=rasa, **overrides)
    state = gateway(customer)
    rasa.database_url = state.settings.sqlalchemy_url
    rasa.reply = lambda body: [{"recipient_id": body["sender"], "text": "bot answer"}]
    first = customer.post("/api/chat", json={"message": "hello"})
    assert first.status_code == 200, first.text
    conversation, token = first.json()["conversation_id"], first.json()["token"]
    failed = customer.post(
        "/api/chat", json={"message": ASK}, headers={"Authorization": f"Bearer {token}"}
    )
    assert failed.status_code == 503  # the customer got the fallback text
    with session_scope(state.engine) as session:
        [row] = session.query(HandoffRequest).all()
        assert (row.sender_id, row.status) == (conversation, "open")
    return customer, rasa, conversation, token


def age_requests(customer: TestClient, seconds: float) -> None:
    with session_scope(gateway(customer).engine) as session:
        for row in session.query(HandoffRequest).all():
            row.created_at = datetime.now(UTC) - timedelta(seconds=seconds)


def test_a_request_whose_turn_failed_is_opened_by_the_sweep(make_client: ClientFactory) -> None:
    customer, rasa, conversation, token = failed_request(make_client, **ALWAYS_OPEN)
    state = gateway(customer)
    service = state.conversation.handoff
    assert service is not None
    assert service.orphan_grace == timedelta(seconds=30)  # 2 x 2 s budget, raised to 30 s
    portal = customer.portal
    assert portal is not None
    agent, _ = agent_client(customer, "sam@example.com")

    assert portal.call(service.open_orphaned_requests) == 0  # its turn may still answer
    assert agent.get("/api/agent/queue").json() == []
    age_requests(customer, 31)
    assert portal.call(service.open_orphaned_requests) == 1
    assert portal.call(service.open_orphaned_requests) == 0

    [item] = agent.get("/api/agent/queue").json()
    assert (item["conversation_id"], item["state"], item["channel"], item["summary"]) == (
        conversation,
        "waiting",
        "web",
        ASK,
    )
    with session_scope(state.engine) as session:
        assert session.query(HandoffRequest).one().status == "queued"
    # from now on the customer's messages wait for the person
    assert chat(customer, "hello? anyone?", token)["messages"] == []
    assert webhook_texts(rasa) == ["hello", ASK]
    assert [e["text"] for e in rasa.events_of(conversation, "user")][-1] == "hello? anyone?"


def test_outside_business_hours_the_sweep_offers_to_leave_a_message(
    make_client: ClientFactory,
) -> None:
    today = datetime.now(UTC).date()
    closed = [str(today + timedelta(days=d)) for d in (-1, 0, 1)]
    customer, rasa, conversation, token = failed_request(
        make_client, handoff_timezone="UTC", handoff_days="mon-sun", handoff_holidays=closed
    )
    state = gateway(customer)
    service = state.conversation.handoff
    assert service is not None
    portal = customer.portal
    assert portal is not None
    age_requests(customer, 31)

    assert portal.call(service.open_orphaned_requests) == 1
    assert portal.call(service.open_orphaned_requests) == 0

    [pushed] = RealtimeHub(state.engine).events_after(conversation, 0)
    [offer] = pushed.payload["messages"]
    assert "Our team is not available right now" in offer["text"]
    assert "Someone will answer from" in offer["text"] and "(UTC)" in offer["text"]
    assert offer["buttons"] == [{"title": "Leave my email", "payload": "/leave_email"}]
    with session_scope(state.engine) as session:
        assert session.query(HandoffRequest).one().status == "after_hours"
        assert session.query(Handoff).count() == 0
    # the offered button passes the payload guard: the bot's contact flow takes the message
    chat(customer, "/leave_email", token)
    assert webhook_texts(rasa)[-1] == "/leave_email"
