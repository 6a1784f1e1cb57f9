"""FastAPI dependencies as ``Annotated`` aliases; tests swap them with ``dependency_overrides``.

Everything comes from the :class:`GatewayState` the app's lifespan builds: nothing here
creates a client or an engine on its own. They are ``async def`` because none of them
blocks: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per
dependency on every request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine

from bot.auth.bearer import Unauthorized, bearer_token, same_secret
from bot.auth.conversation_tokens import ConversationTokens, TokenRefused
from bot.auth.throttle import LoginThrottle
from bot.rasa_client import RasaClient
from bot.routers.errors import ApiError
from bot.services.conversation import ConversationService
from bot.services.realtime import RealtimeHub
from channels.base import Channel
from core.config import Settings

logger = logging.getLogger(__name__)


@dataclass
class GatewayState:
    """What the running gateway shares between requests."""

    settings: Settings
    http: httpx.AsyncClient
    rasa: RasaClient
    engine: Engine
    channels: dict[str, Channel]
    """The connectors built from ``settings.channels``, by name."""
    conversation: ConversationService
    tokens: ConversationTokens
    """Signs and checks the web widget's conversation tokens."""
    throttle: LoginThrottle
    """Counts staff sign-in attempts (per account and per client address)."""
    realtime: RealtimeHub
    """Stores and streams the events pushed to customers' open chats."""


async def get_state(request: Request) -> GatewayState:
    """Return the gateway's shared state (set by the lifespan of ``create_app``)."""
    state = getattr(request.app.state, "gateway", None)
    if not isinstance(state, GatewayState):
        raise RuntimeError("the gateway is not started: use the app inside its lifespan")
    return state


StateDep = Annotated[GatewayState, Depends(get_state)]


async def get_app_settings(state: StateDep) -> Settings:
    """Return the settings the app was created with."""
    return state.settings


async def get_http(state: StateDep) -> httpx.AsyncClient:
    """Return the shared HTTP client (for Rasa and the action server)."""
    return state.http


async def get_rasa(state: StateDep) -> RasaClient:
    """Return the Rasa client."""
    return state.rasa


async def get_db_engine(state: StateDep) -> Engine:
    """Return the application database engine."""
    return state.engine


async def get_channels(state: StateDep) -> dict[str, Channel]:
    """Return the configured connectors by name."""
    return state.channels


async def get_conversation(state: StateDep) -> ConversationService:
    """Return the conversation service every channel's turn goes through."""
    return state.conversation


def lookup_channel(channels: dict[str, Channel], name: str) -> Channel:
    """Return the connector ``name`` or answer 404 when it is not configured."""
    channel = channels.get(name)
    if channel is None:
        raise ApiError(404, f"the {name} channel is not enabled on this gateway")
    return channel


def channel_dependency(name: str) -> Callable[[GatewayState], Awaitable[Channel]]:
    """Return a dependency giving the connector ``name`` (404 when it is not configured)."""

    async def get_channel(state: StateDep) -> Channel:
        return lookup_channel(state.channels, name)

    get_channel.__name__ = f"get_{name}_channel"
    return get_channel


get_web_channel = channel_dependency("web")
get_rest_channel = channel_dependency("rest")

SettingsDep = Annotated[Settings, Depends(get_app_settings)]
HttpDep = Annotated[httpx.AsyncClient, Depends(get_http)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
EngineDep = Annotated[Engine, Depends(get_db_engine)]
ChannelsDep = Annotated[dict[str, Channel], Depends(get_channels)]
ConversationDep = Annotated[ConversationService, Depends(get_conversation)]
WebChannelDep = Annotated[Channel, Depends(get_web_channel)]
RestChannelDep = Annotated[Channel, Depends(get_rest_channel)]


async def get_conversation_tokens(state: StateDep) -> ConversationTokens:
    """Return the signer of the conversation tokens."""
    return state.tokens


ConversationTokensDep = Annotated[ConversationTokens, Depends(get_conversation_tokens)]


async def get_token_conversation(request: Request, tokens: ConversationTokensDep) -> str | None:
    """Return the conversation the request's bearer token grants, None when it sends none.

    A token that is malformed, forged or expired is a 401: it never falls back to a new
    conversation, so a client notices and starts over on purpose.
    """
    token = bearer_token(request)
    if token is None:
        return None
    try:
        return tokens.verify(token)
    except TokenRefused as refused:
        logger.info(
            "auth.conversation_token.refused problem=%s path=%s", refused.problem, request.url.path
        )
        raise Unauthorized(
            f"{refused.message}: start a new conversation by sending the message without it"
        ) from None


async def require_token_conversation(
    conversation_id: Annotated[str | None, Depends(get_token_conversation)],
) -> str:
    """Return the conversation of the request's bearer token; 401 when there is none."""
    if conversation_id is None:
        raise Unauthorized(
            "this needs the conversation's token: send 'Authorization: Bearer <token>'",
            error="invalid_request",
        )
    return conversation_id


async def require_rest_api_key(request: Request, settings: SettingsDep) -> None:
    """Let an integration reach the REST channel only with ``CONCIERGE_REST_API_KEY``.

    Unset, the channel is open in development and switched off in production (403).
    """
    key = settings.rest_api_key
    if key is None:
        if settings.environment == "production":
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "the REST channel is disabled: set CONCIERGE_REST_API_KEY to enable it",
            )
        return
    given = bearer_token(request)
    if given is None:
        raise Unauthorized(
            "the REST channel needs 'Authorization: Bearer <CONCIERGE_REST_API_KEY>'",
            error="invalid_request",
        )
    if not same_secret(given, key.get_secret_value()):
        raise Unauthorized("the REST channel's API key is not valid")


TokenConversationDep = Annotated[str | None, Depends(get_token_conversation)]
"""The conversation the bearer token grants, or None when the request has no token."""
RequiredConversationDep = Annotated[str, Depends(require_token_conversation)]
"""The conversation the bearer token grants (401 without one)."""
RestApiKeyDep = Annotated[None, Depends(require_rest_api_key)]
"""Checks the REST channel's API key."""


async def get_realtime(state: StateDep) -> RealtimeHub:
    """Return the live push hub."""
    return state.realtime


RealtimeDep = Annotated[RealtimeHub, Depends(get_realtime)]
