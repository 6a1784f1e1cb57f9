"""``python -m bot.serve``: the project's logging, uvicorn told to leave it alone."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot import serve


def test_main_configures_logging_and_runs_uvicorn_without_its_log_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: dict[str, Any] = {}
    monkeypatch.setenv("CONCIERGE_LOG_LEVEL", "INFO")
    monkeypatch.setenv("CONCIERGE_LOG_PSEUDONYM_KEY", "k3y-for-this-test")
    real_configure = serve.configure_logging

    def configure(level: str, pseudonym_key: bytes | None = None) -> None:
        calls.setdefault("level", level)
        calls["pseudonym_key"] = pseudonym_key
        real_configure(level)

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(serve, "configure_logging", configure)
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **kwargs: calls.update(kwargs, app=app))
    assert serve.main(["--host", "127.0.0.1", "--port", "8123"]) == 0
    assert calls["level"] == "INFO"
    assert calls["pseudonym_key"] == b"k3y-for-this-test"
    assert calls["log_config"] is None
    assert (calls["host"], calls["port"], calls["access_log"]) == ("127.0.0.1", 8123, False)
    assert calls["app"].title == "Concierge gateway"
    assert logging.getLogger("httpx").level == logging.WARNING


def test_invalid_configuration_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONCIERGE_RASA_TIMEOUT_SECONDS", "-1")
    assert serve.main([]) == 2
    assert "invalid configuration" in capsys.readouterr().err
