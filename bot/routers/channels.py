"""Channel connectors' routes: a health route per connector and the generic REST webhook."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.deps import RasaDep, RestChannelDep
from bot.messages import fallback_message
from bot.rasa_client import RasaUnavailable
from bot.routers.chat import converse
from bot.routers.errors import read_json_body
from bot.schemas import ChannelHealth, ErrorResponse, MessagePublic
from channels.rest import RestWebhookRequest

router = APIRouter(prefix="/api/channels", tags=["channels"])


@router.get("/web/health", response_model=ChannelHealth)
async def web_health() -> ChannelHealth:
    """Report the web connector up: this process serves it, so it is up when the gateway is."""
    return ChannelHealth(channel="web")


@router.get("/rest/health", response_model=ChannelHealth)
async def rest_health() -> ChannelHealth:
    """Report the REST connector up: this process serves it, so it is up when the gateway is."""
    return ChannelHealth(channel="rest")


class RestMessagePublic(MessagePublic):
    """One reply in the REST connector's list."""

    recipient_id: str


@router.post(
    "/rest/webhook",
    response_model=list[RestMessagePublic],
    responses={
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
async def rest_webhook(request: Request, channel: RestChannelDep, rasa: RasaDep) -> JSONResponse:
    """Send an integration's message to the assistant and return its replies as a list."""
    incoming = channel.parse(await read_json_body(request))
    try:
        messages = await converse(rasa, incoming)
    except RasaUnavailable:
        fallback = channel.render([fallback_message()], recipient_id=incoming.sender_id)
        return JSONResponse(fallback, status_code=503)
    return JSONResponse(channel.render(messages, recipient_id=incoming.sender_id))
