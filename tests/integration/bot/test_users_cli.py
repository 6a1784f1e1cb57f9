"""``concierge users create|list|disable`` against a real SQLite database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.auth.passwords import verify_password
from bot.cli import main
from core.storage import StaffUser, get_engine, session_scope
from core.storage.migrate import upgrade

PASSWORD = "a long enough password"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("CONCIERGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CONCIERGE_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'data' / 'concierge.db'}"
    upgrade(url)
    return url


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def users(url: str) -> list[StaffUser]:
    with session_scope(get_engine(url)) as session:
        return list(session.scalars(select(StaffUser)))


def test_create_the_first_admin_from_stdin(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    code = main(["users", "create", "Admin@Example.com", "--role", "admin", "--password-stdin"])
    assert code == 0
    assert "created admin account admin@example.com" in capsys.readouterr().out
    [user] = users(database)
    assert (user.email, user.role, user.disabled) == ("admin@example.com", "admin", False)
    assert verify_password(user.password_hash, PASSWORD)


def test_create_asks_twice_at_the_prompt(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "create", "rep@example.com", "--role", "sales"]) == 0
    assert [u.role for u in users(database)] == ["sales"]


def test_two_different_passwords_create_nothing(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "create", "rep@example.com", "--role", "sales"]) == 1
    assert "the two passwords differ" in capsys.readouterr().err
    assert users(database) == []


@pytest.mark.parametrize(
    ("argv", "password", "expected"),
    [
        (["not-an-email", "--role", "admin"], PASSWORD, "is not an email address"),
        (["a@example.com", "--role", "admin"], "short", "at least 12 characters"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    password: str,
    expected: str,
) -> None:
    stdin(monkeypatch, password + "\n")
    assert main(["users", "create", *argv, "--password-stdin"]) == 1
    assert expected in capsys.readouterr().err
    assert users(database) == []


def test_an_unknown_role_or_a_password_argument_is_a_usage_error(database: str) -> None:
    with pytest.raises(SystemExit):
        main(["users", "create", "a@example.com", "--role", "owner", "--password-stdin"])
    with pytest.raises(SystemExit):
        main(["users", "create", "a@example.com", "--role", "admin", "--password", "x"])


def test_the_same_email_twice_is_refused(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        stdin(monkeypatch, PASSWORD + "\n")
        code = main(["users", "create", "a@example.com", "--role", "support", "--password-stdin"])
    assert code == 1
    assert "already exists" in capsys.readouterr().err


def test_list_and_disable(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "list"]) == 0
    assert "no staff accounts yet" in capsys.readouterr().out
    for email, role in (("a@example.com", "admin"), ("s@example.com", "support")):
        stdin(monkeypatch, PASSWORD + "\n")
        assert main(["users", "create", email, "--role", role, "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["users", "disable", "S@example.com"]) == 0
    assert "disabled s@example.com; 0 open session(s) ended" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["a@example.com", "admin", "active"],
        ["s@example.com", "support", "disabled"],
    ]
    assert main(["users", "disable", "nobody@example.com"]) == 1
    assert "no account for nobody@example.com" in capsys.readouterr().err


def test_a_database_that_is_not_migrated_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONCIERGE_DATA_DIR", str(tmp_path / "empty"))
    assert main(["users", "list"]) == 1
    assert "concierge db upgrade" in capsys.readouterr().err
