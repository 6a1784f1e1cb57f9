"""FastAPI dependencies as ``Annotated`` aliases; tests swap them with ``dependency_overrides``.

Everything comes from the :class:`GatewayState` the app's lifespan builds: nothing here
creates a client or an engine on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request
from sqlalchemy import Engine

from bot.rasa_client import RasaClient
from bot.routers.errors import ApiError
from bot.services.conversation import ConversationService
from channels.base import Channel
from core.config import Settings


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


def get_state(request: Request) -> GatewayState:
    """Return the gateway's shared state (set by the lifespan of ``create_app``)."""
    state = getattr(request.app.state, "gateway", None)
    if not isinstance(state, GatewayState):
        raise RuntimeError("the gateway is not started: use the app inside its lifespan")
    return state


StateDep = Annotated[GatewayState, Depends(get_state)]


def get_app_settings(state: StateDep) -> Settings:
    """Return the settings the app was created with."""
    return state.settings


def get_http(state: StateDep) -> httpx.AsyncClient:
    """Return the shared HTTP client (for Rasa and the action server)."""
    return state.http


def get_rasa(state: StateDep) -> RasaClient:
    """Return the Rasa client."""
    return state.rasa


def get_db_engine(state: StateDep) -> Engine:
    """Return the application database engine."""
    return state.engine


def get_channels(state: StateDep) -> dict[str, Channel]:
    """Return the configured connectors by name."""
    return state.channels


def get_conversation(state: StateDep) -> ConversationService:
    """Return the conversation service every channel's turn goes through."""
    return state.conversation


def lookup_channel(channels: dict[str, Channel], name: str) -> Channel:
    """Return the connector ``name`` or answer 404 when it is not configured."""
    channel = channels.get(name)
    if channel is None:
        raise ApiError(404, f"the {name} channel is not enabled on this gateway")
    return channel


def channel_dependency(name: str) -> Callable[[GatewayState], Channel]:
    """Return a dependency giving the connector ``name`` (404 when it is not configured)."""

    def get_channel(state: StateDep) -> Channel:
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
