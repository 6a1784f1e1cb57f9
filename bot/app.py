"""The FastAPI gateway: the web widget's API, channel connectors, health, demo pages.

Run it with ``uvicorn bot.app:create_app --factory``. Nothing happens at import: the
lifespan of :func:`create_app` opens the database and the one HTTP client used for Rasa.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.deps import GatewayState
from bot.rasa_client import RasaClient
from bot.routers import channels, chat, health, pages, sources
from bot.routers.errors import install_error_handlers
from channels.rest import RestChannel
from channels.web import WebChannel
from core.config import Settings, get_settings
from core.storage import get_engine
from core.storage.migrate import schema_problem

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
DEFAULT_CORS_ORIGINS = ("*",)


class ApiCORSMiddleware:
    """CORS for ``/api/*`` only, so any site can embed the widget and call the API."""

    def __init__(self, app: ASGIApp, allow_origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(allow_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["content-type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply CORS to API requests; pass everything else through untouched."""
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(API_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _cors_origins(settings: Settings) -> list[str]:
    """Return the origins allowed to call ``/api/*`` (a ``cors_allow_origins`` setting, or all)."""
    configured = getattr(settings, "cors_allow_origins", None)
    if isinstance(configured, str):
        configured = [o.strip() for o in configured.split(",") if o.strip()]
    return list(configured) if configured else list(DEFAULT_CORS_ORIGINS)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the gateway for ``settings`` (the process settings when None)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = get_engine(settings.sqlalchemy_url)
        # The schema is the migrations' job (`concierge db upgrade`); chat works without the
        # database, and /healthz says what is wrong with it.
        problem = await asyncio.to_thread(schema_problem, engine)
        if problem:
            logger.error("gateway.db.not_ready reason=%s", problem)
        timeout = httpx.Timeout(settings.rasa_timeout_seconds)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as http:
            app.state.gateway = GatewayState(
                settings=settings,
                http=http,
                rasa=RasaClient(http, settings.rasa_url, settings.rasa_timeout_seconds),
                engine=engine,
                web=WebChannel.from_credentials({}),
                rest=RestChannel.from_credentials({}),
            )
            logger.info(
                "gateway.started rasa_url=%s database=%s", settings.rasa_url, engine.dialect.name
            )
            try:
                yield
            finally:
                logger.info("gateway.stopping")
                del app.state.gateway

    app = FastAPI(
        title="Concierge gateway",
        summary="Chat API, channel connectors and demo pages of the Concierge assistant",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(chat.router)
    app.include_router(channels.router)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(sources.router)
    app.add_middleware(ApiCORSMiddleware, allow_origins=_cors_origins(settings))
    return app
