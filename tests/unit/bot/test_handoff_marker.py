"""The marker that makes the gateway look for a recorded request for a person."""

from __future__ import annotations

from actions.handoff import HANDOFF_MARKER
from bot.messages import normalize
from bot.services.handoff import asked_for_person
from core.messages import HANDOFF_REQUESTED, OutgoingMessage


def test_the_action_and_the_gateway_share_the_marker() -> None:
    assert HANDOFF_MARKER == {"kind": HANDOFF_REQUESTED} == {"kind": "handoff_requested"}


def test_the_marker_survives_rasas_rest_channel_split() -> None:
    # utter_message(response=..., json_message=...) arrives as a text entry, then its custom one
    entries = [
        {"recipient_id": "u1", "text": "I've let our team know you'd like to talk to a person."},
        {"recipient_id": "u1", "custom": {"kind": HANDOFF_REQUESTED}},
    ]
    messages = normalize(entries)
    assert [m.custom for m in messages] == [{"kind": HANDOFF_REQUESTED}]
    assert asked_for_person(messages)


def test_other_replies_do_not_ask_for_a_person() -> None:
    assert not asked_for_person([])
    assert not asked_for_person([OutgoingMessage(text="We ship in 2 days.")])
    assert not asked_for_person([OutgoingMessage(custom={"kind": "kb_answer"})])
    assert not asked_for_person([OutgoingMessage(custom={"kind": "handoff_unavailable"})])
