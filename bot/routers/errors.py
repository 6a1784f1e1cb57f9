"""Errors the API answers with, worded for people, and the handlers that render them.

Every 4xx/5xx JSON body has an ``error`` sentence; validation errors add ``details``
(``[{"field", "message"}]``). Pages outside ``/api`` get a small HTML page instead.
"""

from __future__ import annotations

import html
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from channels.base import InvalidMessage

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""Largest JSON body the API reads (a 4000-character message fits many times over)."""


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status_code``."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def _is_json_content_type(value: str) -> bool:
    media_type = value.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_json_body(request: Request) -> Any:
    """Return the request's JSON body or raise :class:`InvalidMessage` saying what is wrong."""
    if not _is_json_content_type(request.headers.get("content-type", "")):
        raise InvalidMessage("the request body must be JSON (Content-Type: application/json)")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request body must be at most {MAX_BODY_BYTES} bytes")
    if not body.strip():
        raise InvalidMessage("the request body is empty; send a JSON object")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidMessage("the request body is not valid JSON") from None


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api") or path == "/healthz")


def error_page(status_code: int, message: str) -> HTMLResponse:
    """Return a small, self-contained HTML error page."""
    text = html.escape(message)
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{status_code}</title>"
        "<body style='font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto'>"
        f"<h1>{status_code}</h1><p>{text}</p><p><a href='/'>Back to the home page</a></p>"
    )
    return HTMLResponse(body, status_code=status_code)


async def _invalid_message(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidMessage)
    fields = ",".join(d.field for d in exc.details)
    logger.info("api.request.invalid path=%s fields=%s", request.url.path, fields)
    return JSONResponse(
        {"error": exc.message, "details": [d.to_dict() for d in exc.details]}, status_code=422
    )


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await _invalid_message(request, InvalidMessage.from_errors(list(exc.errors())))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if _wants_html(request):
        return error_page(exc.status_code, exc.message)
    return JSONResponse({"error": exc.message, "details": []}, status_code=exc.status_code)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail or "error")
    if exc.status_code == 404 and message == "Not Found":
        message = "not found"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed here"
    if _wants_html(request):
        return error_page(exc.status_code, message)
    return JSONResponse(
        {"error": message, "details": []},
        status_code=exc.status_code,
        headers=dict(exc.headers) if exc.headers else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer readable: JSON under ``/api``, a small page elsewhere."""
    app.add_exception_handler(InvalidMessage, _invalid_message)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
