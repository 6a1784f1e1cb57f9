"""The live assistant for end-to-end tests: real Rasa, real action server, real gateway."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.supervisor import Supervisor, SupervisorError, build_specs, ingest_content
from core.config import PROJECT_ROOT, Settings
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def trained_model() -> Path:
    """The model `make train` produced (CONCIERGE_MODEL when the Makefile runs the tests)."""
    default = PROJECT_ROOT / ".data" / "models" / "concierge.tar.gz"
    return Path(os.environ.get("CONCIERGE_MODEL", default))


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Start the three processes on free ports with a fresh data directory, once per session."""
    model = trained_model()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it)")
    data_dir = tmp_path_factory.mktemp("live-stack")
    rasa_port, action_port, gateway_port = _free_port(), _free_port(), _free_port()
    token = secrets.token_hex(32)
    settings = Settings(
        data_dir=data_dir,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{action_port}",
        gateway_host="127.0.0.1",
        gateway_port=gateway_port,
        rasa_auth_token=SecretStr(token),
    )
    upgrade(settings.sqlalchemy_url)  # the actions write leads and answers to the app database
    ingest_content(settings)
    supervisor = Supervisor(build_specs(settings, model, auth_token=token), data_dir / "logs")
    supervisor.start()
    try:
        supervisor.wait_until_ready(timeout=300)
    except SupervisorError as error:
        supervisor.stop()
        pytest.fail(f"the assistant did not start: {error}")
    try:
        yield LiveStack(
            gateway_url=f"http://127.0.0.1:{gateway_port}",
            rasa_url=settings.rasa_url,
            action_server_url=settings.action_server_url,
            data_dir=data_dir,
            settings=settings,
            rasa_auth_token=token,
        )
    finally:
        supervisor.stop()
