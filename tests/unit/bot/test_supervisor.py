"""The process supervisor: readiness, a dying process, and stopping without leftovers."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
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
