"""The Telegram connector without a network: parsing recorded updates, rendering, splitting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from channels.base import InvalidMessage
from channels.registry import build_channels, channel_credentials
from channels.telegram import (
    MAX_CALLBACK_BYTES,
    TelegramChannel,
    chat_id_of,
    split_text,
    utf16_len,
)
from core.config import Settings
from core.messages import Button, OutgoingMessage, SourceRef

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
TOKEN = "123456789:AAH-unit-test-token"


def update(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def channel() -> TelegramChannel:
    return TelegramChannel(TOKEN, api_url="http://127.0.0.1:9", public_url="https://shop.example/")


def test_a_text_message_becomes_the_chats_conversation(channel: TelegramChannel) -> None:
    incoming = channel.parse(update("message_text"))
    assert incoming.sender_id == "telegram:987654321"
    assert incoming.text == "What is the return window?"
    assert incoming.channel == "telegram"
    assert incoming.metadata == {
        "telegram": {"update_id": 734019201, "chat_type": "private", "language_code": "en"}
    }


def test_commands_and_presses(channel: TelegramChannel) -> None:
    assert channel.parse(update("command_start")).text == "/greet"
    assert channel.parse(update("command_human")).text == "/ask_human"
    helped = channel.parse(update("command_help"))
    assert helped.metadata["telegram"]["command"] == "help"
    pressed = channel.parse(update("callback_query"))
    assert pressed.text == "/ask_quote"
    assert pressed.metadata["telegram"]["callback_query_id"] == "4382bfdwdsb323b2d9"
    assert channel.trusted_payloads == {"/greet", "/ask_human"}


@pytest.mark.parametrize(
    "payload",
    [update("edited_message"), update("sticker"), {"message": {}}, [], {"update_id": "1"}],
)
def test_other_updates_are_refused(channel: TelegramChannel, payload: Any) -> None:
    with pytest.raises(InvalidMessage):
        channel.parse(payload)


def test_render_links_sources_and_keeps_short_payloads(channel: TelegramChannel) -> None:
    long_payload = '/inform{"email": "' + "a" * 60 + '@example.com"}'
    message = OutgoingMessage(
        text="Here you are.",
        buttons=[Button("Yes", "/affirm"), Button("Send it", long_payload)],
        sources=[SourceRef("Shipping", "docs/shipping.md#international-shipping")],
    )
    [call] = channel.render([message], recipient_id="telegram:-1001234")
    assert call["chat_id"] == -1001234
    assert call["text"] == (
        "Here you are.\n\nSources:\n"
        "• Shipping: https://shop.example/sources/docs/shipping.md#international-shipping"
    )
    rows = call["reply_markup"]["inline_keyboard"]
    assert rows == [
        [{"text": "Yes", "callback_data": "/affirm"}],
        [{"text": "Send it", "callback_data": "Send it"}],  # too long for callback_data
    ]
    assert all(len(r[0]["callback_data"].encode()) <= MAX_CALLBACK_BYTES for r in rows)


def test_render_skips_empty_messages_and_gives_button_only_ones_a_text(
    channel: TelegramChannel,
) -> None:
    calls = channel.render(
        [OutgoingMessage(custom={"kind": "x"}), OutgoingMessage(buttons=[Button("A", "/a")])],
        recipient_id="telegram:5",
    )
    assert [c["text"] for c in calls] == ["Please choose:"]


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_text("a\n\nb", limit=3) == ["a", "b"]
    assert split_text("ab cd\nef", limit=6) == ["ab cd", "ef"]
    assert split_text("abc def", limit=5) == ["abc", "def"]
    assert split_text("abcdefgh", limit=3) == ["abc", "def", "gh"]
    assert split_text("   ") == []


def test_split_text_counts_utf16_units_as_telegram_does() -> None:
    text = "😀" * 3000  # 2 units each: 6000 units
    parts = split_text(text)
    assert [utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == text


def test_recipient_ids_are_checked(channel: TelegramChannel) -> None:
    assert chat_id_of("telegram:42") == 42
    with pytest.raises(ValueError):
        chat_id_of("3f1c9a0e")


def test_the_registry_builds_it_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        channels=["web", "telegram"],
        telegram_token=SecretStr(TOKEN),
        telegram_api_url="http://127.0.0.1:9",
    )
    channels = build_channels(settings.channels, channel_credentials(settings))
    telegram = channels["telegram"]
    assert isinstance(telegram, TelegramChannel)
    assert telegram.bot_id == "123456789"
    assert telegram.bot.base_url == f"http://127.0.0.1:9/bot{TOKEN}"


def test_the_channel_needs_a_token(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CONCIERGE_TELEGRAM_TOKEN"):
        Settings(_env_file=None, data_dir=tmp_path, channels=["telegram"])  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="CONCIERGE_TELEGRAM_TOKEN"):
        TelegramChannel.from_credentials({})
