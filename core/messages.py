"""The message types every process shares: what a customer sent and what the assistant says.

The connectors (``channels/``) turn a channel's payload into an :class:`IncomingMessage` and
:class:`OutgoingMessage` replies into the channel's own shape; the gateway's API schemas are
derived from these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HANDOFF_REQUESTED = "handoff_requested"
"""``custom.kind`` of the reply that records a request for a person.

The action server's ``action_handoff_to_human`` sends it; the gateway looks for a recorded
request only after a turn whose replies carry it.
"""


@dataclass(frozen=True)
class IncomingMessage:
    """One customer message, whatever channel it came from."""

    sender_id: str
    text: str
    channel: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Button:
    """A quick reply: ``title`` is shown, ``payload`` is sent back when chosen."""

    title: str
    payload: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON shape used by the channels."""
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class SourceRef:
    """A document an answer cites: ``location`` is ``path#anchor`` inside the content folder."""

    title: str
    location: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON shape used by the channels."""
        return {"title": self.title, "location": self.location}


@dataclass(frozen=True)
class OutgoingMessage:
    """One normalised reply of the assistant: text, quick replies, cited sources, extras."""

    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of one message in ``/api/chat`` responses."""
        return {
            "text": self.text,
            "buttons": [b.to_dict() for b in self.buttons],
            "sources": [s.to_dict() for s in self.sources],
            "custom": dict(self.custom),
        }
