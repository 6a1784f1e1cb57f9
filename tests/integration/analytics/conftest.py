"""Databases for the analytics tests: SQLite and PostgreSQL, migrated and seeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.storage import get_engine
from core.storage.migrate import upgrade
from tests.support.analytics_seed import seed_history
from tests.support.postgres import temporary_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of each engine the application supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concierge.db'}"
        upgrade(url)
        yield url
    else:
        with temporary_database() as url:
            upgrade(url)
            yield url


@pytest.fixture
def seeded(database_url: str) -> Engine:
    """The database with the seeded history of ``tests/support/analytics_seed.py``."""
    engine = get_engine(database_url)
    seed_history(engine)
    return engine
