"""Rasa's action response validation with a schema compiled once gives Rasa's own outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rasa_env import run_in_rasa

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return run_in_rasa("tests.unit.rasa_addons.action_results_check")


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
