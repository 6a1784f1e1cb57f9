"""Run the Rasa server, the action server, the gateway and the worker as one supervised group.

Each process gets its own process group and log file under ``<data_dir>/logs``. The group is
ready when every process answers its health check; if any process exits, all are stopped and
the caller learns which one died and the end of its log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote, unquote, urlencode, urlsplit

from core.config import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

LOG_TAIL_LINES = 25


class SupervisorError(RuntimeError):
    """A supervised process failed to start or stopped unexpectedly."""


@dataclass(frozen=True)
class ProcessSpec:
    """How to start one process and how to tell that it is ready."""

    name: str
    # argv, health_url and env may carry Rasa's token: kept out of the repr (and log lines).
    argv: Sequence[str] = field(repr=False)
    health_url: str = field(repr=False)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    ready: Callable[[int, bytes], bool] = lambda status, _body: status == 200


@dataclass
class _Running:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    log_path: Path
    tail: deque[str]
    pump: threading.Thread


def _port(url: str) -> int:
    parts = urlsplit(url)
    if parts.port is None:
        raise SupervisorError(f"{url!r} must name a port, e.g. http://127.0.0.1:5005")
    return parts.port


def _host(url: str) -> str:
    return urlsplit(url).hostname or "127.0.0.1"


def _rasa_ready(status: int, body: bytes) -> bool:
    return status == 200 and b"model_file" in body


def rasa_auth_token(settings: Settings) -> str:
    """Return the token of Rasa's HTTP API: the configured one, or a new one for this run."""
    configured = settings.rasa_auth_token
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return secrets.token_hex(32)  # hex: never starts with '-', which Rasa's argv would misread


def build_specs(
    settings: Settings,
    model: Path,
    rasa_executable: Path | None = None,
    auth_token: str | None = None,
) -> list[ProcessSpec]:
    """Return the three processes of the assistant, configured from ``settings``.

    Rasa's HTTP API runs with ``--auth-token`` (``auth_token``, else :func:`rasa_auth_token`);
    the gateway gets the same token as ``CONCIERGE_RASA_AUTH_TOKEN``.
    """
    rasa = rasa_executable or PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
    if not rasa.exists():
        raise SupervisorError(f"Rasa is not installed at {rasa}: run `make install` first")
    if not model.exists():
        raise SupervisorError(f"no trained model at {model}: run `make train` first")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    token = auth_token or rasa_auth_token(settings)
    action_url = settings.action_server_url.rstrip("/")
    rasa_url = settings.rasa_url.rstrip("/")
    common = {
        "CONCIERGE_DATA_DIR": str(settings.data_dir),
        "CONCIERGE_CONTENT_DIR": str(settings.content_dir),
        "CONCIERGE_RASA_URL": rasa_url,
        "CONCIERGE_ACTION_SERVER_URL": action_url,
        # Links the actions write (a quote's page) point at the gateway customers reach.
        "CONCIERGE_PUBLIC_URL": settings.base_url,
        "PYTHONUNBUFFERED": "1",
    }
    rasa_env = {
        **common,
        "CONCIERGE_ACTION_ENDPOINT": f"{action_url}/webhook",
        "CONCIERGE_TRACKER_DB": str(settings.data_dir / "rasa-tracker.db"),
        "CONCIERGE_EVENTS_DB": str(settings.rasa_events_db),  # read by the worker's feed
        "RASA_TELEMETRY_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # config.yml names the project's own NLU components (nlu_components/).
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    python = sys.executable
    probe_channel = settings.channels[0] if settings.channels else "web"
    return [
        ProcessSpec(
            name="action server",
            argv=[python, "-m", "actions.server", "--port", str(_port(action_url))],
            health_url=f"{action_url}/health",
            env={**common, "SANIC_HOST": _host(action_url), "ACTION_SERVER_SANIC_WORKERS": "1"},
        ),
        ProcessSpec(
            name="rasa",
            argv=[
                str(rasa), "run", "--enable-api", "--model", str(model),
                "--endpoints", str(PROJECT_ROOT / "endpoints.yml"),
                "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                "--interface", _host(rasa_url), "--port", str(_port(rasa_url)),
                f"--auth-token={token}",
            ],
            health_url=f"{rasa_url}/status?{urlencode({'token': token})}",
            env=rasa_env,
            ready=_rasa_ready,
        ),
        ProcessSpec(
            name="gateway",
            argv=[
                python, "-m", "bot.serve",
                "--host", settings.gateway_host, "--port", str(settings.gateway_port),
            ],
            health_url=f"http://{settings.gateway_host}:{settings.gateway_port}/api/channels/{probe_channel}/health",
            env={**common, "CONCIERGE_RASA_AUTH_TOKEN": token},
        ),
    ]  # fmt: skip


def worker_spec(settings: Settings) -> ProcessSpec:
    """Return the fourth process: ``concierge worker``, delivering the outbox to the CRM."""
    health = settings.worker_health_url.rstrip("/")
    return ProcessSpec(
        name="worker",
        argv=[sys.executable, "-m", "bot.cli", "worker"],
        health_url=f"{health}/health",
        env={
            "CONCIERGE_DATA_DIR": str(settings.data_dir),
            "CONCIERGE_CONTENT_DIR": str(settings.content_dir),
            "CONCIERGE_WORKER_HEALTH_URL": health,
            "CONCIERGE_EVENTS_DB": str(settings.rasa_events_db),
            "PYTHONUNBUFFERED": "1",
        },
    )


# --- Production mode (`concierge run --production`, docs/production.md) ------------------------
def _shifted(url: str, offset: int) -> str:
    """``url`` with its port moved up by ``offset`` (replica ``offset`` of a process)."""
    parts = urlsplit(url.rstrip("/"))
    return f"{parts.scheme}://{_host(url)}:{_port(url) + offset}"


def replica_urls(url: str, replicas: int) -> list[str]:
    """Return the URLs of ``replicas`` processes: ``url``'s port, then the next ports up."""
    return [_shifted(url, index) for index in range(replicas)]


def rasa_service_env(settings: Settings) -> dict[str, str]:
    """Return the variables ``endpoints.production.yml`` reads, derived from the settings.

    Tracker store from ``tracker_store_url``, lock store from ``redis_url``, event broker from
    ``rabbitmq_url`` and ``event_broker_queue``.
    """
    missing = [
        name
        for name, value in (
            ("CONCIERGE_TRACKER_STORE_URL", settings.tracker_store_url),
            ("CONCIERGE_REDIS_URL", settings.redis_url),
            ("CONCIERGE_RABBITMQ_URL", settings.rabbitmq_url),
        )
        if not value
    ]
    if missing:
        raise SupervisorError(f"production mode needs {', '.join(missing)}")
    assert settings.tracker_store_url and settings.redis_url and settings.rabbitmq_url
    tracker = urlsplit(settings.tracker_store_url)
    redis = urlsplit(settings.redis_url)
    broker = urlsplit(settings.rabbitmq_url)
    vhost = unquote(broker.path[1:]) if len(broker.path) > 1 else ""
    broker_port = broker.port or (5671 if broker.scheme == "amqps" else 5672)
    broker_host = broker.hostname or "localhost"
    if vhost:  # Rasa's Pika broker takes a virtual host only inside an amqp:// host value
        broker_host = f"{broker.scheme}://{broker_host}:{broker_port}/{quote(vhost, safe='')}"
    return {
        "CONCIERGE_TRACKER_DB_HOST": tracker.hostname or "localhost",
        "CONCIERGE_TRACKER_DB_PORT": str(tracker.port or 5432),
        "CONCIERGE_TRACKER_DB": unquote(tracker.path.lstrip("/")) or "rasa",
        "CONCIERGE_TRACKER_DB_USER": unquote(tracker.username or ""),
        "CONCIERGE_TRACKER_DB_PASSWORD": unquote(tracker.password or ""),
        "CONCIERGE_LOCK_STORE_HOST": redis.hostname or "localhost",
        "CONCIERGE_LOCK_STORE_PORT": str(redis.port or 6379),
        "CONCIERGE_LOCK_STORE_DB": redis.path.strip("/") or "0",
        "CONCIERGE_LOCK_STORE_PASSWORD": unquote(redis.password or ""),
        "CONCIERGE_EVENT_BROKER_HOST": broker_host,
        "CONCIERGE_EVENT_BROKER_PORT": str(broker_port),
        "CONCIERGE_EVENT_BROKER_USER": unquote(broker.username or "guest"),
        "CONCIERGE_EVENT_BROKER_PASSWORD": unquote(broker.password or "guest"),
        "CONCIERGE_EVENT_BROKER_QUEUE": settings.event_broker_queue,
    }


def build_production_specs(
    settings: Settings,
    model: Path,
    rasa_executable: Path | None = None,
    auth_token: str | None = None,
) -> list[ProcessSpec]:
    """Return the replicas of production mode: action servers, Rasa processes, gateways.

    Replica ``i`` of each process listens on its base port + ``i`` (``action_server_url``,
    ``rasa_url``, ``gateway_port``). Rasa replica ``i`` calls action server ``i`` modulo
    ``action_server_replicas`` and runs with ``endpoints.production.yml``; every gateway
    balances over all Rasa replicas (``CONCIERGE_RASA_URLS``). The worker is
    :func:`worker_spec`, one process.
    """
    embedded = build_specs(settings, model, rasa_executable, auth_token)
    by_name = {spec.name: spec for spec in embedded}
    action, rasa, gateway = by_name["action server"], by_name["rasa"], by_name["gateway"]
    services = rasa_service_env(settings)
    token = dict(gateway.env)["CONCIERGE_RASA_AUTH_TOKEN"]
    action_urls = replica_urls(settings.action_server_url, settings.action_server_replicas)
    rasa_urls = replica_urls(settings.rasa_url, settings.rasa_replicas)
    gateway_url = f"http://{settings.gateway_host}:{settings.gateway_port}"
    gateway_urls = replica_urls(gateway_url, settings.gateway_replicas)
    several = {"rasa": len(rasa_urls), "action": len(action_urls), "gateway": len(gateway_urls)}

    def named(kind: str, label: str, index: int) -> str:
        return f"{label} {index + 1}" if several[kind] > 1 else label

    specs: list[ProcessSpec] = []
    for index, url in enumerate(action_urls):
        specs.append(
            ProcessSpec(
                name=named("action", "action server", index),
                argv=[*action.argv[:-1], str(_port(url))],
                health_url=f"{url}/health",
                env={**action.env, "SANIC_HOST": _host(url)},
            )
        )
    endpoints = str(PROJECT_ROOT / "endpoints.production.yml")
    for index, url in enumerate(rasa_urls):
        argv = list(rasa.argv)
        argv[argv.index("--endpoints") + 1] = endpoints
        argv[argv.index("--port") + 1] = str(_port(url))
        paired = action_urls[index % len(action_urls)]
        specs.append(
            ProcessSpec(
                name=named("rasa", "rasa", index),
                argv=argv,
                health_url=f"{url}/status?{urlencode({'token': token})}",
                env={
                    **rasa.env,
                    **services,
                    "CONCIERGE_ACTION_ENDPOINT": f"{paired}/webhook",
                    "CONCIERGE_RASA_URL": url,
                    # a replica that dies holding a conversation's lock blocks it this long
                    "TICKET_LOCK_LIFETIME": str(settings.rasa_lock_lifetime_seconds),
                },
                ready=_rasa_ready,
            )
        )
    probe = gateway.health_url.split(str(settings.gateway_port), 1)[1]
    for index, url in enumerate(gateway_urls):
        argv = list(gateway.argv)
        argv[argv.index("--port") + 1] = str(_port(url))
        specs.append(
            ProcessSpec(
                name=named("gateway", "gateway", index),
                argv=argv,
                health_url=f"{url}{probe}",
                env={**gateway.env, "CONCIERGE_RASA_URLS": ",".join(rasa_urls)},
            )
        )
    return specs


def chroma_spec(settings: Settings) -> ProcessSpec:
    """Return a chroma server (the installed ``chroma run``) at ``CHROMA_HOST:CHROMA_PORT``.

    Its files are in ``<data_dir>/chroma-server``.
    """
    if not settings.chroma_host:
        raise SupervisorError("--start-chroma needs CHROMA_HOST (and CHROMA_PORT) set")
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        raise SupervisorError(f"chroma is not installed at {chroma}: run `make install` first")
    path = settings.data_dir / "chroma-server"
    path.mkdir(parents=True, exist_ok=True)
    host, port = settings.chroma_host, settings.chroma_port
    return ProcessSpec(
        name="chroma",
        argv=[str(chroma), "run", "--path", str(path), "--host", host, "--port", str(port)],
        health_url=f"http://{host}:{port}/api/v2/heartbeat",
    )


def ingest_content(settings: Settings) -> None:
    """Index the content folder (incrementally) in a child process, before the servers start."""
    env = {
        **os.environ,
        "CONCIERGE_DATA_DIR": str(settings.data_dir),
        "CONCIERGE_CONTENT_DIR": str(settings.content_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "ingest"], cwd=PROJECT_ROOT, env=env, check=False
    )
    if done.returncode != 0:
        raise SupervisorError(f"indexing {settings.content_dir} failed (exit {done.returncode})")


def _pump(stream: IO[bytes], log_path: Path, tail: deque[str], echo: str | None) -> None:
    with log_path.open("ab") as log:
        for raw in iter(stream.readline, b""):
            log.write(raw)
            log.flush()
            line = raw.decode("utf-8", "replace").rstrip()
            tail.append(line)
            if echo is not None:
                print(f"[{echo}] {line}", flush=True)


def _probe(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method="GET")  # noqa: S310 - local health URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read(65536)
    except urllib.error.HTTPError as error:
        return int(error.code), b""
    except (OSError, ValueError):
        return 0, b""


class Supervisor:
    """Start, watch and stop a group of processes."""

    def __init__(self, specs: Sequence[ProcessSpec], log_dir: Path, *, echo: bool = False) -> None:
        """Prepare to run ``specs``, logging each to ``log_dir/<name>.log``."""
        self.specs = list(specs)
        self.log_dir = log_dir
        self.echo = echo
        self._running: list[_Running] = []
        self._restarts: dict[str, int] = {}

    def __enter__(self) -> Supervisor:
        """Start every process."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop every process."""
        self.stop()

    def start(self) -> None:
        """Start every process in its own process group."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.specs:
            log_path = self.log_dir / f"{spec.name.replace(' ', '-')}.log"
            log_path.write_bytes(b"")
            self._running.append(self._launch(spec, log_path))

    def _launch(self, spec: ProcessSpec, log_path: Path) -> _Running:
        process = subprocess.Popen(  # noqa: S603 - argv built from our own settings
            list(spec.argv),
            cwd=PROJECT_ROOT,
            env={**os.environ, **spec.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None
        tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        pump = threading.Thread(
            target=_pump,
            args=(process.stdout, log_path, tail, spec.name if self.echo else None),
            daemon=True,
        )
        pump.start()
        logger.info("supervisor.started %s pid=%s", spec.name, process.pid)
        return _Running(spec, process, log_path, tail, pump)

    def restart_exited(self, max_restarts: int = 5) -> list[str]:
        """Start again every process that exited (production replicas); return their names.

        Its log file goes on. Raises ``SupervisorError`` when one process has exited more
        than ``max_restarts`` times: something is wrong that restarting will not fix.
        """
        restarted: list[str] = []
        for index, running in enumerate(self._running):
            code = running.process.poll()
            if code is None:
                continue
            name = running.spec.name
            self._restarts[name] = self._restarts.get(name, 0) + 1
            if self._restarts[name] > max_restarts:
                self._check_alive()
            running.pump.join(timeout=2)
            _signal_group(running.process, signal.SIGKILL)  # what is left of its group
            logger.warning("supervisor.restarting %s code=%s", name, code)
            self._running[index] = self._launch(running.spec, running.log_path)
            restarted.append(name)
        return restarted

    def _check_alive(self) -> None:
        for running in self._running:
            code = running.process.poll()
            if code is not None:
                running.pump.join(timeout=2)
                tail = "\n".join(f"    {line}" for line in running.tail)
                raise SupervisorError(
                    f"the {running.spec.name} exited with code {code}. "
                    f"Last lines of {running.log_path}:\n{tail}"
                )

    def wait_until_ready(self, timeout: float = 240.0) -> None:
        """Block until every process answers its health check; raise if one dies or times out."""
        deadline = time.monotonic() + timeout
        pending = {r.spec.name: r.spec for r in self._running}
        while pending:
            self._check_alive()
            for name, spec in list(pending.items()):
                status, body = _probe(spec.health_url)
                if spec.ready(status, body):
                    logger.info("supervisor.ready %s", name)
                    del pending[name]
            if pending and time.monotonic() > deadline:
                raise SupervisorError(
                    f"not ready after {timeout:.0f} s: {', '.join(sorted(pending))} "
                    f"(logs in {self.log_dir})"
                )
            if pending:
                time.sleep(0.5)

    def check_alive(self) -> None:
        """Raise ``SupervisorError`` if a process has exited (for a caller watching several)."""
        self._check_alive()

    def watch(self, poll_seconds: float = 1.0) -> None:
        """Block while every process runs; raise ``SupervisorError`` when one exits."""
        while True:
            self._check_alive()
            time.sleep(poll_seconds)

    def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop every process group: SIGTERM, then SIGKILL after ``grace_seconds``.

        A second interrupt while stopping (another Ctrl-C) kills what is left at once; it
        never leaves a process behind.
        """
        for running in self._running:
            if running.process.poll() is None:
                _signal_group(running.process, signal.SIGTERM)
        try:
            deadline = time.monotonic() + grace_seconds
            for running in self._running:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    running.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except KeyboardInterrupt:
            logger.warning("supervisor.stop.hurried")
        finally:
            for running in self._running:
                # Workers (Sanic, uvicorn) share the group; make sure none outlive us.
                _signal_group(running.process, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):
                    running.process.wait(timeout=5)
            self._running.clear()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
