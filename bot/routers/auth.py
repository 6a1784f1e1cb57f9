"""Staff sign-in and sign-out pages, the signed-in landing page, and the account APIs.

``GET /signin`` shows the form, ``POST /signin`` checks it (CSRF, throttling, password) and
sets the session cookie, ``POST /signout`` ends the session, ``GET /console`` is the page a
signed-in person lands on. ``GET /api/auth/me`` tells a page who is signed in (and the CSRF
token its requests must send); ``GET /api/admin/users`` lists the accounts (admins only).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from bot.auth.accounts import list_users, sign_in
from bot.auth.csrf import (
    CSRF_REFUSED,
    SIGNIN_CSRF_COOKIE,
    SIGNIN_CSRF_MAX_AGE,
    new_csrf_token,
    tokens_match,
)
from bot.auth.sessions import SESSION_COOKIE, revoke_session
from bot.auth.staff import AdminUser, CsrfChecked, CurrentUser, SignedInDep
from bot.deps import EngineDep, SettingsDep, StateDep
from bot.routers.errors import ApiError
from bot.routers.pages import PAGE_SECURITY_HEADERS, STATIC_DIR
from bot.templating import render
from core.config import Settings
from core.storage import session_scope

logger = logging.getLogger(__name__)

router = APIRouter(tags=["staff"])
pages = APIRouter(include_in_schema=False)

CONSOLE_PATH = "/console"
NO_STORE = {"Cache-Control": "no-store"}


def safe_next(value: str | None) -> str:
    """Return ``value`` when it is a path on this site, else the console (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return CONSOLE_PATH
    if value.startswith("/signin") or value.startswith("/signout"):
        return CONSOLE_PATH
    return value


def secure_cookies(settings: Settings) -> bool:
    """Whether cookies get the Secure flag (everywhere but development over plain HTTP)."""
    return settings.environment != "development"


def _page(html: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        html, status_code=status_code, headers={**PAGE_SECURITY_HEADERS, **NO_STORE}
    )


def _signin_page(
    request: Request,
    settings: Settings,
    *,
    message: str | None = None,
    email: str = "",
    next_path: str = CONSOLE_PATH,
    status_code: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(SIGNIN_CSRF_COOKIE) or new_csrf_token()
    response = _page(
        render(
            "signin.html",
            company_name=settings.company_name,
            user=None,
            message=message,
            email=email,
            next_path=safe_next(next_path),
            csrf_token=token,
        ),
        status_code,
    )
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        max_age=SIGNIN_CSRF_MAX_AGE,
        path="/signin",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )
    return response


@pages.get("/staff.css")
def staff_css() -> FileResponse:
    """Serve the staff pages' stylesheet."""
    return FileResponse(STATIC_DIR / "staff.css", media_type="text/css")


@pages.get("/signin")
def signin_form(
    request: Request, settings: SettingsDep, signed_in: SignedInDep, next: str | None = None
) -> Response:
    """Show the sign-in form (or go on to the console when already signed in)."""
    if signed_in is not None:
        return RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    return _signin_page(request, settings, next_path=next or CONSOLE_PATH)


@pages.post("/signin")
def signin_submit(
    request: Request,
    settings: SettingsDep,
    state: StateDep,
    engine: EngineDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = CONSOLE_PATH,
) -> Response:
    """Check the form; on success start a session and go on to ``next``."""
    if not tokens_match(csrf_token, request.cookies.get(SIGNIN_CSRF_COOKIE)):
        logger.warning("auth.csrf.refused path=/signin")
        return _signin_page(
            request, settings, message=CSRF_REFUSED, email=email, next_path=next, status_code=403
        )
    address = request.client.host if request.client else "unknown"
    try:
        with session_scope(engine) as session:
            result = sign_in(
                session,
                state.throttle,
                email=email,
                password=password,
                address=address,
                ttl_seconds=settings.session_ttl_seconds,
                now=datetime.now(UTC),
            )
    except SQLAlchemyError as error:
        logger.error("auth.signin.db_failed error=%s", type(error).__name__)
        raise ApiError(503, "sign-in is unavailable right now; please try again later") from error
    if result.problem == "throttled":
        minutes = max(1, -(-(result.retry_after or 60) // 60))
        response = _signin_page(
            request,
            settings,
            message=f"Too many failed sign-ins. Please try again in {minutes} minute"
            + ("s." if minutes != 1 else "."),
            email=email,
            next_path=next,
            status_code=429,
        )
        response.headers["Retry-After"] = str(result.retry_after or 60)
        return response
    if result.problem == "disabled":
        return _signin_page(
            request,
            settings,
            message="This account is disabled. Ask an administrator.",
            email=email,
            next_path=next,
            status_code=403,
        )
    if result.secret is None:
        return _signin_page(
            request,
            settings,
            message="Wrong email or password.",
            email=email,
            next_path=next,
            status_code=401,
        )
    signed_in = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    signed_in.set_cookie(
        SESSION_COOKIE,
        result.secret,
        max_age=settings.session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )
    signed_in.delete_cookie(SIGNIN_CSRF_COOKIE, path="/signin")
    return signed_in


@pages.post("/signout")
def signout(user: CsrfChecked, settings: SettingsDep, engine: EngineDep) -> Response:
    """End the session and go back to the sign-in page."""
    with session_scope(engine) as session:
        revoke_session(session, user.session_hash, now=datetime.now(UTC))
    logger.info("auth.signout.ok role=%s", user.role)
    response = RedirectResponse("/signin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings)
    )
    return response


@pages.get(CONSOLE_PATH)
def console(user: CurrentUser, settings: SettingsDep) -> HTMLResponse:
    """Show the signed-in landing page (the agent console grows from here)."""
    return _page(render("console.html", company_name=settings.company_name, user=user))


class MePublic(BaseModel):
    """Who is signed in, and the CSRF token their requests must send."""

    email: str
    role: str
    csrf_token: str
    expires_at: datetime


class StaffUserPublic(BaseModel):
    """A staff account as administrators see it (never the password hash)."""

    email: str
    role: str
    disabled: bool
    created_at: datetime


@router.get("/api/auth/me", response_model=MePublic)
def me(user: CurrentUser) -> MePublic:
    """Return the signed-in person (401 without a session)."""
    return MePublic(
        email=user.email, role=user.role, csrf_token=user.csrf_token, expires_at=user.expires_at
    )


@router.get("/api/admin/users", response_model=list[StaffUserPublic])
def admin_users(_admin: AdminUser, engine: EngineDep) -> list[StaffUserPublic]:
    """List every staff account (admins only)."""
    with session_scope(engine) as session:
        return [
            StaffUserPublic(
                email=u.email, role=u.role, disabled=u.disabled, created_at=u.created_at
            )
            for u in list_users(session)
        ]
