"""Rasa's action response validation with a schema compiled once gives Rasa's own outcomes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    if not RASA_PYTHON.exists():
        pytest.fail("Rasa's environment is missing: run `make install`")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", "tests.unit.rasa_addons.action_results_check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_every_response_gets_rasas_own_outcome(report: dict[str, Any]) -> None:
    assert report["ours"] == report["rasa"]


def test_valid_and_invalid_responses_are_both_among_the_cases(report: dict[str, Any]) -> None:
    outcomes = report["rasa"]
    assert outcomes["answer"] is True and outcomes["empty"] is True
    invalid = [v for v in outcomes.values() if v is not True]
    assert len(invalid) >= 3
    assert all("Failed to validate Action server response" in v for v in invalid)


def test_the_schema_is_checked_once_for_all_responses(report: dict[str, Any]) -> None:
    assert report["schema_checks"] == 1
