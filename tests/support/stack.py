"""A running assistant for end-to-end tests: the real Rasa server, action server and gateway.

:func:`running_stack` migrates a fresh data directory, indexes the content, starts the three
processes on free ports with a Rasa token, waits until all answer, and stops them after.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.supervisor import Supervisor, SupervisorError, build_specs, ingest_content
from core.config import Settings
from core.storage.migrate import upgrade


@dataclass(frozen=True)
class LiveStack:
    """Addresses and folders of a running assistant."""

    gateway_url: str
    rasa_url: str
    action_server_url: str
    data_dir: Path
    settings: Settings
    rasa_auth_token: str
    """Token of Rasa's HTTP API (``?token=`` on ``/status``, ``/conversations/...``)."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_stack(model: Path, data_dir: Path, **settings: Any) -> Iterator[LiveStack]:
    """Start the assistant with ``model`` in ``data_dir``; ``settings`` override fields."""
    rasa_port, action_port, gateway_port = free_port(), free_port(), free_port()
    token = secrets.token_hex(32)
    config = Settings(
        data_dir=data_dir,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{action_port}",
        gateway_host="127.0.0.1",
        gateway_port=gateway_port,
        rasa_auth_token=SecretStr(token),
        **settings,
    )
    upgrade(config.sqlalchemy_url)  # the actions write answers and requests to the app database
    ingest_content(config)
    supervisor = Supervisor(build_specs(config, model, auth_token=token), data_dir / "logs")
    supervisor.start()
    try:
        supervisor.wait_until_ready(timeout=300)
    except SupervisorError as error:
        supervisor.stop()
        pytest.fail(f"the assistant did not start: {error}")
    try:
        yield LiveStack(
            gateway_url=f"http://127.0.0.1:{gateway_port}",
            rasa_url=config.rasa_url,
            action_server_url=config.action_server_url,
            data_dir=data_dir,
            settings=config,
            rasa_auth_token=token,
        )
    finally:
        supervisor.stop()
