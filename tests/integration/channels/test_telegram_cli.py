"""``concierge telegram poll`` and ``set-webhook`` against the local Bot API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.cli import main
from bot.services.telegram_polling import poll
from tests.integration.bot.conftest import FakeRasa, SettingsFactory
from tests.support.telegram_api import StandInBotApi, running_bot_api

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"


def update(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def bot_api() -> Iterator[StandInBotApi]:
    with running_bot_api() as api:
        yield api


def test_polling_answers_waiting_updates_once(
    make_settings: SettingsFactory, fake_rasa: FakeRasa, bot_api: StandInBotApi
) -> None:
    settings = make_settings(
        rasa=fake_rasa,
        telegram_token=SecretStr(bot_api.token),
        telegram_api_url=bot_api.url,
    )
    bot_api.webhook = {"url": "https://old.example/hook"}
    bot_api.push(update("message_text"))
    bot_api.push(update("command_help"))

    assert asyncio.run(poll(settings, once=True, transport=fake_rasa.transport)) == 2

    assert bot_api.webhook == {}  # getUpdates needs the webhook removed
    assert [r["body"]["message"] for r in fake_rasa.requests] == ["What is the return window?"]
    assert len(bot_api.wait_for("sendMessage", 2)) == 2
    # Telegram hands the same updates out again until an offset confirms them: not re-answered
    assert asyncio.run(poll(settings, once=True, transport=fake_rasa.transport)) == 0
    assert len(bot_api.of("sendMessage")) == 2


def test_set_webhook_passes_the_secret(
    bot_api: StandInBotApi,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONCIERGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CONCIERGE_TELEGRAM_TOKEN", bot_api.token)
    monkeypatch.setenv("CONCIERGE_TELEGRAM_API_URL", bot_api.url)
    url = "https://bot.example/channels/telegram/webhook"

    assert main(["telegram", "set-webhook", url]) == 1
    assert "CONCIERGE_TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err
    assert bot_api.webhook == {}

    monkeypatch.setenv("CONCIERGE_TELEGRAM_WEBHOOK_SECRET", "hook-secret-31c9")
    assert main(["telegram", "set-webhook", url]) == 0
    assert bot_api.webhook == {"url": url, "secret_token": "hook-secret-31c9"}

    monkeypatch.setenv("CONCIERGE_TELEGRAM_TOKEN", "999:not-this-bot")
    assert main(["telegram", "set-webhook", url]) == 1
    err = capsys.readouterr().err
    assert "error" in err
    assert "not-this-bot" not in err  # the token is never printed
