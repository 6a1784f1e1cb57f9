"""The connectors' parse/render and the shared validation wording."""

from __future__ import annotations

from typing import Any

import pytest

from channels.base import (
    Channel,
    InvalidMessage,
    check_sender_id,
    check_text,
    describe_errors,
)
from channels.rest import RestChannel
from channels.web import WebChannel
from core.messages import Button, IncomingMessage, OutgoingMessage, SourceRef

REPLY = [
    OutgoingMessage(
        text="Hi",
        buttons=[Button("Yes", "/affirm")],
        sources=[SourceRef("FAQ", "faq.csv#faq-1")],
        custom={"answer_id": "a1"},
    )
]


def test_both_connectors_implement_the_protocol() -> None:
    assert isinstance(WebChannel(), Channel)
    assert isinstance(RestChannel(), Channel)
    assert WebChannel.from_credentials(None).name == "web"
    assert RestChannel.from_credentials({"max_message_length": 10}).max_message_length == 10


def test_web_parse() -> None:
    message = WebChannel().parse(
        {"sender_id": "abc-1", "message": "  hello ", "metadata": {"page": "/"}, "extra": 1}
    )
    assert message == IncomingMessage("abc-1", "hello", "web", {"page": "/"})


def test_web_render() -> None:
    assert WebChannel().render(REPLY, recipient_id="abc") == {
        "conversation_id": "abc",
        "messages": [
            {
                "text": "Hi",
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
                "sources": [{"title": "FAQ", "location": "faq.csv#faq-1"}],
                "custom": {"answer_id": "a1"},
            }
        ],
    }


def test_rest_parse_and_render() -> None:
    message = RestChannel().parse({"sender": "crm:7", "message": "hi"})
    assert message == IncomingMessage("crm:7", "hi", "rest", {})
    assert RestChannel().render(REPLY, recipient_id="crm:7") == [
        {
            "recipient_id": "crm:7",
            "text": "Hi",
            "buttons": [{"title": "Yes", "payload": "/affirm"}],
            "sources": [{"title": "FAQ", "location": "faq.csv#faq-1"}],
            "custom": {"answer_id": "a1"},
        }
    ]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"sender_id": "a", "message": ""}, "message must not be empty"),
        ({"sender_id": "a", "message": " "}, "message must not be empty"),
        (
            {"sender_id": "a", "message": "x" * 4001},
            "message must be at most 4000 characters (got 4001)",
        ),
        ({"sender_id": "a", "message": 1}, "message must be a string"),
        ({"sender_id": "a"}, "message is required"),
        ({"message": "x"}, "sender_id is required"),
        ({"sender_id": "a b", "message": "x"}, "sender_id must be 1 to 128 characters"),
        ({"sender_id": "a", "message": "x", "metadata": []}, "metadata must be a JSON object"),
        (
            {"sender_id": "a", "message": "x", "metadata": {"k": "v" * 5000}},
            "metadata must be at most 4096 characters",
        ),
        ("text", "the request body must be a JSON object"),
        (None, "the request body must be a JSON object"),
    ],
)
def test_web_parse_errors_are_readable(payload: Any, message: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        WebChannel().parse(payload)
    assert message in str(caught.value)
    assert caught.value.details


def test_configured_shorter_limit() -> None:
    with pytest.raises(InvalidMessage, match="at most 5 characters"):
        WebChannel(max_message_length=5).parse({"sender_id": "a", "message": "123456"})


def test_multiple_errors_are_all_reported() -> None:
    with pytest.raises(InvalidMessage) as caught:
        WebChannel().parse({"sender_id": 5, "message": ""})
    assert str(caught.value) == "sender_id must be a string; message must not be empty"
    assert [d.field for d in caught.value.details] == ["sender_id", "message"]


def test_check_helpers() -> None:
    assert check_text("  a ") == "a"
    assert check_sender_id("A-z_0.9:@x") == "A-z_0.9:@x"
    with pytest.raises(ValueError, match="sender_id"):
        check_sender_id("x" * 129)


def test_describe_errors_of_fastapi_shapes() -> None:
    details = describe_errors(
        [
            {"type": "json_invalid", "loc": ("body", 3), "msg": "JSON decode error"},
            {"type": "model_attributes_type", "loc": ("body",), "input": "a=b"},
            {"type": "model_attributes_type", "loc": ("body",), "input": [1]},
            {"type": "missing", "loc": ("body",), "input": None},
            {
                "type": "literal_error",
                "loc": ("body", "rating"),
                "ctx": {"expected": "'up' or 'down'"},
            },
            {"type": "string_too_long", "loc": ("body", "comment"), "ctx": {"max_length": 2000}},
            {"type": "int_parsing", "loc": ("body", "n"), "msg": "Input should be a valid integer"},
        ]
    )
    assert [d.message for d in details] == [
        "the request body is not valid JSON",
        "the request body must be JSON (Content-Type: application/json)",
        "the request body must be a JSON object",
        "the request body is empty; send a JSON object",
        "rating must be one of 'up' or 'down'",
        "comment must be at most 2000 characters",
        "n: input should be a valid integer",
    ]
    assert details[0].field == "body"
