"""Signed conversation tokens: whoever holds one may continue that conversation, nobody else.

A token is ``<payload>.<signature>``, both base64url without padding. The payload is JSON
``{"v": 1, "c": conversation_id, "exp": unix_seconds}``; the signature is HMAC-SHA256 over
the payload's text with the deployment's key and a purpose prefix, so a token signed for
something else with the same key never passes as a conversation token. Tokens are renewed
by issuing a fresh one with every reply; an expired one is refused even with a good
signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.auth.keys import load_or_create_key
from channels.base import SENDER_ID_PATTERN
from core.config import Settings

TOKEN_VERSION = 1
PURPOSE = b"concierge.conversation-token.v1\x00"
"""Prefix of every signed text: a signature for another purpose never verifies here."""
MAX_TOKEN_LENGTH = 1024
"""Longest token accepted (a real one is about 130 characters)."""

TokenProblem = Literal["malformed", "forged", "expired"]


class TokenRefused(Exception):
    """A conversation token that cannot be used; ``message`` is a sentence for the client."""

    MESSAGES: dict[TokenProblem, str] = {
        "malformed": "the conversation token is not valid",
        "forged": "the conversation token is not valid",
        "expired": "the conversation token has expired",
    }

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(self.MESSAGES[problem])
        self.problem: TokenProblem = problem
        self.message = self.MESSAGES[problem]


@dataclass(frozen=True)
class IssuedToken:
    """A token and when it stops being accepted."""

    conversation_id: str
    token: str
    expires_at: datetime


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


class ConversationTokens:
    """Issues and checks the tokens of one deployment (one key, one lifetime)."""

    def __init__(self, key: bytes, ttl_seconds: int) -> None:
        """Sign with ``key``; tokens stay valid ``ttl_seconds`` after they are issued."""
        if len(key) < 16:
            raise ValueError("the conversation token key must be at least 16 bytes")
        if ttl_seconds <= 0:
            raise ValueError("the conversation token lifetime must be positive")
        self._key = key
        self.ttl_seconds = ttl_seconds

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, PURPOSE + payload.encode("ascii"), hashlib.sha256).digest()
        return _b64encode(digest)

    def issue(self, conversation_id: str, *, now: float | None = None) -> IssuedToken:
        """Return a fresh token for ``conversation_id``, valid for the configured lifetime."""
        if not SENDER_ID_PATTERN.fullmatch(conversation_id):
            raise ValueError("not a valid conversation id")
        expires = int(now if now is not None else time.time()) + self.ttl_seconds
        body = json.dumps(
            {"v": TOKEN_VERSION, "c": conversation_id, "exp": expires}, separators=(",", ":")
        )
        payload = _b64encode(body.encode())
        return IssuedToken(
            conversation_id=conversation_id,
            token=f"{payload}.{self._sign(payload)}",
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def verify(self, token: str, *, now: float | None = None) -> str:
        """Return the conversation id ``token`` was issued for, or raise :class:`TokenRefused`."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise TokenRefused("malformed")
        payload, signature = token.split(".")
        try:
            payload.encode("ascii")
        except UnicodeEncodeError:
            raise TokenRefused("malformed") from None
        if not hmac.compare_digest(self._sign(payload), signature):
            raise TokenRefused("forged")
        try:
            claims = json.loads(_b64decode(payload))
        except (binascii.Error, ValueError):
            raise TokenRefused("malformed") from None
        if not isinstance(claims, dict) or claims.get("v") != TOKEN_VERSION:
            raise TokenRefused("malformed")
        conversation_id, expires = claims.get("c"), claims.get("exp")
        if not isinstance(conversation_id, str) or not SENDER_ID_PATTERN.fullmatch(conversation_id):
            raise TokenRefused("malformed")
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise TokenRefused("malformed")
        if (now if now is not None else time.time()) >= expires:
            raise TokenRefused("expired")
        return conversation_id


CONVERSATION_KEY_NAME = "conversation-token"
"""File name (``data_dir/secrets/<name>.key``) of the key generated in development."""


def conversation_tokens_for(settings: Settings) -> ConversationTokens:
    """Return the token signer of the deployment ``settings`` describe."""
    key = load_or_create_key(
        settings.conversation_token_secret, settings.data_dir, CONVERSATION_KEY_NAME
    )
    return ConversationTokens(key, settings.conversation_token_ttl_seconds)
