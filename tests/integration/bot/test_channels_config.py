"""Connectors come from ``CONCIERGE_CHANNELS``; the fallback names the company's address."""

from __future__ import annotations

from tests.integration.bot.conftest import ClientFactory, FakeRasa


def test_only_configured_channels_are_served(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa, channels=["rest"])
    response = client.post("/api/chat", json={"message": "hi"})
    assert response.status_code == 404
    assert response.json()["error"] == "the web channel is not enabled on this gateway"
    assert client.get("/api/channels/web/health").status_code == 404
    assert client.get("/api/channels/rest/health").json() == {"status": "ok", "channel": "rest"}
    rest = client.post("/api/channels/rest/webhook", json={"sender": "c", "message": "hi"})
    assert rest.status_code == 200
    assert client.get("/api/channels/telegram/health").status_code == 404
    assert fake_rasa.requests[0]["body"]["metadata"] == {"channel": "rest"}


def test_generic_webhook_serves_configured_connectors(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa)
    assert client.post("/api/channels/nope/webhook", json={}).status_code == 404
    web = client.post("/api/channels/web/webhook", json={"sender_id": "u", "message": "hi"})
    assert web.status_code == 404
    assert fake_rasa.requests == []


def test_fallback_names_the_configured_support_address(
    make_client: ClientFactory, closed_url: str
) -> None:
    client = make_client(rasa_url=closed_url, support_email="help@example.org")
    response = client.post("/api/chat", json={"message": "hi"})
    assert response.status_code == 503
    [message] = response.json()["messages"]
    assert message["text"].endswith("or email help@example.org.")


def test_openapi_documents_the_core_message_types(make_client: ClientFactory) -> None:
    schema = make_client().get("/openapi.json").json()
    components = schema["components"]["schemas"]
    message = components["OutgoingMessage"]["properties"]
    assert set(message) == {"text", "buttons", "sources", "custom"}
    assert message["buttons"]["items"] == {"$ref": "#/components/schemas/Button"}
    assert message["sources"]["items"] == {"$ref": "#/components/schemas/SourceRef"}
    assert components["Button"]["required"] == ["title", "payload"]
    chat = components["ChatResponse"]["properties"]["messages"]["items"]
    assert chat == {"$ref": "#/components/schemas/OutgoingMessage"}
    rest = schema["paths"]["/api/channels/rest/webhook"]["post"]["responses"]["200"]
    items = rest["content"]["application/json"]["schema"]["items"]
    assert items == {"$ref": "#/components/schemas/RestMessagePublic"}
    assert "recipient_id" in components["RestMessagePublic"]["required"]
    assert "ButtonPublic" not in components and "MessagePublic" not in components
    assert make_client().get("/docs").status_code == 200
