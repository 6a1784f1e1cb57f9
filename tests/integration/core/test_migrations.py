"""The migrations on real engines: an empty database, a release-0.1 database, the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from core.config import PROJECT_ROOT
from core.storage import (
    ContactRequest,
    Feedback,
    HandoffRequest,
    KBAnswer,
    get_engine,
    unit_of_work,
)
from core.storage.migrate import (
    BASELINE_TABLES,
    MigrationError,
    current_revision,
    head_revision,
    schema_problem,
    upgrade,
)
from core.storage.models import Base
from tests.support import legacy_schema


def test_empty_database_upgrades_to_head_and_matches_the_models(database_url: str) -> None:
    engine = get_engine(database_url)
    assert current_revision(engine) is None
    assert schema_problem(engine) is not None

    assert upgrade(database_url) == head_revision()

    assert set(inspect(engine).get_table_names()) >= BASELINE_TABLES
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert schema_problem(engine) is None


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    upgrade(database_url)
    with unit_of_work(get_engine(database_url)) as uow:
        uow.add(KBAnswer(id="a1", sender_id="s", question="q", answer="a"))
    assert upgrade(database_url) == head_revision()
    with unit_of_work(get_engine(database_url)) as uow:
        assert uow.session.get(KBAnswer, "a1") is not None


def test_a_release_0_1_database_is_adopted_without_loss(database_url: str) -> None:
    engine = get_engine(database_url)
    legacy_schema.Base.metadata.create_all(engine)
    with unit_of_work(engine) as uow:
        uow.add(
            legacy_schema.KBAnswer(id="a1", sender_id="s1", question="q?", answer="yes"),
            legacy_schema.HandoffRequest(id="h1", sender_id="s1", reason="asked"),
            legacy_schema.ContactRequest(
                id="c1", sender_id="s1", email="a@b.co", topic="sales", details={"x": 1}
            ),
        )
    with unit_of_work(engine) as uow:
        uow.add(
            legacy_schema.Feedback(
                id="f1", answer_id="a1", sender_id="s1", rating="up", question="q?"
            )
        )
    assert current_revision(engine) is None

    assert upgrade(database_url) == head_revision()

    with unit_of_work(engine) as uow:
        session = uow.session
        assert session.scalars(select(KBAnswer.answer)).all() == ["yes"]
        assert session.scalars(select(HandoffRequest.reason)).all() == ["asked"]
        assert session.scalars(select(ContactRequest.details)).all() == [{"x": 1}]
        assert session.scalars(select(Feedback.rating)).all() == ["up"]


def test_a_failing_migration_names_the_database_without_its_password(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = "postgresql+psycopg://someone:hunter2@127.0.0.1:1/nothing"
    with pytest.raises(MigrationError) as raised:
        upgrade(url)
    assert "hunter2" not in str(raised.value)
    assert "127.0.0.1:1" in str(raised.value)


def test_concierge_db_upgrade_and_current(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"CONCIERGE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def concierge(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "db", *args],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    behind = concierge("current")
    assert behind.returncode == 1
    assert "current none" in behind.stdout
    done = concierge("upgrade")
    assert done.returncode == 0, done.stderr
    assert f"database at revision {head_revision()}" in done.stdout
    now = concierge("current")
    assert now.returncode == 0
    assert f"current {head_revision()}, head {head_revision()}" in now.stdout
