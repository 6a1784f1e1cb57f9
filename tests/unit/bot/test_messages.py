"""Normalising Rasa's REST webhook entries into gateway messages (the merge rule)."""

from __future__ import annotations

from typing import Any

from bot.messages import FALLBACK_TEXT, fallback_message, normalize, parse_buttons, parse_sources
from core.messages import Button, OutgoingMessage, SourceRef


def dicts(entries: list[Any]) -> list[dict[str, Any]]:
    return [m.to_dict() for m in normalize(entries)]


def test_text_with_buttons_then_custom_is_one_message() -> None:
    entries = [
        {"recipient_id": "u", "text": "Answer", "buttons": [{"title": "More", "payload": "/more"}]},
        {
            "recipient_id": "u",
            "custom": {
                "kind": "kb_answer",
                "answer_id": "a1",
                "confidence": 0.8,
                "sources": [{"title": "Returns", "location": "returns.md#window"}],
            },
        },
    ]
    assert dicts(entries) == [
        {
            "text": "Answer",
            "buttons": [{"title": "More", "payload": "/more"}],
            "sources": [{"title": "Returns", "location": "returns.md#window"}],
            "custom": {"kind": "kb_answer", "answer_id": "a1", "confidence": 0.8},
        }
    ]


def test_plain_texts_stay_separate_and_custom_joins_the_last() -> None:
    entries = [
        {"recipient_id": "u", "text": "Hi!"},
        {"recipient_id": "u", "text": "Paragraph one."},
        {"recipient_id": "u", "text": "Paragraph two."},
        {"recipient_id": "u", "custom": {"answer_id": "a2"}},
    ]
    result = normalize(entries)
    assert [m.text for m in result] == ["Hi!", "Paragraph one.", "Paragraph two."]
    assert result[-1].custom == {"answer_id": "a2"}
    assert result[0].custom == {}


def test_custom_with_nothing_before_is_its_own_message() -> None:
    assert dicts([{"recipient_id": "u", "custom": {"kind": "handoff"}}]) == [
        {"text": "", "buttons": [], "sources": [], "custom": {"kind": "handoff"}}
    ]


def test_second_custom_does_not_join_a_message_that_has_one() -> None:
    entries = [
        {"text": "A"},
        {"custom": {"answer_id": "1"}},
        {"custom": {"answer_id": "2"}},
    ]
    result = normalize(entries)
    assert [(m.text, m.custom) for m in result] == [
        ("A", {"answer_id": "1"}),
        ("", {"answer_id": "2"}),
    ]


def test_image_after_text_and_custom_joins_the_message() -> None:
    entries = [
        {"text": "Look:"},
        {"custom": {"kind": "product"}},
        {"image": "https://example.com/a.png"},
        {"image": "https://example.com/b.png"},
    ]
    result = normalize(entries)
    assert result[0].custom == {"kind": "product", "image": "https://example.com/a.png"}
    assert result[1] == OutgoingMessage(text="", custom={"image": "https://example.com/b.png"})


def test_attachment_and_non_dict_custom() -> None:
    result = normalize([{"text": "File"}, {"attachment": "https://x/y.pdf"}, {"custom": [1, 2]}])
    assert result[0].custom == {"attachment": "https://x/y.pdf", "data": [1, 2]}


def test_invalid_buttons_and_sources_are_dropped() -> None:
    entries = [
        {
            "text": "T",
            "buttons": [
                {"title": "ok", "payload": "/ok"},
                {"title": "no payload"},
                {"payload": "/no_title"},
                "junk",
                {"title": "", "payload": "/empty"},
                {"title": 3, "payload": "/num"},
            ],
        },
        {
            "custom": {
                "sources": [
                    {"title": "Doc", "location": "a.md#b"},
                    {"location": "c.md"},
                    {"title": "No location"},
                    {"title": "Bad", "location": 5},
                    None,
                ]
            }
        },
    ]
    [message] = normalize(entries)
    assert message.buttons == [Button("ok", "/ok"), Button("no payload", "no payload")]
    assert message.sources == [SourceRef("Doc", "a.md#b"), SourceRef("c.md", "c.md")]
    assert message.custom == {}


def test_sources_that_are_not_a_list_are_ignored() -> None:
    assert parse_sources({"title": "x"}) == []
    assert parse_buttons("nope") == []


def test_garbage_entries_are_skipped() -> None:
    entries: list[Any] = [None, 3, "text", {"recipient_id": "u"}, {"text": "real"}]
    assert [m.text for m in normalize(entries)] == ["real"]


def test_empty_text_is_kept_as_a_message() -> None:
    assert normalize([{"text": "", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]) == [
        OutgoingMessage(text="", buttons=[Button("Yes", "/affirm")])
    ]


def test_buttons_only_entry_is_its_own_message() -> None:
    result = normalize([{"text": "Q?"}, {"buttons": [{"title": "Yes", "payload": "/y"}]}])
    assert len(result) == 2
    assert result[1].buttons == [Button("Yes", "/y")]


def test_fallback_message() -> None:
    assert fallback_message().to_dict() == {
        "text": FALLBACK_TEXT,
        "buttons": [],
        "sources": [],
        "custom": {},
    }
    assert "support@kestrelcoffee.eu" in FALLBACK_TEXT


def test_fallback_text_names_the_company_support_address() -> None:
    from bot.messages import fallback_text
    from core.config import CompanySettings

    company = CompanySettings(
        name="Acme", support_email="help@acme.test", sales_email="s@acme.test"
    )
    assert fallback_text(company).endswith("or email help@acme.test.")
    assert fallback_text() == FALLBACK_TEXT
    assert fallback_message("custom").text == "custom"
