"""``POST /api/channels/rest/webhook``: the generic REST connector for integrations."""

from __future__ import annotations

import pytest

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


# --- CONCIERGE_REST_API_KEY: integrations prove who they are -----------------------------------

REST_KEY = "rest-key-5b0f8e2a7c"
BODY = {"sender": "crm-42", "message": "return window?"}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "needs 'Authorization: Bearer <CONCIERGE_REST_API_KEY>'"),
        ({"Authorization": "Bearer wrong-key"}, "API key is not valid"),
        ({"Authorization": f"Bearer {REST_KEY}x"}, "API key is not valid"),
        ({"Authorization": REST_KEY}, "must be 'Bearer <token>'"),
    ],
)
def test_with_a_key_set_a_missing_or_wrong_key_is_401(
    make_client: ClientFactory, fake_rasa: FakeRasa, headers: dict[str, str], expected: str
) -> None:
    client = make_client(rasa=fake_rasa, rest_api_key=REST_KEY)
    response = client.post("/api/channels/rest/webhook", json=BODY, headers=headers)
    assert response.status_code == 401, response.text
    assert expected in response.json()["error"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert fake_rasa.requests == []


def test_with_the_right_key_the_integration_names_its_conversation(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa, rest_api_key=REST_KEY)
    headers = {"Authorization": f"Bearer {REST_KEY}"}
    response = client.post("/api/channels/rest/webhook", json=BODY, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()[0]["recipient_id"] == "crm-42"
    assert fake_rasa.requests[0]["body"]["sender"] == "crm-42"


def test_in_production_without_a_key_the_rest_channel_is_off(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(
        rasa=fake_rasa, environment="production", conversation_token_secret="p" * 40
    )
    response = client.post("/api/channels/rest/webhook", json=BODY)
    assert response.status_code == 403
    assert response.json()["error"] == (
        "the REST channel is disabled: set CONCIERGE_REST_API_KEY to enable it"
    )
    assert fake_rasa.requests == []
    # The widget's own API is unaffected.
    assert client.post("/api/chat", json={"message": "hi"}).status_code == 200


def test_in_production_with_a_key_it_works(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    client = make_client(
        rasa=fake_rasa,
        environment="production",
        conversation_token_secret="p" * 40,
        rest_api_key=REST_KEY,
    )
    headers = {"Authorization": f"Bearer {REST_KEY}"}
    assert client.post("/api/channels/rest/webhook", json=BODY, headers=headers).status_code == 200
