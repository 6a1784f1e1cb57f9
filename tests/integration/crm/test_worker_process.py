"""The ``concierge worker`` process: the supervisor's spec, its health check, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.supervisor import worker_spec
from core.config import PROJECT_ROOT, Settings
from core.storage.migrate import upgrade
from tests.support.stack import free_port


def test_the_supervisor_runs_the_worker_with_a_health_url(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        worker_health_url="http://127.0.0.1:8123/",
    )
    spec = worker_spec(settings)
    assert spec.name == "worker"
    assert list(spec.argv[1:]) == ["-m", "bot.cli", "worker"]
    assert spec.health_url == "http://127.0.0.1:8123/health"
    assert spec.env["CONCIERGE_DATA_DIR"] == str(tmp_path)


def test_the_worker_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'concierge.db'}"
    upgrade(url)
    health = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "CONCIERGE_DATA_DIR": str(tmp_path),
        "CONCIERGE_DATABASE_URL": url,
        "CONCIERGE_WORKER_HEALTH_URL": health,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], cwd=PROJECT_ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"{health}/health", timeout=1) as response:
                    status = response.status
                    body = response.read()
            except OSError:
                time.sleep(0.2)
        assert status == 200 and b'"ok"' in body
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_the_worker_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CONCIERGE_DATA_DIR": str(tmp_path),
        "CONCIERGE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "concierge db upgrade" in done.stderr
