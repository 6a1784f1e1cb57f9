"""``POST /api/chat`` with the real app: validation, Rasa failures, the happy path, tokens."""

from __future__ import annotations

import json
import re
import socket
import time
from typing import Any

import httpx
import pytest

from bot.messages import FALLBACK_TEXT
from core.config import Settings
from tests.conftest import NetworkBlocked
from tests.integration.bot.conftest import ClientFactory, FakeRasa
from tests.support.chat import ChatSession

VALID = {"message": "What is the return window?"}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


# --- bad input: 422 with a sentence a person understands --------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": ""}, "message must not be empty"),
        ({"message": "   \n\t "}, "message must not be empty"),
        ({"message": "x" * 4001}, "message must be at most 4000 characters"),
        ({}, "message is required"),
        ({"metadata": {}}, "message is required"),
        ({"message": 42}, "message must be a string"),
        ({"message": ["hi"]}, "message must be a string"),
        ({"message": None}, "message must be a string"),
        ({"message": "hi", "metadata": "x"}, "metadata must be a JSON object"),
        (["sender_id", "message"], "request body must be a JSON object"),
        ("hello", "request body must be a JSON object"),
        (None, "request body must be a JSON object"),
    ],
)
def test_bad_json_bodies_are_422_with_readable_errors(
    make_client: ClientFactory, fake_rasa: FakeRasa, body: Any, expected: str
) -> None:
    client = make_client(rasa=fake_rasa)
    headers = {"content-type": "application/json"}
    response = client.post("/api/chat", content=json.dumps(body), headers=headers)
    assert response.status_code == 422, response.text
    data = response.json()
    assert expected in data["error"]
    assert isinstance(data["details"], list) and data["details"]
    assert all({"field", "message"} <= set(d) for d in data["details"])
    assert fake_rasa.requests == [], "invalid input must never reach Rasa"


def test_exactly_4000_characters_is_accepted(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa)
    response = client.post("/api/chat", json={"message": "x" * 4000})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b"{not json", "application/json", "the request body is not valid JSON"),
        (b'{"message": "hi"', "application/json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "application/json", "not valid JSON"),
        (b"", "application/json", "the request body is empty"),
        (b"message=hi", "application/x-www-form-urlencoded", "must be JSON"),
        (b'{"message": "hi"}', "text/plain", "must be JSON"),
        (b'{"message": "hi"}', None, "must be JSON"),
    ],
)
def test_non_json_bodies_are_422(
    make_client: ClientFactory,
    fake_rasa: FakeRasa,
    content: bytes,
    content_type: str | None,
    expected: str,
) -> None:
    client = make_client(rasa=fake_rasa)
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/api/chat", content=content, headers=headers)
    assert response.status_code == 422, response.text
    assert expected in response.json()["error"]
    assert fake_rasa.requests == []


def test_oversized_body_is_413(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    client = make_client(rasa=fake_rasa)
    body = {"message": "hi", "padding": "x" * 70_000}
    response = client.post("/api/chat", json=body)
    assert response.status_code == 413
    assert "at most" in response.json()["error"]


def test_wrong_method_is_readable(make_client: ClientFactory) -> None:
    response = make_client().get("/api/chat")
    assert response.status_code == 405
    assert response.json()["error"] == "method GET is not allowed here"


# --- Rasa down, failing, slow: 503 with the fallback message, quickly ---------------------------


def _assert_fallback(response: Any) -> None:
    """A 503 shows the fallback and still hands out the conversation and its token."""
    assert response.status_code == 503, response.text
    data = response.json()
    assert data["error"]
    assert UUID_RE.match(data["conversation_id"])
    assert data["token"] and data["token_expires_at"]
    assert data["messages"] == [{"text": FALLBACK_TEXT, "buttons": [], "sources": [], "custom": {}}]


def test_rasa_down_is_503_with_fallback(make_client: ClientFactory, closed_url: str) -> None:
    client = make_client(rasa_url=closed_url)
    started = time.monotonic()
    response = client.post("/api/chat", json=VALID)
    assert time.monotonic() - started < 3
    _assert_fallback(response)


@pytest.mark.parametrize("mode", ["error", "garbage", "object"])
def test_rasa_failing_is_503_with_fallback(
    make_client: ClientFactory, fake_rasa: FakeRasa, mode: str
) -> None:
    fake_rasa.mode = mode
    response = make_client(rasa=fake_rasa).post("/api/chat", json=VALID)
    _assert_fallback(response)


def test_rasa_slow_is_503_within_the_timeout(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    fake_rasa.mode = "hang"
    client = make_client(rasa=fake_rasa, rasa_timeout_seconds=1.5)
    started = time.monotonic()
    response = client.post("/api/chat", json=VALID)
    elapsed = time.monotonic() - started
    _assert_fallback(response)
    assert 1.4 <= elapsed < 5, elapsed


def test_rasa_slow_with_default_timeout_answers_within_10_seconds(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    """The production budget: the default timeout keeps the whole turn under 10 s."""
    fake_rasa.mode = "hang"
    default = Settings.model_fields["rasa_timeout_seconds"].default
    assert default < 10
    client = make_client(rasa=fake_rasa, rasa_timeout_seconds=default)
    started = time.monotonic()
    response = client.post("/api/chat", json=VALID)
    assert time.monotonic() - started < 10
    _assert_fallback(response)


def test_rasa_accepting_but_silent_socket_is_503(make_client: ClientFactory) -> None:
    """A listener that never even accepts (a stuck Rasa) is a timeout, not a hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        client = make_client(rasa_url=f"http://127.0.0.1:{port}", rasa_timeout_seconds=1.0)
        started = time.monotonic()
        response = client.post("/api/chat", json=VALID)
        assert time.monotonic() - started < 4
    _assert_fallback(response)


# --- the happy path --------------------------------------------------------------------------


def test_happy_path_merges_rasa_entries(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    client = make_client(rasa=fake_rasa)
    response = client.post("/api/chat", json={**VALID, "metadata": {"page": "/returns"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"conversation_id", "token", "token_expires_at", "messages"}
    conversation_id = body["conversation_id"]
    assert UUID_RE.match(conversation_id), conversation_id
    assert body["messages"] == [
        {
            "text": "You can return unused equipment within 30 days.",
            "buttons": [{"title": "Talk to a person", "payload": "/ask_human"}],
            "sources": [{"title": "Returns", "location": "docs/returns.md#return-window"}],
            "custom": {"kind": "kb_answer", "answer_id": "a1", "confidence": 0.81},
        }
    ]
    assert fake_rasa.requests == [
        {
            "path": "/webhooks/rest/webhook",
            "body": {
                "sender": conversation_id,
                "message": "What is the return window?",
                "metadata": {"page": "/returns", "channel": "web"},
            },
        }
    ]


def test_the_token_continues_the_same_conversation(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    chat = ChatSession(make_client(rasa=fake_rasa))
    chat.say("hello")
    first = chat.conversation_id
    chat.say("and the return window?")
    chat.say("thanks", conversation_id=first)  # naming the token's own conversation is fine
    assert chat.conversation_id == first
    assert [r["body"]["sender"] for r in fake_rasa.requests] == [first, first, first]


def test_each_message_without_a_token_starts_its_own_conversation(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa)
    one = client.post("/api/chat", json=VALID).json()["conversation_id"]
    two = client.post("/api/chat", json=VALID).json()["conversation_id"]
    assert one != two
    assert [r["body"]["sender"] for r in fake_rasa.requests] == [one, two]


def test_message_is_stripped_and_channel_cannot_be_spoofed(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa)
    body = {"message": "  hi  ", "metadata": {"channel": "telegram"}}
    assert client.post("/api/chat", json=body).status_code == 200
    sent = fake_rasa.requests[0]["body"]
    assert sent["message"] == "hi"
    assert sent["metadata"]["channel"] == "web"


def test_empty_rasa_reply_is_an_empty_list(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = []
    response = make_client(rasa=fake_rasa).post("/api/chat", json=VALID)
    assert response.status_code == 200
    assert response.json()["messages"] == []


def test_images_and_standalone_custom_payloads(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    fake_rasa.reply = [
        {"recipient_id": "user-1", "custom": {"kind": "handoff"}},
        {"recipient_id": "user-1", "text": "Here it is:"},
        {"recipient_id": "user-1", "image": "https://example.com/km-100.png"},
    ]
    response = make_client(rasa=fake_rasa).post("/api/chat", json=VALID)
    assert response.json()["messages"] == [
        {"text": "", "buttons": [], "sources": [], "custom": {"kind": "handoff"}},
        {
            "text": "Here it is:",
            "buttons": [],
            "sources": [],
            "custom": {"image": "https://example.com/km-100.png"},
        },
    ]


def test_cors_preflight_for_api(make_client: ClientFactory) -> None:
    response = make_client().options(
        "/api/chat",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]


def test_cors_only_on_api(make_client: ClientFactory) -> None:
    response = make_client().get("/", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in response.headers


def test_network_guard_blocks_remote_hosts() -> None:
    with pytest.raises(NetworkBlocked), socket.socket() as sock:
        sock.connect(("203.0.113.7", 80))
    with pytest.raises(httpx.ConnectError, match=r"tried to resolve example\.com"):
        httpx.get("http://example.com", timeout=1)
