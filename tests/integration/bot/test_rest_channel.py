"""``POST /api/channels/rest/webhook``: the generic REST connector for integrations."""

from __future__ import annotations

from tests.integration.bot.conftest import ClientFactory, FakeRasa


def test_rest_webhook_returns_rasa_style_list(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa)
    response = client.post(
        "/api/channels/rest/webhook", json={"sender": "crm-42", "message": "return window?"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "recipient_id": "crm-42",
            "text": "You can return unused equipment within 30 days.",
            "buttons": [{"title": "Talk to a person", "payload": "/ask_human"}],
            "sources": [{"title": "Returns", "location": "docs/returns.md#return-window"}],
            "custom": {"kind": "kb_answer", "answer_id": "a1", "confidence": 0.81},
        }
    ]
    sent = fake_rasa.requests[0]["body"]
    assert sent == {
        "sender": "crm-42",
        "message": "return window?",
        "metadata": {"channel": "rest"},
    }


def test_rest_webhook_validates(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    client = make_client(rasa=fake_rasa)
    response = client.post("/api/channels/rest/webhook", json={"sender": "x", "message": " "})
    assert response.status_code == 422
    assert response.json()["error"] == "message must not be empty"
    response = client.post("/api/channels/rest/webhook", json={"message": "hi"})
    assert response.json()["error"] == "sender is required"
    assert fake_rasa.requests == []


def test_rest_webhook_rasa_down_is_503_with_fallback_list(
    make_client: ClientFactory, closed_url: str
) -> None:
    client = make_client(rasa_url=closed_url)
    response = client.post("/api/channels/rest/webhook", json={"sender": "x", "message": "hi"})
    assert response.status_code == 503
    [message] = response.json()
    assert message["recipient_id"] == "x"
    assert message["text"].startswith("Sorry, I'm having trouble right now.")
