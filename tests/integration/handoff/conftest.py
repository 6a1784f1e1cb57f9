"""Fixtures of the handoff tests: the gateway's app and settings, databases of both engines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.bot.conftest import (  # noqa: F401 (fixtures)
    closed_url,
    content_dir,
    fake_rasa,
    make_client,
    make_settings,
)
from tests.support.postgres import temporary_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each engine the application supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'concierge.db'}"
    else:
        with temporary_database() as url:
            yield url
