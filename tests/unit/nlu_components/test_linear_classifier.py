"""LinearIntentClassifier: trains, ranks, survives a save and reload, and fails soft untrained.

Rasa lives in its own environment, so the component runs there through
``tests/support/rasa_linear_check.py`` and this test reads what it printed.
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

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    if not RASA_PYTHON.exists():
        pytest.fail("Rasa's environment is missing: run `make install`")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", "tests.support.rasa_linear_check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_predicts_the_intent_of_unseen_wordings(report: dict[str, Any]) -> None:
    names = [p["intent"]["name"] for p in report["three"]["trained"]]
    assert names == ["greet", "ask_price", "ask_shipping"]


def test_confidences_form_a_ranking_that_sums_to_one(report: dict[str, Any]) -> None:
    for parsed in report["three"]["trained"]:
        ranking = parsed["ranking"]
        confidences = [r["confidence"] for r in ranking]
        assert confidences == sorted(confidences, reverse=True)
        assert sum(confidences) == pytest.approx(1.0, abs=1e-6)
        assert parsed["intent"] == ranking[0]
        assert {r["name"] for r in ranking} == {"greet", "ask_price", "ask_shipping"}


def test_reloaded_model_gives_the_same_confidences(report: dict[str, Any]) -> None:
    for label in ("three", "two"):
        for before, after in zip(report[label]["trained"], report[label]["reloaded"], strict=True):
            assert after["intent"]["name"] == before["intent"]["name"]
            assert after["intent"]["confidence"] == pytest.approx(before["intent"]["confidence"])


def test_two_intents_give_two_scores(report: dict[str, Any]) -> None:
    first = report["two"]["trained"][0]
    assert first["intent"]["name"] == "greet"
    assert len(first["ranking"]) == 2


def test_an_untrained_model_predicts_no_intent(report: dict[str, Any]) -> None:
    for parsed in report["three"]["untrained"]:
        assert parsed["intent"] == {"name": None, "confidence": 0.0}
        assert parsed["ranking"] == []
