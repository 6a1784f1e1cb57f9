"""The tracker database's init script, run by ``psql`` against the local PostgreSQL.

The PostgreSQL image runs ``/docker-entrypoint-initdb.d/*.sql`` with ``psql``; this runs the
committed file the same way (names swapped for unique ones, so the shared server keeps no
trace), twice, since a second run must change nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.integration.deploy.conftest import DEPLOY

ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=5"
SCRIPT = DEPLOY / "k8s" / "create-tracker-database.sql"


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    """A unique role and database name; both dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    role, database = f"concierge_init_{suffix}", f"rasa_init_{suffix}"
    try:
        admin = psycopg.connect(ADMIN, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 (db test) is required: {error}")
    with admin:
        admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
        try:
            yield role, database
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_the_script_creates_the_tracker_database_once(
    names: tuple[str, str], tmp_path: Path
) -> None:
    role, database = names
    text = SCRIPT.read_text(encoding="utf-8")
    assert "CREATE DATABASE rasa OWNER concierge" in text and "datname = 'rasa'" in text
    script = tmp_path / "init.sql"
    script.write_text(
        text.replace("DATABASE rasa OWNER concierge", f"DATABASE {database} OWNER {role}").replace(
            "datname = 'rasa'", f"datname = '{database}'"
        ),
        encoding="utf-8",
    )
    psql = shutil.which("psql")
    if psql is None:
        pytest.fail("psql is required (the PostgreSQL client is on the CI machines)")
    for _ in range(2):
        done = subprocess.run(
            [psql, "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", "test",
             "-f", str(script)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    with psycopg.connect(ADMIN) as connection:
        owner = connection.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
    assert owner == (role,)
