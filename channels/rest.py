"""A generic REST connector for integrations (a CRM, a help desk, a script).

Incoming (``POST /api/channels/rest/webhook``): ``{"sender": str, "message": str,
"metadata": {...}}``, the same shape as Rasa's own REST channel. Outgoing: a list like Rasa's,
one entry per message, always with every key:
``[{"recipient_id", "text", "buttons", "sources", "custom"}]``.

The caller names the conversation, so this channel is for servers, not browsers: the gateway
lets a request through only with ``Authorization: Bearer <CONCIERGE_REST_API_KEY>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.base import (
    MAX_MESSAGE_LENGTH,
    JsonChannel,
    check_sender_id,
    check_text,
)
from channels.web import check_metadata
from core.messages import OutgoingMessage


class RestWebhookRequest(BaseModel):
    """Body of ``POST /api/channels/rest/webhook``."""

    model_config = ConfigDict(extra="ignore")

    sender: str = Field(description="Conversation id: 1-128 of letters, digits, . _ : @ -")
    message: str = Field(description=f"The customer's text (at most {MAX_MESSAGE_LENGTH})")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("sender", mode="before")
    @classmethod
    def _sender(cls, value: Any) -> str:
        return check_sender_id(value, name="sender")

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any) -> str:
        return check_text(value, name="message")

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> dict[str, Any]:
        return check_metadata(value)


class RestChannel(JsonChannel):
    """Connector for integrations that post a message and read the replies in the response."""

    name = "rest"
    request_model = RestWebhookRequest
    sender_field = "sender"

    def render(
        self, messages: Sequence[OutgoingMessage], *, recipient_id: str
    ) -> list[dict[str, Any]]:
        """Return Rasa's REST list shape with ``sources`` and ``custom`` always present."""
        return [{"recipient_id": recipient_id, **m.to_dict()} for m in messages]


CONNECTOR = RestChannel
"""What :mod:`channels.registry` builds for ``rest`` in ``CONCIERGE_CHANNELS``."""
