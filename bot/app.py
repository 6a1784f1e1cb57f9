"""The FastAPI gateway: the web widget's API, channel connectors, health, demo pages.

Run it with ``python -m bot.serve`` (what ``concierge run`` does) or
``uvicorn bot.app:create_app --factory``. Nothing happens at import: the lifespan of
:func:`create_app` opens the database, the one HTTP client used for Rasa and builds the
configured connectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.auth.conversation_tokens import conversation_tokens_for
from bot.auth.staff import install_auth_handlers
from bot.auth.throttle import login_throttle_for
from bot.crm import routes as lead_routes
from bot.deps import GatewayState
from bot.messages import fallback_message, fallback_text
from bot.middleware.limits import PublicLimitsMiddleware, guard_for
from bot.rasa_pool import rasa_client_for
from bot.routers import (
    agent,
    analytics,
    auth,
    channels,
    chat,
    events,
    health,
    pages,
    privacy,
    quotes,
    sources,
    telegram,
    widget,
)
from bot.routers import conversations as conversation_routes
from bot.routers.errors import install_error_handlers
from bot.routers.knowledge_admin import router as knowledge_admin_router
from bot.routers.knowledge_pages import pages as knowledge_pages
from bot.services.conversation import ConversationService
from bot.services.handoff import expire_forever, handoff_service_for
from bot.services.realtime import RealtimeHub, RedisFanout
from channels.registry import build_channels, channel_credentials
from channels.telegram import TelegramChannel
from channels.web import WebChannel
from core.config import Settings, get_settings
from core.redis import RedisConnection
from core.storage import get_engine
from core.storage.migrate import schema_problem
from knowledge.pricing import check_pricing

logger = logging.getLogger(__name__)

PUBLIC_PATHS = (
    "/api/chat",
    "/api/feedback",
    "/api/channels/web",
    "/api/widget",
    "/widget.js",
    "/widget.css",
)
"""What pages on other sites may call (the widget's API and files): the only CORS routes.

Everything else, ``/api/channels/rest/...`` and any staff or admin API (``/api/agent/...``,
``/api/admin/...``), answers same-origin only: no CORS headers, preflights included.
"""


def is_public_path(path: str) -> bool:
    """Whether ``path`` is one of :data:`PUBLIC_PATHS` or below one (``/api/chat/x``)."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PATHS)


class PublicCORSMiddleware:
    """CORS for the widget's public routes only, so sites can embed the widget."""

    def __init__(self, app: ASGIApp, allow_origins: Sequence[str]) -> None:
        """Wrap ``app``; answer CORS for ``allow_origins`` on :data:`PUBLIC_PATHS`."""
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(allow_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["content-type", "authorization", "last-event-id"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply CORS to public requests; pass everything else through untouched."""
        if scope["type"] == "http" and is_public_path(str(scope.get("path", ""))):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _cors_origins(settings: Settings) -> list[str]:
    """Return the origins whose pages may call the public routes (``cors_allow_origins``)."""
    return [origin for origin in settings.cors_allow_origins if origin]


def create_app(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the gateway for ``settings`` (the process settings when None).

    ``transport`` replaces the network under the HTTP client for Rasa and the action
    server (tests pass a stand-in Rasa as an ``httpx.MockTransport``).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a wrong pricing file stops the gateway here, naming the line to fix
        check_pricing(settings.content_dir)
        engine = get_engine(settings.sqlalchemy_url)
        # The schema is the migrations' job (`concierge db upgrade`); chat works without the
        # database, and /healthz says what is wrong with it.
        problem = await asyncio.to_thread(schema_problem, engine)
        if problem:
            logger.error("gateway.db.not_ready reason=%s", problem)
        connectors = build_channels(settings.channels, channel_credentials(settings))
        # Redis (CONCIERGE_REDIS_URL): rate limits and live-push fan-out shared by replicas;
        # unreachable at start or later, limits fail open and the gateway serves on
        redis = RedisConnection(settings.redis_url) if settings.redis_url else None
        fanout = RedisFanout(redis, settings.redis_key_prefix) if redis is not None else None
        if redis is not None:
            redis_problem = await redis.ping()
            if redis_problem:
                logger.error(
                    "gateway.redis.unreachable target=%s problem=%s (rate limits fail open "
                    "until it answers)",
                    redis.target,
                    redis_problem,
                )
        app.state.guard = guard_for(settings, redis)
        realtime = RealtimeHub(engine, settings.realtime_poll_seconds, fanout)
        web = connectors.get("web")
        if isinstance(web, WebChannel):
            web.push = realtime.publish_messages  # later replies reach the open chat live
        timeout = httpx.Timeout(settings.rasa_timeout_seconds)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        token = settings.rasa_auth_token
        async with httpx.AsyncClient(
            timeout=timeout, limits=limits, trust_env=False, transport=transport
        ) as http:
            rasa = rasa_client_for(  # several replicas (CONCIERGE_RASA_URLS): balanced
                http,
                settings.rasa_url,
                settings.rasa_urls,
                settings.rasa_timeout_seconds,
                token.get_secret_value() if token else None,
            )
            # the handoff's tracker appends share the pool: every replica, same failover
            handoff = handoff_service_for(settings, rasa, engine, connectors, realtime)
            app.state.gateway = GatewayState(
                settings=settings,
                http=http,
                rasa=rasa,
                engine=engine,
                channels=connectors,
                conversation=ConversationService(
                    rasa, fallback_message(fallback_text(settings.company)), handoff
                ),
                tokens=conversation_tokens_for(settings),
                throttle=login_throttle_for(settings),
                realtime=realtime,
            )
            logger.info(
                "gateway.started rasa_url=%s rasa_auth=%s database=%s channels=%s",
                settings.rasa_url,
                "token" if token else "none",
                engine.dialect.name,
                ",".join(connectors),
            )
            expiry = asyncio.create_task(expire_forever(handoff))  # unclaimed handoffs
            if fanout is not None:
                fanout.start()  # other replicas' events wake this one's streams
            try:
                yield
            finally:
                logger.info("gateway.stopping")
                expiry.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await expiry
                bot = connectors.get(TelegramChannel.name)
                if isinstance(bot, TelegramChannel):
                    await bot.shutdown()
                if fanout is not None:
                    await fanout.stop()
                if redis is not None:
                    await redis.close()
                del app.state.gateway
                del app.state.guard

    app = FastAPI(
        title="Concierge gateway",
        summary="Chat API, channel connectors and demo pages of the Concierge assistant",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_auth_handlers(app)
    app.include_router(chat.router)
    app.include_router(events.router)
    app.include_router(channels.router)
    app.include_router(telegram.router)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(sources.router)
    app.include_router(widget.router)
    app.include_router(quotes.router)
    app.include_router(auth.router)
    app.include_router(auth.pages)
    app.include_router(lead_routes.router)
    app.include_router(agent.router)
    app.include_router(agent.pages)
    app.include_router(analytics.router)  # the analytics page and its JSON/CSV API
    app.include_router(analytics.pages)
    app.include_router(privacy.router)
    app.include_router(privacy.pages)
    app.include_router(knowledge_admin_router)  # knowledge console: documents, unanswered
    app.include_router(knowledge_pages)
    app.include_router(conversation_routes.router)  # conversations: list, transcript, outcome
    app.include_router(conversation_routes.pages)
    app.add_middleware(PublicLimitsMiddleware)  # 429/503 before routes; inside CORS
    app.add_middleware(PublicCORSMiddleware, allow_origins=_cors_origins(settings))
    return app
