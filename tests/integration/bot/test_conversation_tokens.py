"""Only a conversation's token continues it: forged, expired, foreign and missing tokens are 401."""

from __future__ import annotations

import logging
import time
from datetime import datetime

import pytest

from bot.auth.conversation_tokens import ConversationTokens, conversation_tokens_for
from core.config import Settings
from tests.integration.bot.conftest import ClientFactory, FakeRasa, SettingsFactory
from tests.support.chat import ChatSession


@pytest.fixture
def settings(make_settings: SettingsFactory, fake_rasa: FakeRasa) -> Settings:
    return make_settings(rasa=fake_rasa)


def started(make_client: ClientFactory, fake_rasa: FakeRasa) -> ChatSession:
    chat = ChatSession(make_client(rasa=fake_rasa))
    chat.say("hello")
    return chat


def assert_refused(response: object, fake_rasa: FakeRasa, sent_before: int, words: str) -> None:
    status = getattr(response, "status_code", None)
    assert status == 401, getattr(response, "text", response)
    body = response.json()  # type: ignore[attr-defined]
    assert words in body["error"], body["error"]
    assert "token" not in body and "messages" not in body
    assert response.headers["www-authenticate"].startswith("Bearer")  # type: ignore[attr-defined]
    assert len(fake_rasa.requests) == sent_before, "a refused message must never reach Rasa"


def test_a_forged_token_is_401(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    chat = started(make_client, fake_rasa)
    assert chat.token is not None
    payload, signature = chat.token.split(".")
    chat.token = f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert_refused(chat.post("still there?"), fake_rasa, 1, "token is not valid")


def test_a_token_signed_with_another_key_is_401(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    chat = started(make_client, fake_rasa)
    assert chat.conversation_id is not None
    other = ConversationTokens(b"another-deployment-key!!", 3600)
    chat.token = other.issue(chat.conversation_id).token
    assert_refused(chat.post("still there?"), fake_rasa, 1, "token is not valid")


def test_an_expired_token_is_401_and_says_so(
    make_client: ClientFactory, fake_rasa: FakeRasa, settings: Settings
) -> None:
    chat = started(make_client, fake_rasa)
    assert chat.conversation_id is not None
    signer = conversation_tokens_for(settings)
    long_ago = time.time() - signer.ttl_seconds - 5
    chat.token = signer.issue(chat.conversation_id, now=long_ago).token
    assert_refused(chat.post("still there?"), fake_rasa, 1, "token has expired")
    assert "start a new conversation" in chat.post("hello?").json()["error"]


def test_another_conversations_token_never_reaches_this_one(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa)
    alice, mallory = ChatSession(client), ChatSession(client)
    alice.say("my address is 1 Main St")
    mallory.say("hi")
    assert alice.conversation_id != mallory.conversation_id
    response = mallory.post("show me the address", conversation_id=alice.conversation_id)
    assert_refused(response, fake_rasa, 2, "belongs to another conversation")
    response = mallory.post("show me the address", sender_id=alice.conversation_id)
    assert_refused(response, fake_rasa, 2, "belongs to another conversation")
    # Mallory's token only ever continues Mallory's conversation.
    mallory.say("ok")
    senders = [r["body"]["sender"] for r in fake_rasa.requests]
    assert senders == [alice.conversation_id, mallory.conversation_id, mallory.conversation_id]


@pytest.mark.parametrize("claim", ["conversation_id", "sender_id"])
def test_naming_a_conversation_without_its_token_is_401(
    make_client: ClientFactory, fake_rasa: FakeRasa, claim: str
) -> None:
    chat = started(make_client, fake_rasa)
    response = chat.client.post("/api/chat", json={"message": "hi", claim: chat.conversation_id})
    assert_refused(response, fake_rasa, 1, "needs its token")


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token abc", "Bearer a.b", "Bearer x"]
)
def test_a_malformed_authorization_header_is_401(
    make_client: ClientFactory, fake_rasa: FakeRasa, header: str
) -> None:
    client = make_client(rasa=fake_rasa)
    response = client.post("/api/chat", json={"message": "hi"}, headers={"Authorization": header})
    assert_refused(response, fake_rasa, 0, "")


def test_every_reply_renews_the_token(make_client: ClientFactory, fake_rasa: FakeRasa) -> None:
    chat = started(make_client, fake_rasa)
    first = chat.token
    response = chat.post("again")
    body = response.json()
    assert body["token"] and body["token_expires_at"]
    # Both the old and the renewed token continue the conversation until they expire.
    for token in (first, chat.token):
        chat.token = token
        assert chat.post("once more").json()["conversation_id"] == body["conversation_id"]


def test_the_token_lifetime_comes_from_the_settings(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    client = make_client(rasa=fake_rasa, conversation_token_ttl_seconds=120)
    chat = ChatSession(client)
    response = chat.post("hi")
    expires = response.json()["token_expires_at"]
    left = datetime.fromisoformat(expires).timestamp() - time.time()
    assert 0 < left <= 120


def test_feedback_needs_the_conversations_token(
    make_client: ClientFactory, fake_rasa: FakeRasa
) -> None:
    chat = started(make_client, fake_rasa)
    response = chat.client.post("/api/feedback", json={"answer_id": "a1", "rating": "up"})
    assert response.status_code == 401
    assert "conversation's token" in response.json()["error"]
    chat.token = "forged.token"
    assert chat.feedback("a1", "up").status_code == 401


def test_refusals_are_logged_without_the_token(
    make_client: ClientFactory, fake_rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    chat = started(make_client, fake_rasa)
    assert chat.token is not None and chat.conversation_id is not None
    real = chat.token
    chat.token = real[:-3] + "xyz"
    chat.post("hi")
    assert "auth.conversation_token.refused problem=forged" in caplog.text
    assert real[:20] not in caplog.text
    assert chat.conversation_id not in caplog.text
