"""``concierge run --production`` for tests, on the machine's PostgreSQL and RabbitMQ.

:func:`production_stack` creates two databases (the app's and Rasa's trackers), starts a
private ``redis-server`` (lock store and the gateway's Redis, so a test may restart it), puts
a :class:`~tests.support.tcp_proxy.TcpProxy` between every process and RabbitMQ (so a test
may cut it) with a virtual host and a queue of its own, and runs the real command with
replicas on free ports and ``--start-chroma``. At the end it stops the command (which stops
its processes), kills any process of the run still alive, deletes the queue and the virtual
host and drops the databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aio_pika
import pytest

from core.config import PROJECT_ROOT
from tests.support.postgres import temporary_database
from tests.support.redis_server import PrivateRedis
from tests.support.tcp_proxy import TcpProxy

RABBITMQ = ("127.0.0.1", 5672)
RUN_MARKER = "CONCIERGE_TEST_PRODUCTION_RUN"
"""Every process of one run inherits this variable (a unique value): cleanup finds them by it."""


@dataclass
class ProductionStack:
    """A running production mode and the handles a test uses to break it."""

    process: subprocess.Popen[bytes]
    gateway_urls: list[str]
    rasa_urls: list[str]
    app_database_url: str
    tracker_database_url: str
    """SQLAlchemy URL (psycopg 3) of Rasa's tracker database."""
    queue: str
    redis: PrivateRedis
    broker_proxy: TcpProxy
    data_dir: Path
    output: Path
    """What the command printed."""

    def log_tail(self, lines: int = 40) -> str:
        """The end of the command's output (for a failure message)."""
        text = self.output.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


_HANDED_OUT: set[int] = set()
"""Ports this process already gave a stack: the kernel may offer them again before the
processes bind them (a Rasa replica and an action server once got the same port)."""


def free_ports(count: int) -> int:
    """Return the first of ``count`` consecutive free ports on 127.0.0.1, not handed out yet."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65535:
            continue
        taken = not _HANDED_OUT.isdisjoint(range(base, base + count))
        for port in range(base, base + count) if not taken else ():
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    taken = True
                    break
        if not taken:
            _HANDED_OUT.update(range(base, base + count))
            return base
    raise RuntimeError(f"no {count} consecutive free ports")


def listening_pid(port: int) -> int | None:
    """Return the pid of the process listening on 127.0.0.1:``port`` (Linux ``/proc``)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        return int(pid)
    return None


def _processes_of_run(marker: str) -> list[int]:
    needle = f"{RUN_MARKER}={marker}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{pid}/environ", "rb") as environ:
            if needle in environ.read().split(b"\0"):
                found.append(int(pid))
    return found


def _rabbitmqctl(*args: str) -> bool:
    """Run ``rabbitmqctl`` (on the machine running RabbitMQ); whether it succeeded."""
    binary = shutil.which("rabbitmqctl")
    if binary is None:
        return False
    done = subprocess.run([binary, *args], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


@contextlib.contextmanager
def private_vhost(name: str) -> Iterator[str]:
    """A RabbitMQ virtual host of this run (``/`` when ``rabbitmqctl`` is not available).

    Rasa publishes to a fanout exchange (``rasa-exchange``): every queue bound to it in one
    virtual host gets every deployment's events, so a run on a shared RabbitMQ would also
    receive (and have to wade through) those of other tests and benchmarks.
    """
    if not _rabbitmqctl("add_vhost", name):
        yield "/"
        return
    try:
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        _rabbitmqctl("delete_vhost", name)


async def _delete_queue(queue: str, vhost: str) -> None:
    path = "" if vhost == "/" else quote(vhost, safe="")
    connection = await aio_pika.connect(f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/{path}")
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)


@contextlib.contextmanager
def production_stack(
    model: Path,
    workdir: Path,
    *,
    rasa_replicas: int = 2,
    action_server_replicas: int = 2,
    gateway_replicas: int = 2,
    startup_timeout: float = 420.0,
) -> Iterator[ProductionStack]:
    """Run ``concierge run --production`` with replicas until the block ends."""
    marker = uuid.uuid4().hex[:12]
    queue = f"concierge_test_events_{marker}"
    output = workdir / "production-run.log"
    data_dir = workdir / "data"
    with contextlib.ExitStack() as cleanup:
        app_url = cleanup.enter_context(temporary_database())
        tracker_url = cleanup.enter_context(temporary_database())
        redis = PrivateRedis(workdir / "redis")
        redis.start()
        cleanup.callback(redis.stop)
        proxy = cleanup.enter_context(TcpProxy(*RABBITMQ))
        vhost = cleanup.enter_context(private_vhost(f"concierge_test_{marker}"))
        vhost_path = "" if vhost == "/" else quote(vhost, safe="")
        rasa_port = free_ports(rasa_replicas)
        action_port = free_ports(action_server_replicas)
        gateway_port = free_ports(gateway_replicas)
        chroma_port = free_ports(1)
        env = {key: value for key, value in os.environ.items() if not key.startswith("CONCIERGE_")}
        env.update(
            {
                RUN_MARKER: marker,
                "CONCIERGE_ENVIRONMENT": "production",
                "CONCIERGE_DATA_DIR": str(data_dir),
                "CONCIERGE_DATABASE_URL": app_url,
                "CONCIERGE_TRACKER_STORE_URL": "postgresql://" + tracker_url.split("://", 1)[1],
                "CONCIERGE_REDIS_URL": redis.url,
                "CONCIERGE_RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{proxy.port}/{vhost_path}",
                "CONCIERGE_EVENT_BROKER_QUEUE": queue,
                "CHROMA_HOST": "127.0.0.1",
                "CHROMA_PORT": str(chroma_port),
                "CONCIERGE_RASA_AUTH_TOKEN": secrets.token_hex(32),
                "CONCIERGE_CONVERSATION_TOKEN_SECRET": secrets.token_hex(32),
                "CONCIERGE_RASA_URL": f"http://127.0.0.1:{rasa_port}",
                "CONCIERGE_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
                "CONCIERGE_GATEWAY_PORT": str(gateway_port),
                "CONCIERGE_WORKER_HEALTH_URL": f"http://127.0.0.1:{free_ports(1)}",
                "CONCIERGE_RASA_REPLICAS": str(rasa_replicas),
                "CONCIERGE_ACTION_SERVER_REPLICAS": str(action_server_replicas),
                "CONCIERGE_GATEWAY_REPLICAS": str(gateway_replicas),
                # every simulated customer comes from 127.0.0.1: lift the per-address limit
                "CONCIERGE_RATE_LIMIT_ADDRESS_PER_MINUTE": "1000000",
                "CONCIERGE_RATE_LIMIT_ADDRESS_BURST": "1000000",
                "CONCIERGE_MAX_INFLIGHT_TURNS": "500",
                "CONCIERGE_RASA_TIMEOUT_SECONDS": "9.5",
                "ANONYMIZED_TELEMETRY": "False",
            }
        )
        command = [
            sys.executable, "-m", "bot.cli", "run", "--production", "--start-chroma",
            "--model", str(model), "--startup-timeout", str(startup_timeout),
        ]  # fmt: skip
        workdir.mkdir(parents=True, exist_ok=True)
        with output.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

        def stop() -> None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # the command stops its processes
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(60)
            for pid in _processes_of_run(marker):  # whatever outlived it
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
            with contextlib.suppress(Exception):
                asyncio.run(_delete_queue(queue, vhost))

        cleanup.callback(stop)
        stack = ProductionStack(
            process=process,
            gateway_urls=[f"http://127.0.0.1:{gateway_port + i}" for i in range(gateway_replicas)],
            rasa_urls=[f"http://127.0.0.1:{rasa_port + i}" for i in range(rasa_replicas)],
            app_database_url=app_url,
            tracker_database_url=tracker_url,
            queue=queue,
            redis=redis,
            broker_proxy=proxy,
            data_dir=data_dir,
            output=output,
        )
        deadline = time.monotonic() + startup_timeout + 120
        while b"Concierge is up" not in output.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"production mode did not start:\n{stack.log_tail()}")
            time.sleep(1.0)
        yield stack
