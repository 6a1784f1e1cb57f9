"""Fixtures for the action tests: a migrated SQLite database and the demo catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from actions import deps
from core.config import PROJECT_ROOT
from core.storage import get_engine
from core.storage.migrate import upgrade
from knowledge.catalog import Catalog


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'concierge.db'}"
    upgrade(url)
    engine = get_engine(url)
    monkeypatch.setattr(deps, "get_database", lambda: engine)
    yield engine
    engine.dispose()


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch) -> Catalog:
    loaded = Catalog.load(PROJECT_ROOT / "knowledge" / "demo" / "catalog.json")
    monkeypatch.setattr(deps, "get_catalog", lambda: loaded)
    return loaded
