"""FastAPI dependencies as ``Annotated`` aliases; tests swap them with ``dependency_overrides``.

Everything comes from the :class:`GatewayState` the app's lifespan builds: nothing here
creates a client or an engine on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request
from sqlalchemy import Engine

from bot.rasa_client import RasaClient
from channels.rest import RestChannel
from channels.web import WebChannel
from core.config import Settings


@dataclass
class GatewayState:
    """What the running gateway shares between requests."""

    settings: Settings
    http: httpx.AsyncClient
    rasa: RasaClient
    engine: Engine
    web: WebChannel
    rest: RestChannel


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


def get_web_channel(state: StateDep) -> WebChannel:
    """Return the web widget's connector."""
    return state.web


def get_rest_channel(state: StateDep) -> RestChannel:
    """Return the generic REST connector."""
    return state.rest


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
HttpDep = Annotated[httpx.AsyncClient, Depends(get_http)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
EngineDep = Annotated[Engine, Depends(get_db_engine)]
WebChannelDep = Annotated[WebChannel, Depends(get_web_channel)]
RestChannelDep = Annotated[RestChannel, Depends(get_rest_channel)]
