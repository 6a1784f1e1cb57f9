"""FastAPI dependencies of the staff side: who is signed in, which role, a valid CSRF token.

``CurrentUser`` is any signed-in account; ``AdminUser``, ``SupportUser``, ``SalesUser`` and
``AgentUser`` (support or sales) also check the role; for another mix write
``Annotated[SignedIn, Depends(require_role("admin", "sales"))]``. Roles are not nested: list
every one a route admits. Without a session an API request gets 401 and a page a redirect
to ``/signin``; a signed-in person without the role gets 403. ``CsrfChecked`` refuses a
POST whose form field ``csrf_token`` (or ``X-CSRF-Token`` header) is not the session's token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from bot.auth.csrf import CSRF_FIELD, CSRF_HEADER, CSRF_REFUSED, tokens_match
from bot.auth.sessions import SESSION_COOKIE, SignedIn, find_session
from bot.deps import EngineDep
from core.storage import session_scope
from core.storage.accounts import ROLES

logger = logging.getLogger(__name__)

SIGNIN_PATH = "/signin"
ROLES_ATTRIBUTE = "allowed_roles"
"""Attribute of a role dependency listing the roles it admits (the authorisation tests read it)."""


class SignInRequired(Exception):
    """The request needs a signed-in staff member and has no valid session."""

    def __init__(self, path: str) -> None:
        super().__init__("sign in first")
        self.path = path


def is_api_path(path: str) -> bool:
    """Whether ``path`` is a JSON API route (answered with 401) rather than a page."""
    return path.startswith("/api/")


def signin_url(next_path: str) -> str:
    """Return the sign-in page that leads back to ``next_path``."""
    return f"{SIGNIN_PATH}?next={quote(next_path, safe='/')}"


def get_signed_in(request: Request, engine: EngineDep) -> SignedIn | None:
    """Return the person the session cookie signs in, or None (read once per request)."""
    if hasattr(request.state, "signed_in"):
        cached: SignedIn | None = request.state.signed_in
        return cached
    secret = request.cookies.get(SESSION_COOKIE)
    found: SignedIn | None = None
    if secret:
        try:
            with session_scope(engine) as session:
                found = find_session(session, secret, now=datetime.now(UTC))
        except SQLAlchemyError as error:
            logger.error("auth.session.db_failed error=%s", type(error).__name__)
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "sign-in is unavailable right now"
            ) from error
    request.state.signed_in = found
    return found


SignedInDep = Annotated[SignedIn | None, Depends(get_signed_in)]
"""The signed-in person, or None: for pages that also serve visitors (the sign-in page)."""


def get_current_user(request: Request, signed_in: SignedInDep) -> SignedIn:
    """Return the signed-in person or refuse the request (401, or a redirect for pages)."""
    if signed_in is None:
        raise SignInRequired(request.url.path)
    return signed_in


CurrentUser = Annotated[SignedIn, Depends(get_current_user)]
"""Any signed-in staff member."""


def require_role(*roles: str) -> Callable[[SignedIn], SignedIn]:
    """Return a dependency admitting signed-in people with one of ``roles`` (else 403)."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"roles must be some of {ROLES}, not {sorted(unknown) or 'none'}")
    allowed = frozenset(roles)

    def check_role(user: CurrentUser) -> SignedIn:
        if user.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs the {' or '.join(sorted(allowed))} role (you are {user.role})",
            )
        return user

    check_role.__name__ = f"require_{'_or_'.join(sorted(allowed))}"
    setattr(check_role, ROLES_ATTRIBUTE, allowed)
    return check_role


async def check_csrf(request: Request, user: CurrentUser) -> SignedIn:
    """Refuse (403) a state-changing request without the session's CSRF token."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(given, user.csrf_token):
        logger.warning("auth.csrf.refused path=%s", request.url.path)
        raise HTTPException(status.HTTP_403_FORBIDDEN, CSRF_REFUSED)
    return user


CsrfChecked = Annotated[SignedIn, Depends(check_csrf)]
"""A signed-in person whose request carries the session's CSRF token."""

AdminUser = Annotated[SignedIn, Depends(require_role("admin"))]
"""A signed-in administrator."""
SupportUser = Annotated[SignedIn, Depends(require_role("support"))]
"""A signed-in support agent."""
SalesUser = Annotated[SignedIn, Depends(require_role("sales"))]
"""A signed-in sales rep."""
AgentUser = Annotated[SignedIn, Depends(require_role("support", "sales"))]
"""A signed-in support agent or sales rep (the console's people)."""


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if is_api_path(exc.path):
        return JSONResponse(
            {"error": "sign in first: this needs a staff session", "details": []},
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    return RedirectResponse(signin_url(exc.path), status_code=status.HTTP_303_SEE_OTHER)


def install_auth_handlers(app: FastAPI) -> None:
    """Answer :class:`SignInRequired`: 401 under ``/api``, a redirect to sign-in elsewhere."""
    app.add_exception_handler(SignInRequired, _sign_in_required)
