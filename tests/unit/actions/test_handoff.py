"""actions/handoff.py: a request for a person is recorded with its context."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from sqlalchemy import Engine, select

from actions.handoff import HANDOFF_RESPONSE, ActionHandoffToHuman
from core.storage import HandoffRequest, session_scope
from tests.support.trackers import load_tracker, rendered, run


def test_handoff_is_recorded_with_context(database: Engine) -> None:
    tracker = load_tracker(
        "question",
        latest_message={"text": "a human please", "intent": {"name": "ask_human"}},
        events=[
            {"event": "user", "text": "my grinder makes a weird noise"},
            {"event": "bot", "text": "Sorry to hear that."},
            {"event": "user", "text": "a human please"},
        ],
    )
    events, dispatcher = run(ActionHandoffToHuman(), tracker)
    assert dispatcher.messages[0]["response"] == HANDOFF_RESPONSE
    assert dispatcher.messages[0]["custom"] == {"kind": "handoff_requested"}  # widget `handoff`
    shown = rendered(dispatcher, tracker)[0]
    assert shown["buttons"][0]["payload"] == "/leave_email"
    assert shown["text"].startswith("I've let our team know you'd like to talk to a person.")
    with session_scope(database) as session:
        handoff = session.scalars(select(HandoffRequest)).one()
    assert handoff.reason == "customer_request"
    assert handoff.last_message == "my grinder makes a weird noise"
    assert events == [SlotSet("contact_topic", "support")]
