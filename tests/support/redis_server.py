"""Redis for tests: the machine's shared server, or a private ``redis-server`` a test may kill.

The shared server (127.0.0.1:6379) serves several test suites at once, so tests on it use a
key prefix of their own and never restart it. :class:`PrivateRedis` runs its own
``redis-server`` on a free port (no persistence) that a test can kill and start again on the
same port, to show what the gateway does while Redis is down and after it is back.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from core.config import Settings
from core.storage.migrate import upgrade
from tests.support.rasa import StandInRasa

SHARED_URL = "redis://127.0.0.1:6379/0"


def redis_server_binary() -> str:
    """Return the ``redis-server`` binary, or skip the test saying it is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return binary


def free_port() -> int:
    """Return a localhost port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str, timeout: float = 0.5) -> bool:
    """Whether the Redis at ``url`` answers ``PING``."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def unique_prefix() -> str:
    """Return a key prefix no other test uses (``test-<hex>:``)."""
    return f"test-{uuid.uuid4().hex[:12]}:"


class PrivateRedis:
    """A ``redis-server`` of one test, on a fixed port, that can be killed and restarted."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.binary = redis_server_binary()
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server on :attr:`port` and wait until it answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not answers(self.url, 0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would, and wait until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        """Stop the server if it runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        self.kill()


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    """Run a private ``redis-server`` for the block (stopped at the end, whatever happens)."""
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def redis_for_tests(workdir: Path) -> Iterator[str]:
    """Yield the shared Redis's URL when it answers, else a private server's."""
    if answers(SHARED_URL):
        yield SHARED_URL
        return
    with private_redis(workdir) as server:
        yield server.url


def gateway_settings(data_dir: Path, rasa: StandInRasa, **overrides: object) -> Settings:
    """Settings of a gateway on the stand-in Rasa with a migrated SQLite database in ``data_dir``.

    Give several gateways the same ``data_dir`` to have replicas sharing one database.
    """
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": None,
        "rasa_url": rasa.url,
        "rasa_auth_token": rasa.auth_token,
        "action_server_url": rasa.url,
        "rasa_timeout_seconds": 5.0,
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg,arg-type]
    upgrade(settings.sqlalchemy_url)
    return settings
