"""The process supervisor: readiness, a dying process, and stopping without leftovers."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.supervisor import ProcessSpec, Supervisor, SupervisorError

SERVE = (
    "import http.server, sys; "
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler)"
    ".serve_forever()"
)
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_waits_for_health_then_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    specs = [
        ProcessSpec("web", [sys.executable, "-c", SERVE, str(port)], f"http://127.0.0.1:{port}/"),
        ProcessSpec("stubborn", [sys.executable, "-c", STUBBORN], f"http://127.0.0.1:{port}/"),
    ]
    supervisor = Supervisor(specs, tmp_path)
    with supervisor:
        supervisor.wait_until_ready(timeout=30)
        pids = [r.process.pid for r in supervisor._running]
    assert not any(alive(pid) for pid in pids), "a process outlived stop()"
    assert (tmp_path / "web.log").exists()


def test_a_dying_process_is_named_with_its_log(tmp_path: Path) -> None:
    crash = "import sys; print('cannot open the model file'); sys.exit(3)"
    spec = ProcessSpec("rasa", [sys.executable, "-c", crash], "http://127.0.0.1:9/")
    with Supervisor([spec], tmp_path) as supervisor, pytest.raises(SupervisorError) as error:
        supervisor.wait_until_ready(timeout=30)
    assert "the rasa exited with code 3" in str(error.value)
    assert "cannot open the model file" in str(error.value)


def test_not_ready_in_time_says_which(tmp_path: Path) -> None:
    spec = ProcessSpec(
        "gateway", [sys.executable, "-c", "import time; time.sleep(60)"], "http://127.0.0.1:9/"
    )
    with (
        Supervisor([spec], tmp_path) as supervisor,
        pytest.raises(SupervisorError, match="gateway"),
    ):
        supervisor.wait_until_ready(timeout=1)


def test_a_second_interrupt_while_stopping_still_kills_everything(tmp_path: Path) -> None:
    spec = ProcessSpec("stubborn", [sys.executable, "-c", STUBBORN], "http://127.0.0.1:9/")
    supervisor = Supervisor([spec], tmp_path)
    supervisor.start()
    time.sleep(0.5)
    pid = supervisor._running[0].process.pid

    def interrupt_soon() -> None:
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_soon).start()
    supervisor.stop(grace_seconds=30)
    assert not alive(pid)


def _specs(tmp_path: Path, **overrides: object) -> list[ProcessSpec]:
    from bot.supervisor import build_specs
    from core.config import Settings

    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    rasa = tmp_path / "rasa"
    rasa.write_text("")
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", **overrides)  # type: ignore[call-arg]
    return build_specs(settings, model, rasa_executable=rasa)


def _token_of(argv: Sequence[str]) -> str:
    [token] = [a.removeprefix("--auth-token=") for a in argv if a.startswith("--auth-token=")]
    return token


def test_rasa_gets_a_generated_token_and_the_gateway_the_same(tmp_path: Path) -> None:
    action, rasa, gateway = _specs(tmp_path)
    token = _token_of(rasa.argv)
    assert len(token) >= 32
    assert not token.startswith("-"), "a leading dash would be read as another option"
    assert gateway.env["CONCIERGE_RASA_AUTH_TOKEN"] == token
    assert rasa.health_url.endswith(f"/status?token={token}")
    assert "CONCIERGE_RASA_AUTH_TOKEN" not in action.env
    assert token not in repr(rasa) and token not in repr(gateway)
    again = _specs(tmp_path)[1].argv
    assert _token_of(again) != token, "one token per run"


def test_configured_token_is_used(tmp_path: Path) -> None:
    _, rasa, gateway = _specs(tmp_path, rasa_auth_token="configured-token-123")
    assert _token_of(rasa.argv) == "configured-token-123"
    assert gateway.env["CONCIERGE_RASA_AUTH_TOKEN"] == "configured-token-123"


def test_gateway_starts_through_bot_serve(tmp_path: Path) -> None:
    gateway = _specs(tmp_path)[2]
    assert list(gateway.argv[1:3]) == ["-m", "bot.serve"]
    assert gateway.health_url.endswith("/api/channels/web/health")
    assert _specs(tmp_path, channels="rest")[2].health_url.endswith("/api/channels/rest/health")
