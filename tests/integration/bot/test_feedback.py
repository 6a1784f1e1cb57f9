"""``POST /api/feedback`` against a real SQLite database."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.auth.conversation_tokens import conversation_tokens_for
from core.config import Settings
from core.storage import Feedback, KBAnswer, get_engine, session_scope
from tests.integration.bot.conftest import ClientFactory, SettingsFactory


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
def client(make_client: ClientFactory, settings: Settings) -> TestClient:
    """The app, sending the token of conversation ``user-1`` (as the widget would)."""
    client = make_client()
    token = conversation_tokens_for(settings).issue("user-1").token
    client.headers["Authorization"] = f"Bearer {token}"
    return client


@pytest.fixture
def answer_id(client: TestClient, settings: Settings) -> str:
    """An answer the action server recorded for sender ``user-1`` (the app created the tables)."""
    with session_scope(get_engine(settings.sqlalchemy_url)) as session:
        answer = KBAnswer(
            sender_id="user-1",
            channel="web",
            question="What is the return window?",
            answer="You can return unused equipment within 30 days.",
            confidence=0.81,
            chunk_ids=["c1", "c2"],
            sources=[{"title": "Returns", "location": "docs/returns.md#return-window"}],
        )
        session.add(answer)
        session.flush()
        return answer.id


def _feedback_rows(settings: Settings) -> list[Feedback]:
    with session_scope(get_engine(settings.sqlalchemy_url)) as session:
        return list(session.scalars(select(Feedback)))


def test_feedback_is_stored_with_question_answer_and_chunks(
    client: TestClient, settings: Settings, answer_id: str
) -> None:
    body = {"answer_id": answer_id, "rating": "down", "comment": "Too vague"}
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 201, response.text
    feedback_id = response.json()["id"]
    [row] = _feedback_rows(settings)
    assert row.id == feedback_id
    assert (row.answer_id, row.sender_id, row.rating, row.comment) == (
        answer_id,
        "user-1",
        "down",
        "Too vague",
    )
    assert row.question == "What is the return window?"
    assert row.answer == "You can return unused equipment within 30 days."
    assert row.chunk_ids == ["c1", "c2"]


def test_comment_is_optional(client: TestClient, settings: Settings, answer_id: str) -> None:
    body = {"answer_id": answer_id, "rating": "up"}
    assert client.post("/api/feedback", json=body).status_code == 201
    assert _feedback_rows(settings)[0].comment is None


def test_unknown_answer_is_404(client: TestClient, settings: Settings, answer_id: str) -> None:
    body = {"answer_id": "does-not-exist", "rating": "up"}
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 404
    assert "no answer with this answer_id" in response.json()["error"]
    assert _feedback_rows(settings) == []


def test_answer_of_another_conversation_is_404(
    client: TestClient, settings: Settings, answer_id: str
) -> None:
    other = conversation_tokens_for(settings).issue("someone-else").token
    body = {"answer_id": answer_id, "rating": "up"}
    headers = {"Authorization": f"Bearer {other}"}
    assert client.post("/api/feedback", json=body, headers=headers).status_code == 404
    # A body naming the answer's conversation changes nothing: the token decides.
    body = {"sender_id": "user-1", **body}
    assert client.post("/api/feedback", json=body, headers=headers).status_code == 404
    assert _feedback_rows(settings) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"answer_id": "x", "rating": "meh"}, "rating must be one of"),
        ({"answer_id": "x"}, "rating is required"),
        ({"rating": "up"}, "answer_id is required"),
        ({"answer_id": "", "rating": "up"}, "answer_id must not be empty"),
        ({"answer_id": 5, "rating": "up"}, "answer_id must be a string"),
        (
            {"answer_id": "x", "rating": "up", "comment": "c" * 2001},
            "comment must be at most 2000 characters",
        ),
        ([], "request body must be a JSON object"),
    ],
)
def test_bad_feedback_is_422(client: TestClient, body: Any, expected: str) -> None:
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 422, response.text
    assert expected in response.json()["error"]


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b"{nope", "application/json", "not valid JSON"),
        (b'{"answer_id": "x"}', "text/plain", "must be JSON"),
    ],
)
def test_non_json_feedback_is_422(
    client: TestClient, content: bytes, content_type: str, expected: str
) -> None:
    response = client.post("/api/feedback", content=content, headers={"content-type": content_type})
    assert response.status_code == 422
    assert expected in response.json()["error"]
