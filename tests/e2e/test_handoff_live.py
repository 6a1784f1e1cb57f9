"""A handoff with the real Rasa server, action server and gateway, proved from Rasa's tracker.

The customer asks for a person (real NLU and ``action_handoff_to_human``), an agent claims
the conversation and answers, then hands it back; the bot answers the next question. Rasa's
own tracker must hold the human turns and no bot prediction between claim and hand-back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.storage import get_engine
from tests.e2e.conftest import trained_model
from tests.support.chat import ChatSession
from tests.support.stack import LiveStack, running_stack
from tests.support.staff import add_user, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ALWAYS_OPEN = {
    "CONCIERGE_HANDOFF_DAYS": "mon-sun",
    "CONCIERGE_HANDOFF_HOURS": "00:00-23:59:59.999999",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    model = trained_model()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it)")
    with pytest.MonkeyPatch.context() as env:
        for name, value in ALWAYS_OPEN.items():
            env.setenv(name, value)  # the gateway process reads them from its environment
        with running_stack(model, tmp_path_factory.mktemp("handoff-stack")) as live:
            yield live


def tracker_events(stack: LiveStack, conversation_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.rasa_url}/conversations/{conversation_id}/tracker",
        params={"token": stack.rasa_auth_token},
        timeout=30,
    )
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def test_the_bot_is_silent_while_a_person_answers_and_knows_it_after(stack: LiveStack) -> None:
    customer = ChatSession(httpx.Client(base_url=stack.gateway_url), timeout=30)
    agent = httpx.Client(base_url=stack.gateway_url, timeout=30)
    add_user(get_engine(stack.settings.sqlalchemy_url), "sam@example.com", "support")
    csrf = {"X-CSRF-Token": sign_in(agent, "sam@example.com")}
    try:
        asked = customer.say("I'd like to talk to a real person")
        assert asked, "the assistant said nothing to a request for a person"
        conversation = customer.conversation_id
        queue = agent.get("/api/agent/queue").json()
        assert [item["conversation_id"] for item in queue] == [conversation]

        base = f"/api/agent/conversations/{conversation}"
        assert agent.post(f"{base}/claim", headers=csrf).status_code == 200
        assert customer.say("Hello, is someone there?") == []
        reply = agent.post(f"{base}/reply", json={"text": "Hi, Sam here."}, headers=csrf)
        assert reply.status_code == 200, reply.text
        assert customer.say("My grinder makes a loud noise") == []
        during = tracker_events(stack, conversation)
        assert agent.post(f"{base}/handback", headers=csrf).status_code == 200

        after = customer.say("How long do I have to return a product?")
        assert after and all(m["text"] or m["buttons"] for m in after)
    finally:
        customer.client.close()
        agent.close()

    user_texts = [e["text"] for e in during if e["event"] == "user"]
    assert user_texts[-2:] == ["Hello, is someone there?", "My grinder makes a loud noise"]
    first_human = next(
        i for i, e in enumerate(during) if e["event"] == "user" and e["text"].startswith("Hello")
    )
    span = during[first_human:]
    predicted = [e["name"] for e in span if e["event"] == "action" and e["name"] != "action_listen"]
    assert predicted == [], "Rasa ran actions while a person had the conversation"
    bot_texts = [e["text"] for e in span if e["event"] == "bot"]
    assert bot_texts == ["Hi, Sam here."]
    final = tracker_events(stack, conversation)
    assert any(
        e["event"] == "action" and e["name"] != "action_listen" for e in final[len(during) :]
    )
