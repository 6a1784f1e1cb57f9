"""Conversation tokens: issued, verified, refused when forged, tampered with or expired."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.auth.conversation_tokens import (
    ConversationTokens,
    TokenRefused,
    conversation_tokens_for,
)
from bot.auth.keys import load_or_create_key
from core.config import Settings

KEY = b"k" * 32
NOW = 1_800_000_000.0


def tokens(key: bytes = KEY, ttl: int = 600) -> ConversationTokens:
    return ConversationTokens(key, ttl)


def refused(signer: ConversationTokens, token: str, *, now: float = NOW) -> str:
    with pytest.raises(TokenRefused) as caught:
        signer.verify(token, now=now)
    return caught.value.problem


def test_a_token_verifies_to_its_conversation_until_it_expires() -> None:
    issued = tokens().issue("conv-1", now=NOW)
    assert issued.conversation_id == "conv-1"
    assert issued.expires_at.timestamp() == NOW + 600
    assert tokens().verify(issued.token, now=NOW + 599) == "conv-1"
    assert refused(tokens(), issued.token, now=NOW + 600) == "expired"


def test_another_key_refuses_the_token_as_forged() -> None:
    token = tokens(b"a" * 32).issue("conv-1", now=NOW).token
    assert refused(tokens(b"b" * 32), token) == "forged"


def _tamper(token: str, **changes: object) -> str:
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + signature


def test_changing_the_conversation_or_the_expiry_breaks_the_signature() -> None:
    token = tokens().issue("conv-1", now=NOW).token
    assert refused(tokens(), _tamper(token, c="conv-2")) == "forged"
    assert refused(tokens(), _tamper(token, exp=int(NOW) + 10**6)) == "forged"


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "only-one-part.", ".sig", "é.x", "x" * 2000 + ".y"]
)
def test_garbage_is_refused(token: str) -> None:
    assert refused(tokens(), token) in {"malformed", "forged"}


def test_a_signed_payload_that_is_not_a_token_is_malformed() -> None:
    signer = tokens()
    payload = base64.urlsafe_b64encode(b'{"v":2,"c":"x","exp":1}').rstrip(b"=").decode()
    forged_by_key_holder = f"{payload}.{signer._sign(payload)}"
    assert refused(signer, forged_by_key_holder) == "malformed"


def test_issue_refuses_an_invalid_conversation_id() -> None:
    with pytest.raises(ValueError, match="conversation id"):
        tokens().issue("has space")


def test_a_short_key_or_no_lifetime_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        ConversationTokens(b"short", 60)
    with pytest.raises(ValueError, match="positive"):
        ConversationTokens(KEY, 0)


def test_the_development_key_is_made_once_per_data_directory(tmp_path: Path) -> None:
    first = load_or_create_key(None, tmp_path, "conversation-token")
    assert load_or_create_key(None, tmp_path, "conversation-token") == first
    path = tmp_path / "secrets" / "conversation-token.key"
    assert path.read_bytes() == first and len(first) == 64
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(None, tmp_path / "other", "conversation-token") != first
    assert load_or_create_key(SecretStr("configured"), tmp_path, "x") == b"configured"


def test_the_configured_secret_signs_for_every_replica(tmp_path: Path) -> None:
    def settings(data_dir: Path) -> Settings:
        return Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=data_dir,
            conversation_token_secret="s" * 32,
            conversation_token_ttl_seconds=120,
        )

    one = conversation_tokens_for(settings(tmp_path / "a"))
    two = conversation_tokens_for(settings(tmp_path / "b"))
    assert two.verify(one.issue("conv-9").token) == "conv-9"
    assert one.ttl_seconds == 120
