"""Run a check module in Rasa's environment (Rasa is not installed in the app's) and read it.

The module prints one JSON object as its last line; a failing module fails the test with
the end of its stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa(module: str, *args: str) -> dict[str, Any]:
    """Return the JSON report ``python -m module *args`` prints under ``.venv-rasa``."""
    if not RASA_PYTHON.exists():
        pytest.fail("Rasa's environment is missing: run `make install`")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", module, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
