"""The gateway's security groundwork: CORS on public routes only, Rasa's token, typed payloads."""

from __future__ import annotations

import logging

import pytest

from core.logging import sender_ref
from tests.integration.bot.conftest import ClientFactory, FakeRasa
from tests.support.chat import ChatSession

ALLOWED = "https://shop.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type, authorization",
}


# --- CORS: the widget's public routes only ---------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/chat", "/api/feedback", "/api/channels/web/health", "/widget.js"]
)
def test_preflight_from_an_allowed_origin(make_client: ClientFactory, path: str) -> None:
    client = make_client(cors_allow_origins=[ALLOWED, "https://b.example"])
    response = client.options(path, headers={"Origin": ALLOWED, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]


def test_preflight_from_a_disallowed_origin(make_client: ClientFactory) -> None:
    client = make_client(cors_allow_origins=[ALLOWED])
    response = client.options("/api/chat", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_simple_request_from_an_allowed_origin(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa, cors_allow_origins=[ALLOWED])
    body = {"message": "hi"}
    response = client.post("/api/chat", json=body, headers={"Origin": ALLOWED})
    assert response.headers["access-control-allow-origin"] == ALLOWED
    other = client.post("/api/chat", json=body, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    "path",
    [
        "/api/channels/rest/webhook",
        "/api/agent/conversations",
        "/api/admin/users",
        "/api/chatter",
        "/healthz",
        "/",
    ],
)
def test_non_public_paths_get_no_cors(make_client: ClientFactory, path: str) -> None:
    client = make_client()  # the default allows every origin, on the public routes
    preflight = client.options(path, headers={"Origin": ALLOWED, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get(path, headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_origins_from_the_environment(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCIERGE_CORS_ALLOW_ORIGINS", "https://a.example,https://b.example")
    client = make_client()
    for origin, allowed in (("https://b.example", True), (ALLOWED, False)):
        response = client.options("/api/chat", headers={"Origin": origin, **PREFLIGHT})
        assert ("access-control-allow-origin" in response.headers) is allowed, origin


# --- Rasa's HTTP API token -----------------------------------------------------------------


def test_token_on_status_not_on_the_webhook(
    make_client: ClientFactory, fake_rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    client = make_client(rasa=fake_rasa, action_server_url=fake_rasa.url)
    assert client.get("/healthz").status_code == 200
    assert client.post("/api/chat", json={"message": "hi"}).status_code == 200
    tokens = {c["path"]: c["token"] for c in fake_rasa.calls}
    assert tokens["/status"] == fake_rasa.auth_token
    assert tokens["/webhooks/rest/webhook"] is None
    assert "gateway.started" in caplog.text
    assert fake_rasa.auth_token and fake_rasa.auth_token not in caplog.text


def test_wrong_token_shows_in_health(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    client = make_client(rasa=fake_rasa, rasa_auth_token="wrong-token")
    rasa = client.get("/healthz").json()["checks"]["rasa"]
    assert rasa == {"ok": False, "detail": "Rasa answered HTTP 401 on /status"}


# --- typed payloads ------------------------------------------------------------------------


def test_typed_inform_payload_never_reaches_rasa_as_a_payload(
    make_client: ClientFactory, fake_rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    client = make_client(rasa=fake_rasa)
    typed = '/inform{"email":"x@y.z"}'
    response = client.post("/api/chat", json={"message": typed})
    assert response.status_code == 200
    conversation_id = response.json()["conversation_id"]
    [request] = fake_rasa.requests
    assert request["body"]["message"] == 'inform{"email":"x@y.z"}'
    assert not request["body"]["message"].startswith("/")
    ref = sender_ref(conversation_id)
    assert f"chat.payload.neutralised channel=web sender={ref}" in caplog.text
    assert "x@y.z" not in caplog.text and conversation_id not in caplog.text


def test_button_payload_just_offered_reaches_rasa(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    chat = ChatSession(make_client(rasa=fake_rasa))
    [offered] = chat.say("returns?")[0]["buttons"]
    assert offered["payload"] == "/ask_human"
    chat.say("/ask_human")
    chat.say("/buy")
    assert [r["body"]["message"] for r in fake_rasa.requests] == ["returns?", "/ask_human", "buy"]


def test_rest_channel_payloads_are_guarded_too(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa)
    client.post("/api/channels/rest/webhook", json={"sender": "crm-1", "message": "/restart"})
    assert fake_rasa.requests[0]["body"]["message"] == "restart"
