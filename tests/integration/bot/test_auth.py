"""Staff sign-in with the real app and database: sessions, throttling, CSRF, disabled accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from bot.auth.accounts import disable_user
from bot.auth.csrf import SIGNIN_CSRF_COOKIE
from bot.auth.sessions import SESSION_COOKIE
from core.config import Settings
from core.storage import LoginAttempt, StaffSession, StaffUser, get_engine, session_scope
from tests.integration.bot.conftest import ClientFactory, SettingsFactory
from tests.support.staff import PASSWORD, add_user, form_token, post_signin, sign_in

EMAIL = "agent@example.com"


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = get_engine(settings.sqlalchemy_url)
    add_user(engine, EMAIL, "support")
    return engine


@pytest.fixture
def client(make_client: ClientFactory, engine: Engine) -> TestClient:
    return make_client()


def set_cookie_header(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    [cookie] = [h for h in headers if h.startswith(f"{name}=")]
    return str(cookie)


# --- signing in and out ------------------------------------------------------------------------


def test_sign_in_sets_a_session_cookie_and_opens_the_console(client: TestClient) -> None:
    response = post_signin(client, " Agent@Example.com ")
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    cookie = set_cookie_header(response, SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie, "development runs on plain http"
    console = client.get("/console")
    assert console.status_code == 200
    assert EMAIL in console.text and "support" in console.text
    assert console.headers["cache-control"] == "no-store"
    me = client.get("/api/auth/me").json()
    assert (me["email"], me["role"]) == (EMAIL, "support")


def test_the_session_cookie_is_secure_in_production(
    make_client: ClientFactory, make_settings: SettingsFactory
) -> None:
    settings = make_settings(
        environment="production", rasa_auth_token="r" * 20, conversation_token_secret="c" * 40
    )
    add_user(get_engine(settings.sqlalchemy_url), EMAIL, "admin")
    client = make_client(
        environment="production", rasa_auth_token="r" * 20, conversation_token_secret="c" * 40
    )
    client.base_url = "https://testserver"  # type: ignore[assignment]  # Secure cookies need https
    form = client.get("/signin")
    assert "secure" in set_cookie_header(form, SIGNIN_CSRF_COOKIE).lower()
    response = post_signin(client, EMAIL)
    assert response.status_code == 303
    assert "secure" in set_cookie_header(response, SESSION_COOKIE).lower()


def test_the_password_is_stored_as_an_argon2id_hash(client: TestClient, engine: Engine) -> None:
    with session_scope(engine) as session:
        stored = session.scalars(select(StaffUser.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("email", "password"),
    [(EMAIL, "wrong password!!"), ("nobody@example.com", PASSWORD), (EMAIL, "")],
)
def test_a_wrong_email_or_password_is_refused_alike(
    client: TestClient, email: str, password: str
) -> None:
    response = post_signin(client, email, password)
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert SESSION_COOKIE not in response.cookies
    assert client.get("/api/auth/me").status_code == 401


def test_only_local_paths_are_followed_after_sign_in(client: TestClient) -> None:
    assert post_signin(client, EMAIL, next="/console?x=1").headers["location"] == "/console?x=1"
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/signout"):
        client.cookies.clear()  # signed out again
        response = post_signin(client, EMAIL, next=target)
        assert response.headers["location"] == "/console", target


def test_signing_out_revokes_the_session(client: TestClient, engine: Engine) -> None:
    csrf = sign_in(client, EMAIL)
    old_cookie = client.cookies.get(SESSION_COOKIE)
    assert old_cookie
    response = client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    with session_scope(engine) as session:
        assert session.scalars(select(StaffSession.revoked_at)).one() is not None
    # The old cookie, replayed, no longer signs anyone in.
    client.cookies.set(SESSION_COOKIE, old_cookie)
    assert client.get("/api/auth/me").status_code == 401
    redirect = client.get("/console", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/signin?next=/console"


def test_an_expired_session_signs_nobody_in(client: TestClient, engine: Engine) -> None:
    sign_in(client, EMAIL)
    with session_scope(engine) as session:
        session.execute(
            update(StaffSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_sessions_last_the_configured_time(make_client: ClientFactory, engine: Engine) -> None:
    client = make_client(session_ttl_seconds=600)
    response = post_signin(client, EMAIL)
    assert "max-age=600" in set_cookie_header(response, SESSION_COOKIE).lower()
    expires = datetime.fromisoformat(client.get("/api/auth/me").json()["expires_at"])
    left = (expires - datetime.now(UTC)).total_seconds()
    assert 0 < left <= 600


def test_a_forged_session_cookie_signs_nobody_in(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "x" * 43)
    assert client.get("/api/auth/me").status_code == 401


# --- disabled accounts -------------------------------------------------------------------------


def test_a_disabled_account_cannot_sign_in_and_loses_its_sessions(
    client: TestClient, engine: Engine, make_client: ClientFactory
) -> None:
    sign_in(client, EMAIL)
    with session_scope(engine) as session:
        assert disable_user(session, EMAIL, now=datetime.now(UTC)) == 1
    assert client.get("/api/auth/me").status_code == 401
    response = post_signin(make_client(), EMAIL)
    assert response.status_code == 403
    assert "This account is disabled" in response.text
    assert SESSION_COOKIE not in response.cookies


# --- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_the_sign_in_form_needs_its_csrf_token(client: TestClient, token: str | None) -> None:
    client.get("/signin")
    data = {"email": EMAIL, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/signin", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert SESSION_COOKIE not in response.cookies


def test_a_sign_in_posted_without_the_form_cookie_is_403(client: TestClient) -> None:
    token = form_token(client.get("/signin").text)
    client.cookies.delete(SIGNIN_CSRF_COOKIE, path="/signin")
    data = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    assert client.post("/signin", data=data, follow_redirects=False).status_code == 403


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_sign_out_needs_the_sessions_csrf_token(client: TestClient, token: str | None) -> None:
    sign_in(client, EMAIL)
    data = {} if token is None else {"csrf_token": token}
    response = client.post("/signout", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert client.get("/api/auth/me").status_code == 200, "the session is still open"


def test_another_sessions_csrf_token_does_not_pass(
    client: TestClient, make_client: ClientFactory
) -> None:
    other = make_client()
    other_token = sign_in(other, EMAIL)
    sign_in(client, EMAIL)
    response = client.post("/signout", data={"csrf_token": other_token}, follow_redirects=False)
    assert response.status_code == 403
    headers = {"X-CSRF-Token": client.get("/api/auth/me").json()["csrf_token"]}
    assert client.post("/signout", headers=headers, follow_redirects=False).status_code == 303


# --- throttling ------------------------------------------------------------------------------


def fail(client: TestClient, email: str = EMAIL, times: int = 1) -> None:
    for _ in range(times):
        assert post_signin(client, email, "wrong password!!").status_code == 401


def test_an_account_is_throttled_after_repeated_failures_even_with_the_right_password(
    make_client: ClientFactory, engine: Engine
) -> None:
    client = make_client(login_max_failures_per_account=3, login_throttle_window_seconds=600)
    fail(client, times=3)
    response = post_signin(client, EMAIL)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert 0 < int(response.headers["retry-after"]) <= 600
    assert SESSION_COOKIE not in response.cookies
    # Another account from the same address is not affected by this account's limit.
    add_user(engine, "rep@example.com", "sales")
    assert post_signin(client, "rep@example.com").status_code == 303


def test_throttling_survives_a_restart(make_client: ClientFactory, engine: Engine) -> None:
    limits = {"login_max_failures_per_account": 2, "login_throttle_window_seconds": 600}
    fail(make_client(**limits), times=2)
    restarted = make_client(**limits)  # a new app (and process state) on the same database
    assert post_signin(restarted, EMAIL).status_code == 429


def test_a_client_address_is_throttled_across_accounts(
    make_client: ClientFactory, engine: Engine
) -> None:
    client = make_client(login_max_failures_per_address=3, login_max_failures_per_account=50)
    for name in ("a", "b", "c"):
        fail(client, email=f"{name}@example.com")
    assert post_signin(client, EMAIL).status_code == 429


def test_a_success_starts_the_accounts_count_again(
    make_client: ClientFactory, engine: Engine
) -> None:
    client = make_client(login_max_failures_per_account=3)
    fail(client, times=2)
    assert post_signin(client, EMAIL).status_code == 303
    client.cookies.clear()  # a new browser: the earlier failures no longer count
    fail(client, times=2)
    assert post_signin(client, EMAIL).status_code == 303


def test_failures_older_than_the_window_do_not_count(
    make_client: ClientFactory, engine: Engine
) -> None:
    client = make_client(login_max_failures_per_account=2, login_throttle_window_seconds=60)
    fail(client, times=2)
    with session_scope(engine) as session:
        session.execute(
            update(LoginAttempt).values(created_at=datetime.now(UTC) - timedelta(seconds=61))
        )
    assert post_signin(client, EMAIL).status_code == 303


def test_attempts_store_no_email_or_address_in_clear(client: TestClient, engine: Engine) -> None:
    fail(client, email="Someone.Typed@Example.com")
    with session_scope(engine) as session:
        [attempt] = session.scalars(select(LoginAttempt)).all()
        stored = f"{attempt.account_key} {attempt.address_key}".lower()
    assert "someone" not in stored and "testclient" not in stored
    assert len(attempt.account_key) == 64
