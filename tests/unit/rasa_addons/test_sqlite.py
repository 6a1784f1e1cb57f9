"""endpoints.yml's SQLite tracker store and event broker, created by Rasa itself.

Rasa falls back to an in-memory tracker store (with a warning only) when a custom class
cannot be imported, so the class names are checked, then the journals and what was written.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
SYNCHRONOUS_NORMAL, SYNCHRONOUS_FULL = 1, 2

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not RASA_PYTHON.exists():
        pytest.fail("Rasa's environment is missing: run `make install`")
    folder = tmp_path_factory.mktemp("rasa-sqlite")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", "tests.support.rasa_sqlite_check", str(folder)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_rasa_uses_the_projects_classes(report: dict[str, Any]) -> None:
    assert report["tracker_store"] == "SQLiteTrackerStore"
    assert report["broker"] == "SQLiteEventBroker"


def test_both_files_are_in_wal_mode(report: dict[str, Any]) -> None:
    assert report["tracker_journal"] == "wal"
    assert report["events_journal"] == "wal"


def test_the_tracker_syncs_every_commit_and_the_broker_does_not_wait(
    report: dict[str, Any],
) -> None:
    assert report["tracker_synchronous"] == SYNCHRONOUS_FULL
    assert report["broker_synchronous"] == SYNCHRONOUS_NORMAL


def test_a_turn_is_stored_and_published(report: dict[str, Any]) -> None:
    assert report["retrieved_events"] == 2  # from the new session's SessionStarted on
    assert report["tracker_rows"] == 10
    assert report["published"] == 10


def test_three_saves_write_the_rows_rasas_own_classes_write(report: dict[str, Any]) -> None:
    assert report["same_as_rasa"] is True
