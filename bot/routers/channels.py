"""Channel connectors' routes: a health route per connector and their webhooks.

Every connector configured in ``CONCIERGE_CHANNELS`` gets ``GET /api/channels/{name}/health``
and ``POST /api/channels/{name}/webhook`` (the REST connector's is documented with its own
shape and needs ``CONCIERGE_REST_API_KEY``); the web widget talks to ``/api/chat`` instead.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.deps import ChannelsDep, ConversationDep, RestApiKeyDep, RestChannelDep, lookup_channel
from bot.routers.errors import ApiError, read_json_body
from bot.schemas import ChannelHealth, ErrorResponse, RestMessagePublic
from bot.services.conversation import ConversationService
from channels.base import Channel
from channels.rest import RestWebhookRequest

router = APIRouter(prefix="/api/channels", tags=["channels"])

WEB_CHANNEL = "web"


@router.get(
    "/{name}/health",
    response_model=ChannelHealth,
    responses={404: {"model": ErrorResponse, "description": "No such connector configured"}},
)
async def channel_health(name: str, channels: ChannelsDep) -> ChannelHealth:
    """Report a configured connector up: this process serves it, so it is up with the gateway."""
    return ChannelHealth(channel=lookup_channel(channels, name).name)


async def _webhook(
    request: Request, channel: Channel, conversation: ConversationService
) -> JSONResponse:
    """Run one turn for ``channel``; a 503 holds the fallback in the channel's own shape."""
    turn = await conversation.turn(channel, await read_json_body(request))
    body = channel.render(turn.messages, recipient_id=turn.incoming.sender_id)
    return JSONResponse(body, status_code=200 if turn.ok else 503)


@router.post(
    "/rest/webhook",
    response_model=list[RestMessagePublic],
    responses={
        401: {"model": ErrorResponse, "description": "CONCIERGE_REST_API_KEY missing or wrong"},
        403: {"model": ErrorResponse, "description": "Disabled: no API key set in production"},
        404: {"model": ErrorResponse, "description": "The REST connector is not configured"},
        422: {"model": ErrorResponse, "description": "The request is not a valid message"},
        503: {
            "model": list[RestMessagePublic],
            "description": "Rasa is unavailable: the list holds a fallback message to show",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RestWebhookRequest.model_json_schema()}},
        }
    },
)
async def rest_webhook(
    request: Request, _key: RestApiKeyDep, channel: RestChannelDep, conversation: ConversationDep
) -> JSONResponse:
    """Send an integration's message to the assistant and return its replies as a list.

    Server to server only: the caller names the conversation (``sender``) and proves it may
    with ``Authorization: Bearer <CONCIERGE_REST_API_KEY>``.
    """
    return await _webhook(request, channel, conversation)


@router.post(
    "/{name}/webhook",
    responses={
        404: {"model": ErrorResponse, "description": "No such connector configured"},
        422: {"model": ErrorResponse, "description": "The request is not a valid message"},
        503: {"description": "Rasa is unavailable: the body holds a fallback message"},
    },
)
async def channel_webhook(
    name: str, request: Request, channels: ChannelsDep, conversation: ConversationDep
) -> JSONResponse:
    """Run one turn for any other configured connector, in that connector's own shapes."""
    if name == WEB_CHANNEL:
        raise ApiError(404, "the web widget's turns go to /api/chat")
    return await _webhook(request, lookup_channel(channels, name), conversation)
