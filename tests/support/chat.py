"""A widget customer for tests: starts a conversation, then sends each message with its token.

Works with the gateway in-process (``fastapi.testclient.TestClient`` is an ``httpx.Client``)
and with a live gateway (an ``httpx.Client`` with a ``base_url``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class ChatSession:
    """One conversation over ``POST /api/chat``, as the widget holds it."""

    client: httpx.Client
    conversation_id: str | None = None
    token: str | None = None
    timeout: float | None = None
    """Seconds per request for a live gateway (the in-process client needs none)."""

    def headers(self) -> dict[str, str]:
        """Return the Authorization header of the current token (none before the first turn)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def post(self, message: Any, **extra: Any) -> httpx.Response:
        """Send one message; keep the conversation and the renewed token of the reply."""
        response = self.client.post(
            "/api/chat",
            json={"message": message, **extra},
            headers=self.headers(),
            **self._timeout(),
        )
        body = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        if response.status_code in (200, 503) and isinstance(body, dict) and "token" in body:
            self.conversation_id = body["conversation_id"]
            self.token = body["token"]
        return response

    def say(self, message: str, **extra: Any) -> list[dict[str, Any]]:
        """Send one message, require a 200 and return the replies."""
        response = self.post(message, **extra)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["conversation_id"] == self.conversation_id
        for reply in body["messages"]:
            assert set(reply) >= {"text", "buttons", "sources", "custom"}
        return list(body["messages"])

    def feedback(self, answer_id: str, rating: str, **extra: Any) -> httpx.Response:
        """Rate one answer of this conversation."""
        return self.client.post(
            "/api/feedback",
            json={"answer_id": answer_id, "rating": rating, **extra},
            headers=self.headers(),
            **self._timeout(),
        )

    def _timeout(self) -> dict[str, Any]:
        return {} if self.timeout is None else {"timeout": self.timeout}
