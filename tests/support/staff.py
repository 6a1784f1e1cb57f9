"""Staff accounts and sign-in for tests: create accounts, sign in through the real form."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import Engine

from bot.auth.accounts import create_user
from core.storage import session_scope

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple"


def add_user(engine: Engine, email: str, role: str, password: str = PASSWORD) -> None:
    """Create a staff account directly in the database."""
    with session_scope(engine) as session:
        create_user(session, email, password, role)


def form_token(html: str) -> str:
    """Return the CSRF token a page's form carries."""
    found = CSRF_INPUT.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def post_signin(
    client: httpx.Client, email: str, password: str = PASSWORD, **fields: str
) -> httpx.Response:
    """Open the sign-in form and submit it (without following the redirect)."""
    page = client.get("/signin", follow_redirects=False)
    assert page.status_code == 200, "already signed in (clear the cookies first)"
    data = {"email": email, "password": password, "csrf_token": form_token(page.text), **fields}
    return client.post("/signin", data=data, follow_redirects=False)


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in and return the session's CSRF token."""
    response = post_signin(client, email, password)
    assert response.status_code == 303, response.text
    me = client.get("/api/auth/me")
    assert me.status_code == 200, me.text
    token: str = me.json()["csrf_token"]
    return token
