"""A throwaway PostgreSQL database on the machine's local server, one per test.

The server is the one at 127.0.0.1:5432 (trust auth). Outside CI a test that needs it is
skipped with the reason when the server does not answer; in CI (``CI=true``) it fails, so the
production-mode tests can never be skipped there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

ADMIN_URL = os.environ.get(
    "CONCIERGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@contextmanager
def temporary_database() -> Iterator[str]:
    """Create an empty database, yield its URL, and drop it afterwards."""
    admin = _admin_engine()
    name = f"concierge_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        if os.environ.get("CI"):
            raise RuntimeError(f"PostgreSQL at {ADMIN_URL} is required in CI: {error}") from error
        pytest.skip(f"no PostgreSQL server at {ADMIN_URL}: {type(error).__name__}")
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        from core.storage.engine import get_engine

        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
