"""Start-up check of the production services: PostgreSQL, Redis, RabbitMQ and a chroma server.

Each check connects for real with a short timeout and speaks just enough of the service's
protocol to know it answers and accepts the credentials: PostgreSQL runs ``SELECT 1``, Redis
answers ``AUTH``/``SELECT``/``PING``, RabbitMQ completes an AMQP 0-9-1 handshake up to
``Connection.Open-Ok`` on the URL's virtual host, chroma answers ``GET /api/v2/heartbeat``.
A failure becomes one named problem ("Redis at redis://cache:6379 is not reachable:
connection refused"); targets are shown without credentials. ``concierge check-services``
prints them. ``python -m core.services --rasa-endpoints`` checks the services of
``endpoints.production.yml`` from its variables; the Rasa image runs it before Rasa starts
(standard library and SQLAlchemy only, so it runs in Rasa's environment too).
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import struct
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.util import find_spec
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, quote, unquote, urlsplit

if TYPE_CHECKING:  # only for types: the Rasa image runs this module without the app's settings
    from core.config import Settings

DEFAULT_TIMEOUT_SECONDS = 3.0
AMQP_PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
AMQP_FRAME_END = 0xCE


class ServiceError(Exception):
    """A service answered, but not the way a healthy one does (the message says how)."""


@dataclass(frozen=True)
class ServiceCheck:
    """The outcome of one check: which service, where (no credentials), and what is wrong."""

    service: str
    target: str
    """Where it was looked for, without credentials; empty when the setting itself is wrong."""
    problem: str | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the service answered as expected."""
        return self.problem is None

    def describe(self) -> str:
        """One line for an operator: ``Redis at redis://cache:6379 is not reachable: ...``."""
        if self.problem is None:
            return f"{self.service} at {self.target} answers ({self.elapsed_ms:.0f} ms)"
        if not self.target:
            return f"{self.service}: {self.problem}"
        return f"{self.service} at {self.target} {self.problem}"


def _reason(error: BaseException, timeout: float) -> str:
    """Return a short, secret-free reason for a failed connection."""
    if isinstance(error, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "unknown host name"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or error})"
    if isinstance(error, ConnectionError | OSError):
        return error.strerror or type(error).__name__
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _display(parts: SplitResult, default_port: int, path: bool = True) -> str:
    """``scheme://host:port/path`` without the user name and password."""
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    shown = f"{parts.scheme}://{host}:{parts.port or default_port}"
    return shown + (parts.path if path and parts.path not in ("", "/") else "")


def _timed(service: str, target: str, timeout: float, probe: Callable[[], None]) -> ServiceCheck:
    started = time.perf_counter()
    try:
        probe()
    except ServiceError as error:
        return ServiceCheck(service, target, str(error))
    except Exception as error:  # any failure becomes a named problem
        return ServiceCheck(service, target, f"is not reachable: {_reason(error, timeout)}")
    return ServiceCheck(service, target, None, (time.perf_counter() - started) * 1000)


def _connect(host: str, port: int, timeout: float, tls: bool) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    if not tls:
        return sock
    return ssl.create_default_context().wrap_socket(sock, server_hostname=host)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ServiceError("closed the connection during the handshake")
        data.extend(chunk)
    return bytes(data)


# --- PostgreSQL ---------------------------------------------------------------------------------
def check_database(url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ServiceCheck:
    """Connect to the application database and run ``SELECT 1``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError
    from sqlalchemy.pool import NullPool

    try:
        parsed = make_url(url)
    except ArgumentError:
        return ServiceCheck("PostgreSQL", "", "CONCIERGE_DATABASE_URL is not a database URL")
    target = f"{parsed.drivername}://{parsed.host or 'localhost'}:{parsed.port or 5432}"
    target += f"/{parsed.database}" if parsed.database else ""
    if parsed.get_backend_name() != "postgresql":
        return ServiceCheck(
            "PostgreSQL", "", "CONCIERGE_DATABASE_URL must name a PostgreSQL database"
        )

    def probe() -> None:
        engine = create_engine(
            parsed, connect_args={"connect_timeout": max(1, round(timeout))}, poolclass=NullPool
        )
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            cause: BaseException = getattr(error, "orig", None) or error
            lines = str(cause).strip().splitlines()
            message = lines[0] if lines else type(cause).__name__
            if "Connection refused" in message:
                message = "connection refused"
            elif "timeout expired" in message:
                message = f"no answer within {timeout:g} s"
            raise ServiceError(f"is not reachable: {message}") from error
        finally:
            engine.dispose()

    return _timed("PostgreSQL", target, timeout, probe)


# --- Redis ----------------------------------------------------------------------------------------
def _resp_command(*words: str) -> bytes:
    encoded = [word.encode() for word in words]
    out = [f"*{len(encoded)}\r\n".encode()]
    for word in encoded:
        out.append(b"$%d\r\n%s\r\n" % (len(word), word))
    return b"".join(out)


def _resp_line(sock: socket.socket) -> str:
    data = bytearray()
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ServiceError("closed the connection (is it a Redis server?)")
        data.extend(chunk)
        if len(data) > 4096:
            raise ServiceError("did not answer as a Redis server")
    return data[:-2].decode("utf-8", "replace")


def check_redis(url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ServiceCheck:
    """Connect, authenticate when the URL has a password, select its database and ``PING``."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        return ServiceCheck("Redis", "", "CONCIERGE_REDIS_URL must look like redis://host:6379/0")
    target = _display(parts, 6379)
    db = parts.path.strip("/") or "0"

    def ask(sock: socket.socket, *words: str) -> None:
        sock.sendall(_resp_command(*words))
        reply = _resp_line(sock)
        if reply.startswith("-"):
            first = reply[1:].split(" ", 1)[0]
            raise ServiceError(f"refused {words[0]}: {first} {reply[1:][len(first) :].strip()}")
        if not reply.startswith(("+", ":")):
            raise ServiceError("did not answer as a Redis server")

    def probe() -> None:
        with _connect(
            parts.hostname or "", parts.port or 6379, timeout, parts.scheme == "rediss"
        ) as sock:
            if parts.password is not None:
                credentials = [unquote(parts.password)]
                if parts.username:
                    credentials.insert(0, unquote(parts.username))
                ask(sock, "AUTH", *credentials)
            if db != "0":
                if not db.isdigit():
                    raise ServiceError(f"has no database {db!r} (the URL's path is a number)")
                ask(sock, "SELECT", db)
            sock.sendall(_resp_command("PING"))
            reply = _resp_line(sock)
            if reply != "+PONG":
                raise ServiceError(f"answered PING with {reply[:80]!r}")

    return _timed("Redis", target, timeout, probe)


# --- RabbitMQ (AMQP 0-9-1) --------------------------------------------------------------------
def _shortstr(value: str) -> bytes:
    raw = value.encode()
    return struct.pack("!B", len(raw)) + raw


def _longstr(raw: bytes) -> bytes:
    return struct.pack("!I", len(raw)) + raw


def _method_frame(class_id: int, method_id: int, arguments: bytes) -> bytes:
    payload = struct.pack("!HH", class_id, method_id) + arguments
    return struct.pack("!BHI", 1, 0, len(payload)) + payload + bytes([AMQP_FRAME_END])


def _read_method(sock: socket.socket) -> tuple[int, int, bytes]:
    header = _recv_exact(sock, 7)
    if header[:4] == b"AMQP":
        raise ServiceError("does not speak AMQP 0-9-1")
    frame_type, _channel, size = struct.unpack("!BHI", header)
    if frame_type not in (1, 8) or size > 1 << 20:
        raise ServiceError("did not answer as an AMQP server")
    payload = _recv_exact(sock, size)
    if _recv_exact(sock, 1)[0] != AMQP_FRAME_END:
        raise ServiceError("did not answer as an AMQP server")
    if frame_type == 8:  # heartbeat: read the next frame
        return _read_method(sock)
    class_id, method_id = struct.unpack("!HH", payload[:4])
    return class_id, method_id, payload[4:]


def _close_reason(arguments: bytes) -> str:
    (code,) = struct.unpack("!H", arguments[:2])
    length = arguments[2]
    text = arguments[3 : 3 + length].decode("utf-8", "replace")
    return f"{code} {text}"


def _expect(sock: socket.socket, class_id: int, method_id: int, step: str) -> bytes:
    got_class, got_method, arguments = _read_method(sock)
    if (got_class, got_method) == (10, 50):  # Connection.Close
        raise ServiceError(f"refused the connection at {step}: {_close_reason(arguments)}")
    if (got_class, got_method) != (class_id, method_id):
        raise ServiceError(f"answered {step} with method {got_class}.{got_method}")
    return arguments


def check_rabbitmq(url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ServiceCheck:
    """Open an AMQP 0-9-1 connection (PLAIN login, the URL's virtual host), then close it."""
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
        return ServiceCheck(
            "RabbitMQ", "", "CONCIERGE_RABBITMQ_URL must look like amqp://user:password@host:5672/"
        )
    tls = parts.scheme == "amqps"
    port = parts.port or (5671 if tls else 5672)
    target = _display(parts, port)
    user = unquote(parts.username) if parts.username else "guest"
    password = unquote(parts.password) if parts.password else "guest"
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"

    def probe() -> None:
        with _connect(parts.hostname or "", port, timeout, tls) as sock:
            sock.sendall(AMQP_PROTOCOL_HEADER)
            start = _expect(sock, 10, 10, "Connection.Start")
            at = 2 + 4 + struct.unpack("!I", start[2:6])[0]  # version, server properties
            (length,) = struct.unpack("!I", start[at : at + 4])
            mechanisms = start[at + 4 : at + 4 + length].decode("ascii", "replace").split()
            if "PLAIN" not in mechanisms:
                raise ServiceError(f"offers no PLAIN login (only {' '.join(mechanisms)[:60]})")
            # capabilities.authentication_failure_close: a refused login is a Close, not a drop
            capabilities = _shortstr("authentication_failure_close") + b"t\x01"
            properties = (
                _shortstr("product") + b"S" + _longstr(b"concierge check-services")
                + _shortstr("capabilities") + b"F" + _longstr(capabilities)
            )  # fmt: skip
            response = b"\x00" + user.encode() + b"\x00" + password.encode()
            sock.sendall(
                _method_frame(
                    10, 11,
                    _longstr(properties) + _shortstr("PLAIN") + _longstr(response)
                    + _shortstr("en_US"),
                )
            )  # fmt: skip
            tune = _expect(sock, 10, 30, "login")
            channel_max, frame_max, _heartbeat = struct.unpack("!HIH", tune[:8])
            sock.sendall(_method_frame(10, 31, struct.pack("!HIH", channel_max, frame_max, 0)))
            sock.sendall(_method_frame(10, 40, _shortstr(vhost) + _shortstr("") + b"\x00"))
            _expect(sock, 10, 41, f"virtual host {vhost!r}")
            sock.sendall(_method_frame(10, 50, struct.pack("!H", 200) + _shortstr("") + b"\0" * 4))
            _expect(sock, 10, 51, "Connection.Close")

    return _timed("RabbitMQ", target, timeout, probe)


# --- chroma ------------------------------------------------------------------------------------
def check_chroma(host: str, port: int, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ServiceCheck:
    """``GET /api/v2/heartbeat`` of a chroma server (chromadb 1.x)."""
    import httpx

    target = f"http://{host}:{port}"

    def probe() -> None:
        try:
            response = httpx.get(f"{target}/api/v2/heartbeat", timeout=timeout)
        except httpx.TimeoutException as error:
            raise TimeoutError from error
        except httpx.ConnectError as error:
            text = str(error)
            reason = "connection refused" if "refused" in text.lower() else text or "no connection"
            raise ServiceError(f"is not reachable: {reason}") from error
        except httpx.HTTPError as error:
            raise ServiceError(f"is not reachable: {type(error).__name__}") from error
        if response.status_code != 200:
            raise ServiceError(f"answered HTTP {response.status_code} on /api/v2/heartbeat")
        try:
            body = response.json()
        except ValueError as error:
            raise ServiceError("answered the heartbeat with something other than JSON") from error
        if not isinstance(body, dict) or "nanosecond heartbeat" not in body:
            raise ServiceError("answered the heartbeat without 'nanosecond heartbeat'")

    return _timed("chroma", target, timeout, probe)


# --- All of them ------------------------------------------------------------------------------
PRODUCTION_VARIABLES = {
    "PostgreSQL": "CONCIERGE_DATABASE_URL",
    "Redis": "CONCIERGE_REDIS_URL",
    "RabbitMQ": "CONCIERGE_RABBITMQ_URL",
    "chroma": "CHROMA_HOST",
}
"""The four services of a production deployment and the variable that names each."""


def check_services(
    settings: Settings, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, require_all: bool = False
) -> list[ServiceCheck]:
    """Check every configured production service at once; ``require_all``: unset ones too.

    Without ``require_all`` an unset service is the embedded default and is not checked.
    """
    probes: list[Callable[[], ServiceCheck]] = []
    missing: list[ServiceCheck] = []
    configured = {
        "PostgreSQL": settings.database_url,
        "Redis": settings.redis_url,
        "RabbitMQ": settings.rabbitmq_url,
        "chroma": settings.chroma_host,
    }
    for service, value in configured.items():
        if not value and require_all:
            variable = PRODUCTION_VARIABLES[service]
            missing.append(ServiceCheck(service, "", f"{variable} is not set"))
    if settings.database_url and (require_all or settings.database_url.startswith("postgres")):
        # a SQLite URL is the embedded kind: refused with --production, else not checked
        url = settings.database_url
        probes.append(lambda: check_database(url, timeout))
    if settings.redis_url:
        redis_url = settings.redis_url
        probes.append(lambda: check_redis(redis_url, timeout))
    if settings.rabbitmq_url:
        rabbitmq_url = settings.rabbitmq_url
        probes.append(lambda: check_rabbitmq(rabbitmq_url, timeout))
    if settings.chroma_host:
        host, port = settings.chroma_host, settings.chroma_port
        probes.append(lambda: check_chroma(host, port, timeout))
    if not probes:
        return missing
    with ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="check") as pool:
        results = [future.result() for future in [pool.submit(probe) for probe in probes]]
    return results + missing


def service_problems(checks: list[ServiceCheck]) -> list[str]:
    """Return the failed checks as one line each (empty when every service answered)."""
    return [check.describe() for check in checks if not check.ok]


# --- Rasa's endpoints.production.yml ----------------------------------------------------------
def _rasa_port(environ: Mapping[str, str], name: str) -> int:
    value = environ.get(name, "").strip()
    if not value.isdigit():
        raise ValueError(f"{name} must be a port number")
    return int(value)


def check_rasa_endpoints(
    environ: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> list[ServiceCheck]:
    """Check the tracker database, lock store and event broker ``endpoints.production.yml`` names.

    Rasa's own tracker store retries an unreachable database without end; this names it first.
    """
    from sqlalchemy.engine import URL

    def get(name: str) -> str:
        return environ.get(f"CONCIERGE_{name}", "")

    checks: list[ServiceCheck] = []
    probes: list[Callable[[], ServiceCheck]] = []
    try:
        # psycopg2 in Rasa's environment, psycopg (3) in the app's
        driver = "postgresql" if find_spec("psycopg2") else "postgresql+psycopg"
        tracker = URL.create(
            driver,
            username=get("TRACKER_DB_USER") or None,
            password=get("TRACKER_DB_PASSWORD") or None,
            host=get("TRACKER_DB_HOST") or None,
            port=_rasa_port(environ, "CONCIERGE_TRACKER_DB_PORT"),
            database=get("TRACKER_DB") or None,
        ).render_as_string(hide_password=False)
        probes.append(lambda: check_database(tracker, timeout))
    except ValueError as error:
        checks.append(ServiceCheck("PostgreSQL", "", str(error)))
    try:
        password = get("LOCK_STORE_PASSWORD")
        auth = f":{quote(password, safe='')}@" if password else ""
        port = _rasa_port(environ, "CONCIERGE_LOCK_STORE_PORT")
        db = get("LOCK_STORE_DB") or "1"
        redis = f"redis://{auth}{get('LOCK_STORE_HOST')}:{port}/{db}"
        probes.append(lambda: check_redis(redis, timeout))
    except ValueError as error:
        checks.append(ServiceCheck("Redis", "", str(error)))
    try:
        login = f"{quote(get('EVENT_BROKER_USER'), safe='')}:"
        login += f"{quote(get('EVENT_BROKER_PASSWORD'), safe='')}@"
        port = _rasa_port(environ, "CONCIERGE_EVENT_BROKER_PORT")
        amqp = f"amqp://{login}{get('EVENT_BROKER_HOST')}:{port}/"
        probes.append(lambda: check_rabbitmq(amqp, timeout))
    except ValueError as error:
        checks.append(ServiceCheck("RabbitMQ", "", str(error)))
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="check") as pool:
        checks.extend(future.result() for future in [pool.submit(probe) for probe in probes])
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m core.services --rasa-endpoints``: exit 1 naming each service that fails."""
    parser = argparse.ArgumentParser(
        prog="python -m core.services",
        description="Check the services Rasa's endpoints.production.yml names.",
    )
    parser.add_argument("--rasa-endpoints", action="store_true", required=True)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS)
    args = parser.parse_args(argv)
    checks = check_rasa_endpoints(os.environ, args.timeout)
    for check in checks:
        print(("ok     " if check.ok else "FAILED ") + check.describe(), flush=True)
    return 1 if any(not check.ok for check in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
