"""endpoints.yml's SQLite tracker store and event broker, created by Rasa itself.

Rasa falls back to an in-memory tracker store (with a warning only) when a custom class
cannot be imported, so the class names are checked, then the journals and what was written.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rasa_env import run_in_rasa

SYNCHRONOUS_NORMAL, SYNCHRONOUS_FULL = 1, 2

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("rasa-sqlite")
    return run_in_rasa("tests.support.rasa_sqlite_check", str(folder))


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
