"""Every staff route of the app against every role and no session: allowed, 401/sign-in or 403.

The routes are read from the app itself, so a staff route added later is covered without
editing this file, and a route under a staff prefix that forgot its dependency fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.auth.staff import ROLES_ATTRIBUTE, get_current_user, is_api_path
from core.config import Settings
from core.storage import get_engine
from core.storage.accounts import ROLES
from core.storage.migrate import upgrade
from tests.support.staff import add_user, sign_in

STAFF_PREFIXES = ("/api/agent", "/api/admin", "/api/auth", "/console", "/admin")
"""Paths that are staff-only by their place: every route under them must check a session."""
PUBLIC_STAFF_PAGES = frozenset({"/signin"})
"""Staff pages a visitor must reach without a session."""


@dataclass(frozen=True)
class StaffRoute:
    """One method of one staff route and the roles it admits."""

    method: str
    path: str
    roles: frozenset[str]

    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", "x", self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _calls(dependant: Dependant) -> Iterator[object]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def staff_routes(app: FastAPI) -> list[StaffRoute]:
    """The app's routes that need a staff session, with the roles each admits."""
    found: list[StaffRoute] = []
    for context in iter_route_contexts(app.routes):  # the routes of included routers too
        if not isinstance(context.original_route, APIRoute):
            continue
        path = str(context.path)
        calls = list(_calls(context.dependant))
        if get_current_user not in calls:
            under_prefix = path.startswith(STAFF_PREFIXES)
            assert not under_prefix, f"{path} is a staff route without a session check"
            continue
        roles = frozenset(ROLES)
        for call in calls:
            roles &= getattr(call, ROLES_ATTRIBUTE, frozenset(ROLES))
        found.extend(StaffRoute(method, path, roles) for method in sorted(context.methods or ()))
    return found


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("authz")
    content = tmp_path_factory.mktemp("content")
    (content / "catalog.json").write_text('{"currency": "EUR", "products": []}')
    return Settings(_env_file=None, data_dir=data, content_dir=content)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def app(settings: Settings) -> FastAPI:
    upgrade(settings.sqlalchemy_url)
    engine = get_engine(settings.sqlalchemy_url)
    for role in ROLES:
        add_user(engine, f"{role}@example.com", role)
    return create_app(settings)


@pytest.fixture(scope="module")
def routes(app: FastAPI) -> list[StaffRoute]:
    found = staff_routes(app)
    assert {str(r) for r in found} >= {
        "GET /console",
        "POST /signout",
        "GET /api/auth/me",
        "GET /api/admin/users",
    }
    return found


def test_the_route_list_knows_the_roles(routes: list[StaffRoute]) -> None:
    by_name = {str(r): r.roles for r in routes}
    assert by_name["GET /api/admin/users"] == {"admin"}
    assert by_name["GET /console"] == set(ROLES)


def test_public_staff_pages_need_no_session(app: FastAPI) -> None:
    with TestClient(app) as client:
        for path in PUBLIC_STAFF_PAGES:
            assert client.get(path, follow_redirects=False).status_code == 200, path


@pytest.mark.parametrize("who", [*ROLES, None])
def test_every_staff_route_for_every_role(
    app: FastAPI, routes: list[StaffRoute], who: str | None
) -> None:
    outcomes: list[str] = []
    for route in routes:
        with TestClient(app) as client:
            headers: dict[str, str] = {}
            if who is not None:
                # A fresh session per route: some routes (sign-out) end the session.
                headers["X-CSRF-Token"] = sign_in(client, f"{who}@example.com")
            response = client.request(
                route.method, route.url(), headers=headers, follow_redirects=False
            )
        status = response.status_code
        if who is None:
            if is_api_path(route.path):
                ok = status == 401
            else:
                ok = status == 303 and response.headers["location"].startswith("/signin?next=")
            expected = "401 / sign-in"
        elif who in route.roles:
            sent_to_signin = response.headers.get("location", "").startswith("/signin?next=")
            ok = status not in (401, 403) and not sent_to_signin
            expected = "allowed"
        else:
            ok = status == 403
            expected = "403"
        if not ok:
            outcomes.append(f"{route} as {who or 'no session'}: {status}, expected {expected}")
    assert not outcomes, "\n".join(outcomes)
