"""The action server's part of a handoff, played by a stand-in Rasa's reply.

When the customer asks for a person, ``action_handoff_to_human`` records a
``handoff_requests`` row and marks its reply ``custom.kind == "handoff_requested"``; the
gateway looks for the recorded request only after that marker. :func:`handing_over` makes a
:class:`~tests.support.rasa_events.StandInRasaWithEvents` answer the same way.
"""

from __future__ import annotations

from typing import Any

from core.messages import HANDOFF_REQUESTED
from core.storage import HandoffRequest, get_engine, session_scope
from tests.support.rasa_events import StandInRasaWithEvents

ALWAYS_OPEN = {"handoff_days": "mon-sun", "handoff_hours": "00:00-23:59:59.999999"}
ASK = "I'd like to talk to a real person"
HANDOFF_TEXT = "I've let our team know you'd like to talk to a person."


def handoff_reply(sender: str, text: str = HANDOFF_TEXT) -> list[dict[str, Any]]:
    """Return ``action_handoff_to_human``'s reply as Rasa's REST channel sends it.

    The ``utter_message(response=..., json_message=HANDOFF_MARKER)`` becomes a text entry and
    a ``custom`` entry.
    """
    return [
        {"recipient_id": sender, "text": text},
        {"recipient_id": sender, "custom": {"kind": HANDOFF_REQUESTED}},
    ]


def record_request(database_url: str, body: dict[str, Any]) -> None:
    """Store the request for a person the action server records for the turn ``body``."""
    with session_scope(get_engine(database_url)) as session:
        session.add(
            HandoffRequest(
                sender_id=body["sender"],
                channel=body["metadata"]["channel"],
                reason="customer_request",
                last_message=body["message"],
            )
        )


def handing_over(
    rasa: StandInRasaWithEvents, database_url: str, ask: str = ASK, text: str = HANDOFF_TEXT
) -> None:
    """Make the stand-in answer like the assistant: ``ask`` is recorded and answered ``text``.

    Any other message is echoed as ``bot: <message>``.
    """

    def reply(body: dict[str, Any]) -> list[dict[str, Any]]:
        if body["message"] == ask:
            record_request(database_url, body)
            return handoff_reply(body["sender"], text)
        return [{"recipient_id": body["sender"], "text": f"bot: {body['message']}"}]

    rasa.reply = reply
