"""The small interface every channel connector implements, and the validation they share.

A connector turns a channel's incoming event into an :class:`IncomingMessage` (``parse``),
the assistant's normalised replies (:class:`OutgoingMessage`) into the channel's own payload
(``render``), and delivers a reply that arrives later, outside a turn (``send``: an agent's
message, a notification). It knows nothing about Rasa or HTTP servers, so tests build and
call it directly.

The JSON connectors (web, REST) cannot push yet: their ``send`` keeps the messages in an
in-memory :class:`Outbox` per conversation, and the conversation's next turn returns them
before the assistant's new replies. A full outbox raises :class:`Undeliverable`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ValidationError

from core.messages import IncomingMessage, OutgoingMessage

SENDER_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
"""Conversation ids the gateway accepts (what Rasa's tracker stores can key on safely)."""
MAX_MESSAGE_LENGTH = 4000
"""Longest customer message, in characters."""
MAX_PENDING_MESSAGES = 50
"""Most later replies an outbox keeps for one conversation before refusing more."""
MAX_PENDING_CONVERSATIONS = 10_000
"""Most conversations an outbox keeps replies for before refusing new ones."""


@dataclass(frozen=True)
class ErrorDetail:
    """One problem with an incoming payload, worded for the person who sent it."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON shape used in error bodies."""
        return {"field": self.field, "message": self.message}


class InvalidMessage(ValueError):
    """An incoming payload a channel cannot accept; ``str(error)`` is a readable sentence."""

    def __init__(self, message: str, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details) or [ErrorDetail(field="body", message=message)]

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> InvalidMessage:
        """Build the error from a pydantic ``ValidationError`` of the channel's payload model."""
        return cls.from_errors(error.errors(include_url=False))

    @classmethod
    def from_errors(cls, errors: Sequence[Mapping[str, Any]]) -> InvalidMessage:
        """Build the error from pydantic-style error dicts (``type``, ``loc``, ``msg``...)."""
        details = describe_errors(errors)
        summary = "; ".join(dict.fromkeys(d.message for d in details)) or "invalid request"
        return cls(summary, details)


class Undeliverable(Exception):
    """A later reply a channel cannot deliver; the caller logs it (it is never retried here)."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"{channel}: {reason}")
        self.channel = channel
        self.reason = reason


@runtime_checkable
class Channel(Protocol):
    """What every connector offers the gateway."""

    name: str

    def parse(self, payload: Any) -> IncomingMessage:
        """Turn the channel's incoming event into a message or raise :class:`InvalidMessage`."""
        ...

    def render(self, messages: Sequence[OutgoingMessage], *, recipient_id: str) -> Any:
        """Turn the assistant's replies into the channel's outgoing payload."""
        ...

    async def send(self, recipient_id: str, messages: Sequence[OutgoingMessage]) -> None:
        """Deliver replies that arrive outside a turn, or raise :class:`Undeliverable`."""
        ...


@runtime_checkable
class PendingReplies(Protocol):
    """A channel that cannot push: what ``send`` kept waits for the conversation's next turn."""

    def take_pending(self, recipient_id: str) -> list[OutgoingMessage]:
        """Return and forget the replies ``send`` kept for ``recipient_id`` (oldest first)."""
        ...


class Outbox:
    """Later replies per conversation, in this process's memory, bounded in both directions.

    Nothing survives a restart, and each gateway replica has its own: this is the stand-in
    until the channels can push (a later change adds live delivery).
    """

    def __init__(
        self,
        max_per_conversation: int = MAX_PENDING_MESSAGES,
        max_conversations: int = MAX_PENDING_CONVERSATIONS,
    ) -> None:
        """Keep at most ``max_per_conversation`` messages for ``max_conversations`` ids."""
        self.max_per_conversation = max_per_conversation
        self.max_conversations = max_conversations
        self._pending: dict[str, list[OutgoingMessage]] = {}
        self._lock = threading.Lock()

    def put(self, channel: str, recipient_id: str, messages: Sequence[OutgoingMessage]) -> None:
        """Keep ``messages`` for ``recipient_id``; raise :class:`Undeliverable` when full."""
        with self._lock:
            queued = self._pending.get(recipient_id)
            if queued is None and len(self._pending) >= self.max_conversations:
                raise Undeliverable(channel, "too many conversations with undelivered replies")
            queued = queued or []
            if len(queued) + len(messages) > self.max_per_conversation:
                raise Undeliverable(
                    channel, f"more than {self.max_per_conversation} undelivered replies"
                )
            self._pending[recipient_id] = [*queued, *messages]

    def take(self, recipient_id: str) -> list[OutgoingMessage]:
        """Return and forget the messages kept for ``recipient_id``."""
        with self._lock:
            return self._pending.pop(recipient_id, [])

    def __len__(self) -> int:
        """Return how many conversations have replies waiting."""
        return len(self._pending)


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def _error_field(error: Mapping[str, Any]) -> str:
    if error.get("type") in {"json_invalid", "json_type"}:
        return "body"  # the location is a character offset, not a field
    return _field_name(tuple(error.get("loc") or ()))


def _describe(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    name = _error_field(error)
    ctx = error.get("ctx") or {}
    if kind in {"json_invalid", "json_type"}:
        return "the request body is not valid JSON"
    if name == "body":
        if kind == "missing":
            return "the request body is empty; send a JSON object"
        if kind in {"model_attributes_type", "dict_type", "model_type"}:
            if isinstance(error.get("input"), str | bytes):
                return "the request body must be JSON (Content-Type: application/json)"
            return "the request body must be a JSON object"
    if kind == "missing":
        return f"{name} is required"
    if kind == "string_type":
        return f"{name} must be a string"
    if kind == "dict_type":
        return f"{name} must be a JSON object"
    if kind == "string_too_short":
        return f"{name} must not be empty"
    if kind == "string_too_long":
        return f"{name} must be at most {ctx.get('max_length')} characters"
    if kind in {"literal_error", "enum"}:
        return f"{name} must be one of {ctx.get('expected')}"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "extra_forbidden":
        return f"{name} is not a known field"
    message = str(error.get("msg") or "is invalid")
    return f"{name}: {message[:1].lower()}{message[1:]}"


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> list[ErrorDetail]:
    """Word pydantic-style validation errors for a person (``message must not be empty``)."""
    return [ErrorDetail(field=_error_field(e), message=_describe(e)) for e in errors]


def check_text(value: Any, *, name: str = "message", max_length: int = MAX_MESSAGE_LENGTH) -> str:
    """Return ``value`` stripped, or raise ``ValueError`` with a readable reason."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    text = value.strip()
    if not text:
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_length:
        raise ValueError(f"{name} must be at most {max_length} characters (got {len(value)})")
    return text


def check_sender_id(value: Any, *, name: str = "sender_id") -> str:
    """Return ``value`` when it is a valid conversation id, else raise ``ValueError``."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if not SENDER_ID_PATTERN.fullmatch(value):
        raise ValueError(f"{name} must be 1 to 128 characters: letters, digits and . _ : @ - only")
    return value


class JsonChannel:
    """Shared part of the JSON connectors: validate a body with ``request_model``.

    Subclasses name the model, the field that carries the conversation id, and render
    replies in their own shape.
    """

    name: ClassVar[str] = ""
    request_model: ClassVar[type[BaseModel]]
    sender_field: ClassVar[str] = "sender_id"

    def __init__(
        self, max_message_length: int = MAX_MESSAGE_LENGTH, outbox: Outbox | None = None
    ) -> None:
        """Accept messages of at most ``max_message_length`` characters."""
        self.max_message_length = max_message_length
        self.outbox = outbox if outbox is not None else Outbox()

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None = None) -> Self:
        """Build the connector from its configuration block (all keys optional)."""
        credentials = credentials or {}
        return cls(
            max_message_length=int(credentials.get("max_message_length", MAX_MESSAGE_LENGTH)),
            outbox=Outbox(
                max_per_conversation=int(
                    credentials.get("max_pending_messages", MAX_PENDING_MESSAGES)
                )
            ),
        )

    async def send(self, recipient_id: str, messages: Sequence[OutgoingMessage]) -> None:
        """Keep later replies until the conversation's next turn (these channels cannot push)."""
        try:
            check_sender_id(recipient_id, name="recipient_id")
        except ValueError as error:
            raise Undeliverable(self.name, str(error)) from None
        self.outbox.put(self.name, recipient_id, list(messages))

    def take_pending(self, recipient_id: str) -> list[OutgoingMessage]:
        """Return and forget the replies :meth:`send` kept for ``recipient_id``."""
        return self.outbox.take(recipient_id)

    def parse(self, payload: Any) -> IncomingMessage:
        """Validate a request body; raise :class:`InvalidMessage` with a readable reason."""
        if not isinstance(payload, dict):
            raise InvalidMessage("the request body must be a JSON object")
        try:
            request = self.request_model.model_validate(payload)
        except ValidationError as error:
            raise InvalidMessage.from_validation_error(error) from None
        text = str(request.message)  # type: ignore[attr-defined]
        if len(text) > self.max_message_length:
            raise InvalidMessage(f"message must be at most {self.max_message_length} characters")
        return IncomingMessage(
            sender_id=str(getattr(request, self.sender_field)),
            text=text,
            channel=self.name,
            metadata=dict(request.metadata),  # type: ignore[attr-defined]
        )
