"""Rate limits and back-pressure on the public routes, before any route code runs.

Per route (docs/production.md, "Rate limits and back-pressure"):

=============================== ===================== ============ ============
route                           per conversation      per address  turn bound
=============================== ===================== ============ ============
``POST /api/chat``              the token's           yes          yes
``POST /api/feedback``          the token's           yes          no
``GET /api/chat/events``        the token's (connects) yes         no
``POST /api/channels/rest/...`` the body's ``sender`` no (servers) yes
``POST /api/channels/{x}/...``  no                    no           yes
``POST /channels/telegram/...`` no (Telegram's)       no           yes
=============================== ===================== ============ ============

A request over a limit gets 429 with ``Retry-After`` (seconds) and ``{"error", "details"}``;
``/api/chat`` adds ``messages`` (one message to show, the widget's shape). A turn beyond the
bound on turns in flight gets 503 with ``Retry-After`` and the fallback text, at once. Only a
verified token names a conversation (a forged one reaches the route, which answers 401), and
the REST channel's ``sender`` counts only for a caller with the right API key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.auth.bearer import Unauthorized, bearer_token, same_secret
from bot.auth.conversation_tokens import TokenRefused
from bot.deps import GatewayState
from bot.messages import fallback_text
from bot.middleware.client_address import TrustedProxies
from bot.routers.errors import MAX_BODY_BYTES
from bot.services.backpressure import TurnGate
from bot.services.ratelimit import (
    Decision,
    InProcessLimiter,
    Limit,
    RateLimiter,
    RedisLimiter,
)
from core.config import Settings
from core.logging import sender_ref
from core.messages import OutgoingMessage
from core.redis import RedisConnection

logger = logging.getLogger(__name__)

RATE_LIMITED_TEXT = (
    "You're sending messages faster than I can answer. Please wait {seconds} seconds and try again."
)
"""What the widget shows for a 429 from ``/api/chat``."""


@dataclass(frozen=True)
class Route:
    """What a public route is limited by."""

    name: str
    turn: bool = False
    """Runs a conversation turn: bounded by the turns in flight."""
    by_token: bool = False
    """Counted per conversation, the one the bearer token grants."""
    by_address: bool = False
    """Counted per client address."""
    by_sender: bool = False
    """Counted per the JSON body's ``sender`` (the REST channel)."""


CHAT = Route("chat", turn=True, by_token=True, by_address=True)
FEEDBACK = Route("feedback", by_token=True, by_address=True)
EVENTS = Route("events", by_token=True, by_address=True)
REST = Route("rest", turn=True, by_sender=True)
CHANNEL = Route("channel", turn=True)
TELEGRAM = Route("telegram", turn=True)


def route_of(method: str, path: str) -> Route | None:
    """Return the limits of the route ``method path``; None for routes not limited here."""
    if method == "POST":
        if path == "/api/chat":
            return CHAT
        if path == "/api/feedback":
            return FEEDBACK
        if path == "/api/channels/rest/webhook":
            return REST
        if path.startswith("/api/channels/") and path.endswith("/webhook"):
            return CHANNEL
        if path == "/channels/telegram/webhook":
            return TELEGRAM
    elif method == "GET" and path == "/api/chat/events":
        return EVENTS
    return None


@dataclass
class Guard:
    """What the middleware counts with: one per gateway process, built by the lifespan."""

    limiter: RateLimiter
    turns: TurnGate
    proxies: TrustedProxies
    conversation_limit: Limit
    address_limit: Limit
    enabled: bool = True
    overload_retry_after: int = 2
    redis: RedisConnection | None = None
    """The shared Redis, when ``CONCIERGE_REDIS_URL`` is set (also checked by /healthz)."""


def guard_for(settings: Settings, redis: RedisConnection | None) -> Guard:
    """Build the guard from settings: limits in Redis when it is configured, else in memory."""
    limiter: RateLimiter = (
        RedisLimiter(redis, settings.redis_key_prefix) if redis is not None else InProcessLimiter()
    )
    return Guard(
        limiter=limiter,
        turns=TurnGate(settings.max_inflight_turns),
        proxies=TrustedProxies.parse(settings.trusted_proxies),
        conversation_limit=Limit(
            settings.rate_limit_conversation_per_minute,
            60.0,
            settings.rate_limit_conversation_burst,
        ),
        address_limit=Limit(
            settings.rate_limit_address_per_minute, 60.0, settings.rate_limit_address_burst
        ),
        enabled=settings.rate_limit_enabled,
        overload_retry_after=settings.overload_retry_after_seconds,
        redis=redis,
    )


def guard_of(app: Any) -> Guard | None:
    """Return the running app's guard (None before its lifespan has started)."""
    state = getattr(app, "state", None)
    guard = getattr(state, "guard", None)
    return guard if isinstance(guard, Guard) else None


def address_key(address: str) -> str:
    """Return the counter key of a client address (hashed: Redis keys hold no addresses)."""
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:32]


async def _buffered_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """Read the request body (up to just past the API's limit); return it and the messages."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False) or len(body) > MAX_BODY_BYTES:
            break
    return body, messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """Return a ``receive`` that hands out ``messages`` first, then the real ones."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _sender_of(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    sender = data.get("sender") if isinstance(data, dict) else None
    return sender if isinstance(sender, str) and 0 < len(sender) <= 128 else None


class PublicLimitsMiddleware:
    """Applies the guard's rate limits and turn bound to the public routes (see the table)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``; the guard is found on the running app's state at each request."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse over-limit requests with 429 and turns beyond the bound with 503."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_of(str(scope.get("method", "")), str(scope.get("path", "")))
        guard = guard_of(scope.get("app")) if route is not None else None
        state = getattr(getattr(scope.get("app"), "state", None), "gateway", None)
        if route is None or guard is None or not isinstance(state, GatewayState):
            await self.app(scope, receive, send)
            return
        conversation: str | None = None
        if guard.enabled:
            refused, conversation, receive = await self._check(route, guard, state, scope, receive)
            if refused is not None:
                await refused(scope, receive, send)
                return
        if not route.turn:
            await self.app(scope, receive, send)
            return
        if not guard.turns.try_enter():
            logger.warning(
                "backpressure.refused route=%s in_flight=%d limit=%d",
                route.name,
                guard.turns.in_flight,
                guard.turns.limit,
            )
            await self._overloaded(route, guard, state, conversation)(scope, receive, send)
            return
        try:
            # background tasks (Telegram's turn) run inside this call: they hold the place too
            await self.app(scope, receive, send)
        finally:
            guard.turns.leave()

    async def _check(
        self, route: Route, guard: Guard, state: GatewayState, scope: Scope, receive: Receive
    ) -> tuple[JSONResponse | None, str | None, Receive]:
        """Count the request; return a 429 response (or None), its conversation, ``receive``."""
        request = Request(scope)
        conversation: str | None = None
        checks: list[tuple[str, str, Limit]] = []
        if route.by_token:
            conversation = _token_conversation(request, state)
            if conversation is not None:
                checks.append(
                    ("conversation", f"{route.name}:c:{conversation}", guard.conversation_limit)
                )
        if route.by_sender and _rest_caller_allowed(request, state.settings):
            body, messages = await _buffered_body(receive)
            receive = _replay(messages, receive)
            conversation = _sender_of(body)
            if conversation is not None:
                checks.append(
                    ("conversation", f"{route.name}:c:{conversation}", guard.conversation_limit)
                )
        if route.by_address:
            address = guard.proxies.client_address(
                request.client.host if request.client else None,
                request.headers.getlist("x-forwarded-for"),
            )
            checks.append(("address", f"a:{address_key(address)}", guard.address_limit))
        for scope_name, key, limit in checks:
            decision = await guard.limiter.hit(key, limit)
            if not decision.allowed:
                logger.info(
                    "ratelimit.refused route=%s by=%s sender=%s retry_after=%d",
                    route.name,
                    scope_name,
                    sender_ref(conversation) if conversation else "-",
                    decision.retry_after_seconds,
                )
                return _too_many(route, scope_name, decision, state), conversation, receive
        return None, conversation, receive

    def _overloaded(
        self, route: Route, guard: Guard, state: GatewayState, conversation: str | None
    ) -> JSONResponse:
        seconds = guard.overload_retry_after
        headers = {"Retry-After": str(seconds)}
        error = f"the assistant is busy; please try again in {seconds} seconds"
        fallback = OutgoingMessage(text=fallback_text(state.settings.company))
        if route is CHAT:
            body: dict[str, Any] = {"error": error, "details": [], "messages": [fallback.to_dict()]}
            if conversation is not None:
                body["conversation_id"] = conversation
            return JSONResponse(body, status_code=503, headers=headers)
        channel = state.channels.get("rest") if route is REST else None
        if channel is not None:  # the REST channel's own 503 shape: a list with the fallback
            rendered = channel.render([fallback], recipient_id=conversation or "")
            return JSONResponse(rendered, status_code=503, headers=headers)
        return JSONResponse({"error": error, "details": []}, status_code=503, headers=headers)


def _bearer(request: Request) -> str | None:
    """Return the request's bearer token; None when it has none or a malformed header."""
    try:
        return bearer_token(request)
    except Unauthorized:
        return None  # the route answers 401 with the reason


def _token_conversation(request: Request, state: GatewayState) -> str | None:
    token = _bearer(request)
    if token is None:
        return None
    try:
        return state.tokens.verify(token)
    except TokenRefused:
        return None  # the route answers 401


def _rest_caller_allowed(request: Request, settings: Settings) -> bool:
    """Whether the REST channel would take this caller (its API key, or open in development)."""
    key = settings.rest_api_key
    if key is None:
        return settings.environment != "production"
    given = _bearer(request)
    return given is not None and same_secret(given, key.get_secret_value())


def _too_many(route: Route, by: str, decision: Decision, state: GatewayState) -> JSONResponse:
    seconds = decision.retry_after_seconds
    subject = "this conversation" if by == "conversation" else "this address"
    noun = "connections" if route is EVENTS else "requests"
    body: dict[str, Any] = {
        "error": f"too many {noun} from {subject}; please wait {seconds} seconds",
        "details": [],
    }
    if route is CHAT:
        body["messages"] = [
            OutgoingMessage(text=RATE_LIMITED_TEXT.format(seconds=seconds)).to_dict()
        ]
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(seconds)})
