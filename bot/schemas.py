"""Request and response bodies of the gateway's JSON API (also its OpenAPI documentation).

The messages are the core types themselves (:mod:`core.messages`, stdlib dataclasses that
pydantic validates and documents), so a reply has one definition from Rasa to the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from channels.base import MAX_MESSAGE_LENGTH
from core.messages import Button, OutgoingMessage, SourceRef

MAX_COMMENT_LENGTH = 2000


class ChatRequest(BaseModel):
    """Body of ``POST /api/chat``; the conversation comes from the bearer token, if any.

    Without ``Authorization: Bearer <token>`` the message starts a new conversation; with
    it, the message continues the token's conversation.
    """

    message: str = Field(
        description=f"What the customer typed (at most {MAX_MESSAGE_LENGTH} characters)",
        examples=["What is the return window?"],
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Optional extra context passed on to Rasa"
    )
    conversation_id: str | None = Field(
        default=None,
        description="Optional check: must be the token's conversation (401 otherwise)",
    )


ButtonPublic = Button
"""A quick reply: show ``title``, send ``payload`` when chosen (the core type)."""
SourcePublic = SourceRef
"""A cited document; link it as ``/sources/{location}`` (the core type)."""
MessagePublic = OutgoingMessage
"""One reply of the assistant (the core type)."""


@dataclass(frozen=True)
class RestMessagePublic(OutgoingMessage):
    """One reply in the REST connector's list: a message with the conversation it is for."""

    recipient_id: str = field(kw_only=True)


class ConversationGrant(BaseModel):
    """The conversation a reply belongs to, and the token that continues it."""

    conversation_id: str
    token: str = Field(description="Send as 'Authorization: Bearer <token>' with the next message")
    token_expires_at: datetime = Field(description="When this token stops being accepted")


class ChatResponse(ConversationGrant):
    """Body of a successful ``POST /api/chat``: the replies and a renewed token."""

    messages: list[MessagePublic]


class ErrorDetailPublic(BaseModel):
    """One problem with the request."""

    field: str
    message: str


class ErrorResponse(BaseModel):
    """Body of every 4xx answer: a sentence for a person, and what exactly was wrong."""

    error: str
    details: list[ErrorDetailPublic] = Field(default_factory=list)


class UnavailableResponse(ConversationGrant):
    """Body of a 503 from ``/api/chat``: show ``messages``; the token still continues it."""

    error: str
    messages: list[MessagePublic]


class FeedbackCreate(BaseModel):
    """Body of ``POST /api/feedback``: a thumbs up or down on one answer of the token's chat."""

    model_config = ConfigDict(extra="ignore")

    answer_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_LENGTH)


class FeedbackPublic(BaseModel):
    """Body of a successful ``POST /api/feedback``."""

    id: str


class CheckResult(BaseModel):
    """Outcome of one health check."""

    ok: bool
    detail: str


class HealthResponse(BaseModel):
    """Body of ``GET /healthz``."""

    status: Literal["ok", "degraded"]
    checks: dict[str, CheckResult]


class ChannelHealth(BaseModel):
    """Body of ``GET /api/channels/{name}/health``."""

    status: Literal["ok"] = "ok"
    channel: str
