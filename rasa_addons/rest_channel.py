"""Rasa's REST channel, except that a turn that raised answers HTTP 500 instead of ``[]``.

Rasa's ``RestInput`` catches every exception raised while a message is handled (the Redis
lock store unreachable, say; errors of the tracker store are swallowed earlier, by Rasa's
``FailSafeTrackerStore``), logs it with the message text and answers 200 with the messages
collected so far, usually none. The gateway cannot tell that from a turn that legitimately
had no reply, so the customer got nothing instead of the fallback text. :class:`RestInput`
answers such a turn with 500 and ``{"error": "the turn failed", "reason": "<exception
class>"}``, which the gateway turns into the fallback text with a 503, and logs it without
the text or the sender (also blanked out of the exception's own message).

Everything else is Rasa's: the channel name (``rest``, so the URL stays
``/webhooks/rest/webhook``), how sender, text, ``input_channel`` and metadata are read, the
``stream=true`` path, and a cancelled (timed out) turn answering the messages so far. Only
the routes are written here, since Rasa builds them inside ``blueprint()``; they call Rasa's
methods for everything but the failure. ``credentials.yml`` names this class in place of
``rest:``.

Creating the channel also makes Rasa validate action server responses against a schema
compiled once (``rasa_addons.action_results``): this channel is what every ``rasa run`` of
the project builds from its own files.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_addons.action_results import validate_with_compiled_schema

logger = logging.getLogger(__name__)

TURN_FAILED_STATUS = 500
TURN_FAILED_ERROR = "the turn failed"
REDACTED = "<redacted>"
_CAUSED = "\nThe above exception was the direct cause of the following exception:\n\n"
_DURING = "\nDuring handling of the above exception, another exception occurred:\n\n"


def failure_details(error: BaseException, *private: object) -> str:
    """Format the traceback of ``error`` and its causes, ``private`` blanked out of messages.

    Exception messages may quote the conversation (Rasa's ``LockError`` names the sender id);
    the frames (file, line, code) are kept as Python prints them.
    """
    links: list[tuple[traceback.TracebackException, str]] = []
    current: traceback.TracebackException | None = traceback.TracebackException.from_exception(
        error
    )
    joint = ""
    while current is not None:
        links.append((current, joint))
        if current.__cause__ is not None:
            current, joint = current.__cause__, _CAUSED
        elif current.__context__ is not None and not current.__suppress_context__:
            current, joint = current.__context__, _DURING
        else:
            current = None
    lines: list[str] = []
    for link, joint in reversed(links):
        lines += ["Traceback (most recent call last):\n", *link.stack.format()]
        for line in link.format_exception_only():
            for value in (str(value) for value in private if value):
                line = line.replace(value, REDACTED)
            lines.append(line)
        lines.append(joint)
    return "".join(lines).rstrip("\n")


class RestInput(RasaRestInput):  # type: ignore[misc]
    """Rasa's ``rest`` channel; a turn that raised is a 500 with the exception's class."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        """Create the channel as Rasa does; validate action responses with a compiled schema."""
        validate_with_compiled_schema()
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's health and webhook routes, the webhook answering a failed turn with 500."""
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        # Any: an HTTPResponse, or Sanic 21.12's ResponseStream. mypy runs in the app's
        # environment, whose Sanic (rasa-sdk's, 25.x) has no ``response.stream``.
        async def receive(request: Request) -> Any:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            input_channel = self._extract_input_channel(request)
            metadata = self.get_metadata(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                stream = self.stream_response(
                    on_new_message, text, sender_id, input_channel, metadata
                )
                return response.stream(stream, content_type="text/event-stream")  # type: ignore[attr-defined]
            collector = CollectingOutputChannel()
            message = UserMessage(
                text, collector, sender_id, input_channel=input_channel, metadata=metadata
            )
            try:
                await on_new_message(message)
            except CancelledError:  # as Rasa: a timed-out turn answers what it has so far
                logger.error("rest.turn.timeout")
            except Exception as error:
                reason = type(error).__name__
                details = failure_details(error, sender_id, text)
                logger.error("rest.turn.failed reason=%s\n%s", reason, details)
                return response.json(
                    {"error": TURN_FAILED_ERROR, "reason": reason}, status=TURN_FAILED_STATUS
                )
            return response.json(collector.messages)

        webhook.add_route(health, "/", methods=["GET"])
        webhook.add_route(receive, "/webhook", methods=["POST"])
        return webhook
