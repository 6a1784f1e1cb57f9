"""The web chat widget's channel: what ``POST /api/chat`` turns into, and its reply.

The gateway decides the conversation (a new one, or the one the customer's signed token
grants) and hands the connector ``{"sender_id": conversation_id, "message": str,
"metadata": {...}}``; customers never choose the id themselves.
Outgoing: ``{"conversation_id": str, "messages": [{"text", "buttons", "sources", "custom"}]}``
(the gateway adds the renewed token).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.base import (
    MAX_MESSAGE_LENGTH,
    JsonChannel,
    Undeliverable,
    check_sender_id,
    check_text,
)
from core.messages import OutgoingMessage

MAX_METADATA_CHARS = 4096
"""Largest ``metadata`` object (as JSON) a client may attach to a message."""


def check_metadata(value: Any, *, name: str = "metadata") -> dict[str, Any]:
    """Return ``value`` when it is a small JSON object, else raise ``ValueError``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object")
    if len(json.dumps(value, default=str)) > MAX_METADATA_CHARS:
        raise ValueError(f"{name} must be at most {MAX_METADATA_CHARS} characters as JSON")
    return value


class WebChatRequest(BaseModel):
    """One widget message, with the conversation id the gateway resolved for it."""

    model_config = ConfigDict(extra="ignore")

    sender_id: str = Field(
        description="Conversation id (set by the gateway): 1-128 of letters, digits, . _ : @ -",
        examples=["3f1c9a0e-6a43-4a8e-9a51-1f2b0c7d9e10"],
    )
    message: str = Field(
        description=f"What the customer typed (at most {MAX_MESSAGE_LENGTH} characters)",
        examples=["What is the return window?"],
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Optional extra context passed on to Rasa"
    )

    @field_validator("sender_id", mode="before")
    @classmethod
    def _sender_id(cls, value: Any) -> str:
        return check_sender_id(value)

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any) -> str:
        return check_text(value, name="message")

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> dict[str, Any]:
        return check_metadata(value)


PushSink = Callable[[str, Sequence[OutgoingMessage]], Awaitable[None]]
"""Delivers later replies to a conversation's open chat (the gateway's live push)."""


class WebChannel(JsonChannel):
    """The widget's connector; built by :meth:`from_credentials` like Rasa's connectors.

    With a ``push`` sink (the gateway attaches its live push), later replies go straight to
    the customer's open chat; without one they wait for the conversation's next turn.
    """

    name = "web"
    request_model = WebChatRequest
    sender_field = "sender_id"
    push: PushSink | None = None

    async def send(self, recipient_id: str, messages: Sequence[OutgoingMessage]) -> None:
        """Push later replies live, or keep them for the next turn when nothing can push."""
        if self.push is None:
            await super().send(recipient_id, messages)
            return
        try:
            check_sender_id(recipient_id, name="recipient_id")
        except ValueError as error:
            raise Undeliverable(self.name, str(error)) from None
        await self.push(recipient_id, list(messages))

    def render(self, messages: Sequence[OutgoingMessage], *, recipient_id: str) -> dict[str, Any]:
        """Return the ``/api/chat`` response body (without the token the gateway adds)."""
        return {"conversation_id": recipient_id, "messages": [m.to_dict() for m in messages]}


CONNECTOR = WebChannel
"""What :mod:`channels.registry` builds for ``web`` in ``CONCIERGE_CHANNELS``."""
