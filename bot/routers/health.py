"""``GET /healthz``: is Rasa loaded, is the action server up, does the database answer."""

from __future__ import annotations

import asyncio
import logging

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from bot.deps import EngineDep, HttpDep, RasaDep, SettingsDep
from bot.middleware.limits import guard_of
from bot.rasa_client import RasaClient, RasaTimeout, RasaUnavailable
from bot.schemas import CheckResult, HealthResponse
from core.redis import RedisConnection
from core.storage.migrate import schema_problem

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 2.0


async def check_rasa(rasa: RasaClient, timeout: float = CHECK_TIMEOUT_SECONDS) -> CheckResult:
    """Check Rasa: healthy when ``/status`` answers and names a loaded model."""
    try:
        status = await rasa.status(timeout_seconds=timeout)
    except RasaTimeout:
        return CheckResult(ok=False, detail=f"{rasa.base_url}/status timed out after {timeout:g} s")
    except RasaUnavailable as error:
        return CheckResult(ok=False, detail=str(error))
    model_file = status.get("model_file")
    if not model_file:
        return CheckResult(ok=False, detail="Rasa is up but no model is loaded")
    return CheckResult(ok=True, detail=f"model loaded: {model_file}")


async def check_action_server(
    http: httpx.AsyncClient, base_url: str, timeout: float = CHECK_TIMEOUT_SECONDS
) -> CheckResult:
    """Check the action server: healthy when ``/health`` answers ``{"status": "ok"}``."""
    url = f"{base_url.rstrip('/')}/health"
    try:
        response = await asyncio.wait_for(http.get(url, timeout=timeout), timeout=timeout)
    except (TimeoutError, httpx.TimeoutException):
        return CheckResult(ok=False, detail=f"{url} timed out after {timeout:g} s")
    except httpx.HTTPError as error:
        return CheckResult(ok=False, detail=f"cannot reach {url}: {type(error).__name__}")
    if response.status_code != 200:
        return CheckResult(ok=False, detail=f"{url} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return CheckResult(ok=False, detail=f"{url} did not answer JSON")
    if not isinstance(body, dict) or body.get("status") != "ok":
        return CheckResult(ok=False, detail=f"{url} did not answer status ok")
    return CheckResult(ok=True, detail="ok")


async def check_database(engine: Engine, timeout: float = CHECK_TIMEOUT_SECONDS) -> CheckResult:
    """Check the database answers and is at the newest schema revision (never creates it)."""
    try:
        problem = await asyncio.wait_for(asyncio.to_thread(schema_problem, engine), timeout)
    except TimeoutError:
        return CheckResult(ok=False, detail=f"no answer within {timeout:g} s")
    if problem:
        logger.warning("health.database.failed reason=%s", problem)
        return CheckResult(ok=False, detail=problem[:300])
    return CheckResult(ok=True, detail=f"ok ({engine.dialect.name})")


ADVISORY_CHECKS = frozenset({"redis"})
"""Checks whose failure makes the status ``degraded`` but keeps HTTP 200: without Redis the
gateway still serves (rate limits fail open), so it must stay in its load balancer."""


async def check_redis(redis: RedisConnection) -> CheckResult:
    """Check Redis answers ``PING`` now (a success also ends the backoff after an outage)."""
    problem = await redis.ping()
    if problem:
        logger.warning("health.redis.failed target=%s problem=%s", redis.target, problem)
        return CheckResult(
            ok=False,
            detail=f"{redis.target} is not reachable: {problem}; rate limits are not enforced",
        )
    return CheckResult(ok=True, detail=f"ok ({redis.target})")


@router.get(
    "/healthz",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "At least one check failed"}},
)
async def healthz(
    request: Request, settings: SettingsDep, rasa: RasaDep, http: HttpDep, engine: EngineDep
) -> JSONResponse:
    """Run the checks concurrently; 200 when all pass, else 503 naming the failures.

    A failing advisory check (Redis) makes it ``degraded`` with 200.
    """
    rasa_result, action_result, db_result = await asyncio.gather(
        check_rasa(rasa),
        check_action_server(http, settings.action_server_url),
        check_database(engine),
    )
    checks = {"rasa": rasa_result, "action_server": action_result, "database": db_result}
    guard = guard_of(request.app)
    if guard is not None and guard.redis is not None:
        checks["redis"] = await check_redis(guard.redis)
    healthy = all(result.ok for result in checks.values())
    serving = all(result.ok for name, result in checks.items() if name not in ADVISORY_CHECKS)
    if not healthy:
        failing = ",".join(name for name, result in checks.items() if not result.ok)
        logger.warning("health.degraded failing=%s", failing)
    body = HealthResponse(status="ok" if healthy else "degraded", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if serving else 503)
