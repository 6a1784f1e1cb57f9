"""One logging set-up for every process, and conversation pseudonyms."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from core.logging import configure_logging, load_pseudonym_key, sender_ref


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Configure logging into a string; give the root logger back as it was afterwards."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    out = io.StringIO()
    try:
        yield out
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


def test_sender_ref_is_stable_short_and_does_not_contain_the_id() -> None:
    ref = sender_ref("alice@example.com")
    assert ref == sender_ref("alice@example.com")
    assert ref != sender_ref("bob@example.com")
    assert ref.startswith("c-") and len(ref) == 14
    assert "alice" not in ref
    assert sender_ref(None) == sender_ref("") == "c-none"


def test_configure_logging_routes_uvicorn_and_app_loggers_to_one_stream(
    stream: io.StringIO,
) -> None:
    configure_logging("INFO", stream=stream)
    logging.getLogger("bot.app").info("gateway.started test=1")
    logging.getLogger("uvicorn.error").info("Uvicorn running")
    logging.getLogger("bot.app").debug("not shown")
    lines = stream.getvalue().splitlines()
    assert any("INFO bot.app gateway.started test=1" in line for line in lines)
    assert any("uvicorn.error Uvicorn running" in line for line in lines)
    assert not any("not shown" in line for line in lines)


def test_http_client_request_lines_are_not_logged_at_info(stream: io.StringIO) -> None:
    configure_logging("DEBUG", stream=stream)
    logging.getLogger("httpx").info("HTTP Request: GET http://rasa/status?token=s3cr3t")
    logging.getLogger("httpx").warning("httpx.warning shown")
    assert "s3cr3t" not in stream.getvalue()
    assert "httpx.warning shown" in stream.getvalue()


def test_pseudonyms_are_keyed_per_deployment(tmp_path: Path, stream: io.StringIO) -> None:
    import core.logging as core_logging

    unkeyed = sender_ref("alice@example.com")
    first = load_pseudonym_key(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    again = load_pseudonym_key(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    assert first == again and len(first) == 64  # made once, then read back
    assert (tmp_path / "secrets" / "log-pseudonym.key").stat().st_mode & 0o077 == 0
    configured = Settings(_env_file=None, data_dir=tmp_path, log_pseudonym_key="k")  # type: ignore[call-arg]
    assert load_pseudonym_key(configured) == b"k"
    saved = core_logging._pseudonym_key
    try:
        configure_logging("INFO", stream=stream, pseudonym_key=first)
        keyed = sender_ref("alice@example.com")
    finally:
        core_logging._pseudonym_key = saved
    assert keyed != unkeyed and keyed.startswith("c-") and len(keyed) == 14
