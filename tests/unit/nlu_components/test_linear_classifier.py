"""LinearIntentClassifier: trains, ranks, survives a save and reload, and fails soft untrained.

Rasa lives in its own environment, so the component runs there through
``tests/support/rasa_linear_check.py`` and this test reads what it printed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rasa_env import run_in_rasa

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return run_in_rasa("tests.support.rasa_linear_check")


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
