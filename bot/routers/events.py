"""``GET /api/chat/events``: the live push of one conversation as server-sent events.

Authorised by the conversation's token (``Authorization: Bearer <token>``, like
``/api/chat``). Each event carries its stored ``id``; a client that reconnects sends the last
one it saw as ``Last-Event-ID`` (or ``?last_event_id=``) and gets only the events after it.
Events: ``message`` (``{"messages": [...]}`` to show), and notices such as ``agent_joined``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from bot.deps import RealtimeDep, RequiredConversationDep
from bot.routers.errors import ApiError
from bot.schemas import ErrorResponse
from core.logging import sender_ref

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/chat", tags=["chat"])

PING_SECONDS = 15
"""Comment lines that keep idle connections (and proxies) open."""
RETRY_MS = 3000
"""How long a browser's EventSource waits before reconnecting."""


def resume_from(header: str | None, query: str | None) -> int:
    """Return the last event id the client saw (0 for none); 422 when it is not a number."""
    value = header if header is not None else query
    if value is None or value == "":
        return 0
    if not value.isdigit() or len(value) > 18:
        raise ApiError(422, "Last-Event-ID must be the id of an event this stream sent")
    return int(value)


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The conversation's events"},
        401: {"model": ErrorResponse, "description": "The token is missing, forged or expired"},
    },
)
async def events(
    request: Request,
    conversation_id: RequiredConversationDep,
    realtime: RealtimeDep,
    last_event_id: str | None = Header(default=None, alias="Last-Event-ID"),
    after: str | None = Query(default=None, alias="last_event_id"),
) -> EventSourceResponse:
    """Stream the conversation's pushed events, resuming after ``Last-Event-ID``."""
    start = resume_from(last_event_id, after)
    logger.info("realtime.stream.opened sender=%s after=%d", sender_ref(conversation_id), start)

    async def stopped() -> bool:
        return await request.is_disconnected()

    async def body() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(comment="connected", retry=RETRY_MS)
        async for event in realtime.stream(conversation_id, start, stopped):
            yield ServerSentEvent(
                data=json.dumps(event.payload), event=event.kind, id=str(event.id)
            )

    return EventSourceResponse(body(), ping=PING_SECONDS, headers={"Cache-Control": "no-store"})
