"""credentials.yml's REST channel: a turn that raised is a 500, everything else is Rasa's.

Rasa lives in its own environment, so ``rest_channel_check.py`` (next to this file) runs
there: it builds the channels from credentials.yml with Rasa's own functions, serves them on
a Sanic app in front of a stand-in agent, posts to the webhook and prints what it got. The
same is done with Rasa's plain ``rest:`` to show what the project's channel changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.rasa_env import ROOT, run_in_rasa

pytestmark = pytest.mark.slow


def run_check(credentials: Path) -> dict[str, Any]:
    """The check's report on ``credentials``, from Rasa's environment."""
    return run_in_rasa("tests.unit.rasa_addons.rest_channel_check", str(credentials))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """The reports on credentials.yml and on Rasa's own ``rest:`` channel."""
    rasas_own = tmp_path_factory.mktemp("credentials") / "credentials.yml"
    rasas_own.write_text("rest:\n", encoding="utf-8")
    return run_check(ROOT / "credentials.yml"), run_check(rasas_own)


@pytest.fixture(scope="module")
def report(reports: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return reports[0]


def test_credentials_name_the_projects_channel_under_rasas_name(report: dict[str, Any]) -> None:
    assert report["channels"] == ["rasa_addons.rest_channel.RestInput"]
    assert report["names"] == ["rest"]  # so the URL stays /webhooks/rest/webhook
    assert report["health"] == {"status": 200, "json": {"status": "ok"}}


def test_a_turn_that_raised_is_a_500_naming_the_exception(report: dict[str, Any]) -> None:
    assert report["failed"]["status"] == 500
    assert report["failed"]["json"] == {"error": "the turn failed", "reason": "LockError"}


def test_rasas_own_channel_answers_the_same_failure_with_an_empty_200(
    reports: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, rasa = reports
    assert rasa["channels"] == ["rasa.core.channels.rest.RestInput"]
    assert (rasa["failed"]["status"], rasa["failed"]["json"]) == (200, [])


def test_a_turn_with_replies_answers_them(report: dict[str, Any]) -> None:
    assert report["reply"]["status"] == 200
    assert report["reply"]["json"] == [
        {"recipient_id": report["sender"], "text": "Hello!"},
        {
            "recipient_id": report["sender"],
            "text": "Pick one",
            "buttons": [{"title": "Yes", "payload": "/affirm"}],
        },
    ]
    assert report["after_failure"] == report["reply"], "a failure leaves the next turn alone"


def test_a_turn_without_a_reply_is_an_empty_200(report: dict[str, Any]) -> None:
    assert (report["silent"]["status"], report["silent"]["json"]) == (200, [])


def test_a_cancelled_turn_answers_what_it_had_as_rasa_does(
    reports: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    ours, rasa = reports
    assert ours["cancelled"]["status"] == 200
    assert ours["cancelled"]["json"] == [{"recipient_id": ours["sender"], "text": "Partial"}]
    assert ours["cancelled"] == rasa["cancelled"]


def test_streaming_sender_channel_and_metadata_are_rasas(
    reports: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    ours, rasa = reports
    assert ours["streamed"]["content_type"] == "text/event-stream"
    lines = [json.loads(line) for line in ours["streamed"]["raw"].splitlines()]
    assert [line["text"] for line in lines] == ["Hello!", "Pick one"]
    assert ours["streamed"] == rasa["streamed"]
    assert ours["seen"] == rasa["seen"]
    assert ours["seen"][1]["metadata"] == {"channel": "web"}
    assert ours["seen"][1]["input_channel"] == "rest"
    assert ours["seen"][4]["input_channel"] == "telegram"  # given in the body


def test_the_failure_is_logged_with_its_traceback_but_without_text_or_sender(
    report: dict[str, Any],
) -> None:
    failed = [line for line in report["logs"] if line["message"].startswith("rest.turn.failed")]
    assert len(failed) == 1
    assert failed[0]["level"] == "ERROR"
    logged = failed[0]["formatted"]
    assert logged.startswith("ERROR rasa_addons.rest_channel rest.turn.failed reason=LockError\n")
    assert logged.count("Traceback (most recent call last):") == 2  # the lock error's cause too
    assert "The above exception was the direct cause of the following exception:" in logged
    assert "in handle_message" in logged  # the frames are there
    assert "ConnectionError: Error 111 while sending '<redacted>'" in logged
    assert "LockError: Could not acquire lock for conversation_id '<redacted>'." in logged
    for line in report["logs"]:
        assert report["failing_text"] not in line["formatted"]
        assert report["sender"] not in line["formatted"]


def test_the_channel_makes_rasa_validate_action_responses_with_a_compiled_schema(
    reports: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    ours, rasas_own = reports
    assert ours["compiled_validation"] is True
    assert rasas_own["compiled_validation"] is False
