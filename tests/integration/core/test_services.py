"""The start-up check of the production services, against this machine's real services.

PostgreSQL (127.0.0.1:5432, db ``test``), Redis (6379) and RabbitMQ (5672, guest/guest) run
on this machine and in CI; a chroma server is started from the app's environment. The
failures are real too: a closed port, a port that accepts and never answers, wrong
credentials, an unknown virtual host.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from core.config import Settings
from core.services import (
    check_chroma,
    check_database,
    check_rabbitmq,
    check_redis,
    check_services,
    service_problems,
)
from tests.support.chroma_server import chroma_server, free_port

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real chroma server for the heartbeat check."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as port:
        yield port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        server.close()


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", **values)  # type: ignore[arg-type]


def test_every_real_service_answers(tmp_path: Path, chroma_port: int) -> None:
    settings = _settings(
        tmp_path,
        database_url=POSTGRES,
        redis_url=REDIS,
        rabbitmq_url=RABBITMQ,
        chroma_host="127.0.0.1",
        chroma_port=chroma_port,
    )
    checks = check_services(settings, timeout=15, require_all=True)  # a loaded CI machine
    assert sorted(check.service for check in checks) == [
        "PostgreSQL",
        "RabbitMQ",
        "Redis",
        "chroma",
    ]
    assert service_problems(checks) == []
    assert all(check.ok and check.elapsed_ms > 0 for check in checks)
    described = {check.service: check.describe() for check in checks}
    assert described["RabbitMQ"].startswith("RabbitMQ at amqp://127.0.0.1:5672 answers (")
    assert described["chroma"].startswith(f"chroma at http://127.0.0.1:{chroma_port} answers")


def test_closed_ports_are_named_with_the_reason(tmp_path: Path) -> None:
    port = free_port()  # nothing listens on it any more
    settings = _settings(
        tmp_path,
        database_url=f"postgresql+psycopg://app:s3cret-pw@127.0.0.1:{port}/concierge",
        redis_url=f"redis://:s3cret-pw@127.0.0.1:{port}/2",
        rabbitmq_url=f"amqp://app:s3cret-pw@127.0.0.1:{port}/concierge",
        chroma_host="127.0.0.1",
        chroma_port=port,
    )
    problems = service_problems(check_services(settings, timeout=2))
    assert sorted(problems) == sorted(
        [
            f"PostgreSQL at postgresql+psycopg://127.0.0.1:{port}/concierge is not reachable: "
            "connection refused",
            f"Redis at redis://127.0.0.1:{port}/2 is not reachable: connection refused",
            f"RabbitMQ at amqp://127.0.0.1:{port}/concierge is not reachable: connection refused",
            f"chroma at http://127.0.0.1:{port} is not reachable: connection refused",
        ]
    )
    assert not any("s3cret" in problem for problem in problems)


def test_a_service_that_never_answers_times_out(silent_port: int) -> None:
    started = time.monotonic()
    redis = check_redis(f"redis://127.0.0.1:{silent_port}", timeout=0.5)
    rabbit = check_rabbitmq(f"amqp://guest:guest@127.0.0.1:{silent_port}/", timeout=0.5)
    chroma = check_chroma("127.0.0.1", silent_port, timeout=0.5)
    assert time.monotonic() - started < 5
    assert redis.problem == "is not reachable: no answer within 0.5 s"
    assert rabbit.problem == "is not reachable: no answer within 0.5 s"
    assert chroma.problem == "is not reachable: no answer within 0.5 s"


def test_wrong_credentials_and_names_are_refused_by_the_real_servers() -> None:
    rabbit = check_rabbitmq("amqp://guest:not-the-password@127.0.0.1:5672/")
    assert rabbit.problem is not None
    assert rabbit.problem.startswith("refused the connection at login: 403 ACCESS_REFUSED")
    assert "not-the-password" not in rabbit.describe()

    vhost = check_rabbitmq("amqp://guest:guest@127.0.0.1:5672/no-such-vhost")
    assert vhost.problem is not None
    assert "virtual host 'no-such-vhost'" in vhost.problem and "530 NOT_ALLOWED" in vhost.problem

    redis = check_redis("redis://:not-the-password@127.0.0.1:6379/0")
    assert redis.problem is not None and redis.problem.startswith("refused AUTH: ")
    assert "not-the-password" not in redis.describe()

    missing_db = check_database("postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database")
    assert missing_db.problem is not None
    assert 'database "no_such_database" does not exist' in missing_db.problem

    wrong_protocol = check_redis("redis://127.0.0.1:5672/0", timeout=2)  # RabbitMQ's port
    assert not wrong_protocol.ok


def test_settings_that_cannot_work_are_named(tmp_path: Path) -> None:
    sqlite = check_database(f"sqlite:///{tmp_path / 'x.db'}")
    assert sqlite.describe() == "PostgreSQL: CONCIERGE_DATABASE_URL must name a PostgreSQL database"
    assert not (tmp_path / "x.db").exists()
    checks = check_services(_settings(tmp_path, redis_url=REDIS), require_all=True)
    assert sorted(service_problems(checks)) == [
        "PostgreSQL: CONCIERGE_DATABASE_URL is not set",
        "RabbitMQ: CONCIERGE_RABBITMQ_URL is not set",
        "chroma: CHROMA_HOST is not set",
    ]
    assert check_services(_settings(tmp_path)) == []
    embedded = _settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'app.db'}")
    assert check_services(embedded) == []
    assert "PostgreSQL: CONCIERGE_DATABASE_URL must name a PostgreSQL database" in (
        service_problems(check_services(embedded, require_all=True))
    )


def _clear_service_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "CONCIERGE_DATABASE_URL",
        "CONCIERGE_REDIS_URL",
        "CONCIERGE_RABBITMQ_URL",
        "CHROMA_HOST",
        "CONCIERGE_CHROMA_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONCIERGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no .env of the working copy


def test_check_services_command_exits_non_zero_naming_the_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _clear_service_env(monkeypatch, tmp_path)
    code = main(["check-services"])
    out, err = capsys.readouterr()
    assert code == 0 and "no production service is configured" in out, out + err

    port = free_port()
    monkeypatch.setenv("CONCIERGE_REDIS_URL", f"redis://:pw-123456@127.0.0.1:{port}/0")
    monkeypatch.setenv("CONCIERGE_RABBITMQ_URL", RABBITMQ)
    code = main(["check-services", "--timeout", "15"])  # generous: RabbitMQ must answer
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert f"FAILED Redis at redis://127.0.0.1:{port}/0 is not reachable: connection refused" in out
    assert "ok     RabbitMQ at amqp://127.0.0.1:5672 answers" in out, out
    assert "1 of 2 services failed" in err
    assert "pw-123456" not in out + err and "Traceback" not in err

    monkeypatch.setenv("CONCIERGE_REDIS_URL", REDIS)
    code = main(["check-services", "--production", "--timeout", "15"])
    out, _ = capsys.readouterr()
    assert code == 1 and "FAILED PostgreSQL: CONCIERGE_DATABASE_URL is not set" in out, out

    monkeypatch.setenv("CONCIERGE_REDIS_URL", "http://not-redis")
    assert main(["check-services"]) == 2
    assert "redis_url" in capsys.readouterr().err
