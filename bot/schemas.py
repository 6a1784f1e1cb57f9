"""Request and response bodies of the gateway's JSON API (also its OpenAPI documentation).

The messages are the core types themselves (:mod:`core.messages`, stdlib dataclasses that
pydantic validates and documents), so a reply has one definition from Rasa to the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.base import check_sender_id
from channels.web import WebChatRequest
from core.messages import Button, OutgoingMessage, SourceRef

MAX_COMMENT_LENGTH = 2000

ChatRequest = WebChatRequest
"""Body of ``POST /api/chat`` (validated by the web channel)."""


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


class ChatResponse(BaseModel):
    """Body of a successful ``POST /api/chat``."""

    sender_id: str
    messages: list[MessagePublic]


class ErrorDetailPublic(BaseModel):
    """One problem with the request."""

    field: str
    message: str


class ErrorResponse(BaseModel):
    """Body of every 4xx answer: a sentence for a person, and what exactly was wrong."""

    error: str
    details: list[ErrorDetailPublic] = Field(default_factory=list)


class UnavailableResponse(BaseModel):
    """Body of a 503 from ``/api/chat``: show ``messages`` to the customer."""

    error: str
    sender_id: str | None = None
    messages: list[MessagePublic]


class FeedbackCreate(BaseModel):
    """Body of ``POST /api/feedback``: a thumbs up or down on one answer."""

    model_config = ConfigDict(extra="ignore")

    sender_id: str
    answer_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_LENGTH)

    @field_validator("sender_id", mode="before")
    @classmethod
    def _sender_id(cls, value: Any) -> str:
        return check_sender_id(value)


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
