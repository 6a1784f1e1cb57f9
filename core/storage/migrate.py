"""Run the Alembic migrations: ``concierge db upgrade``, ``make run`` and ``make test`` call this.

A database created by release 0.1's ``create_all`` (the tables, but no ``alembic_version``)
is adopted: it is stamped at the baseline revision, whose schema it has, and upgraded from
there, so no row is lost.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from core.storage.engine import get_engine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE_REVISION = "0001"
BASELINE_TABLES = frozenset({"kb_answers", "kb_feedback", "handoff_requests", "contact_requests"})


class MigrationError(RuntimeError):
    """The database could not be brought to the schema this release needs."""


def alembic_config() -> Config:
    """Return the Alembic configuration of the project's migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """Return the newest revision of the migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None when it was never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """Whether the database is at the head revision."""
    return current_revision(engine) == head_revision()


def schema_problem(engine: Engine) -> str | None:
    """Return why the database cannot serve this release (unreachable, not migrated), or None."""
    try:
        current = current_revision(engine)
    except Exception as error:  # any driver error: the caller reports it, nothing is created
        return f"the database cannot be read: {type(error).__name__}"
    head = head_revision()
    if current != head:
        return (
            f"the database is at revision {current or 'none'}, not {head}: "
            "run `concierge db upgrade`"
        )
    return None


def upgrade(url: str, revision: str = "head") -> str:
    """Upgrade the database at ``url`` to ``revision``; return the revision it is at after."""
    engine = get_engine(url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            tables = set(inspect(connection).get_table_names())
            if "alembic_version" not in tables and tables >= BASELINE_TABLES:
                logger.info("db.migrate.adopt revision=%s", BASELINE_REVISION)
                command.stamp(config, BASELINE_REVISION)
            command.upgrade(config, revision)
    except Exception as error:
        raise MigrationError(
            f"migrating {engine.url.render_as_string()} failed: {error}"
        ) from error
    after = current_revision(engine)
    logger.info("db.migrate.done revision=%s dialect=%s", after, engine.dialect.name)
    return after or ""
