"""Load benchmark: locust users holding whole conversations against the gateway, per mode.

Starts each mode's stack on free ports with a fresh data directory, then for every round
runs locust headless (``benchmarks/locustfile.py``, from the benchmark environment
``.venv-bench``) against each mode in turn, so that both modes see the same machine state:

- ``embedded``: what ``concierge run`` starts (Rasa, action server, gateway, worker; SQLite
  files and a chroma folder);
- ``production``: ``concierge run --production`` (replicas against the PostgreSQL, Redis,
  RabbitMQ and chroma server the environment configures), when this checkout has it.

Every user shares 127.0.0.1, so the gateway's per-address rate limit is lifted
(``LOAD_CLIENT_ENV``); the per-conversation limit and the bound on turns in flight stay as
shipped. Reports, per mode and kind of turn, requests, failures, throughput and exact
p50/p95/p99 of every turn (failed ones included, as locust counts them), and the CPU seconds
each process (with its own children) used during the load. Prints Markdown.

    make bench-load    # or: .venv/bin/python -m benchmarks.load --modes embedded,production
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import SecretStr

from bot.supervisor import Supervisor, SupervisorError, build_specs, ingest_content, worker_spec
from core.config import PROJECT_ROOT, Settings
from core.storage.migrate import upgrade

LOCUSTFILE = PROJECT_ROOT / "benchmarks" / "locustfile.py"


def find_locust() -> Path | None:
    """Locust next to this interpreter (``make bench-load``), else in ``.venv-bench``."""
    for candidate in (
        Path(sys.executable).parent / "locust",
        PROJECT_ROOT / ".venv-bench" / "bin" / "locust",
    ):
        if candidate.exists():
            return candidate
    return None


KIND_ORDER = ("faq", "recommend", "quote", "lead", "other")
MODES = ("embedded", "production")

LOAD_CLIENT_ENV = {
    "CONCIERGE_RATE_LIMIT_ADDRESS_PER_MINUTE": "1000000",
    "CONCIERGE_RATE_LIMIT_ADDRESS_BURST": "1000000",
}
"""All locust users come from 127.0.0.1: the per-address limit is lifted so that they count
as many visitors (as in benchmarks/chat_latency.py)."""


class LoadError(RuntimeError):
    """The benchmark cannot run (a missing tool, a stack that did not start)."""


# -- results and the report -------------------------------------------------------------


@dataclass
class Run:
    """What one mode measured: every turn as (kind, ms, ok), load seconds, CPU per process."""

    samples: list[tuple[str, float, bool]] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)
    """Why turns failed: ``kind: reason`` and how often."""

    def add(self, samples: Sequence[tuple[str, float, bool]], seconds: float) -> None:
        """Add one locust run's turns and duration."""
        self.samples.extend(samples)
        self.seconds += seconds

    def add_cpu(self, used: Mapping[str, float]) -> None:
        """Add CPU seconds per process."""
        for name, value in used.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + value


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of sorted values (nearest rank: the ceil(q*n)-th); NaN when none."""
    if not values:
        return float("nan")
    return values[max(0, min(len(values), math.ceil(q * len(values))) - 1)]


def _row(mode: str, kind: str, turns: list[tuple[str, float, bool]], seconds: float) -> str:
    times = sorted(ms for _, ms, _ in turns)
    failed = sum(1 for _, _, ok in turns if not ok)
    rate = f"{100 * failed / len(turns):.1f}%" if turns else "-"
    throughput = (len(turns) - failed) / seconds if seconds else 0.0
    p50, p95, p99 = (quantile(times, q) for q in (0.5, 0.95, 0.99))
    return (
        f"| {mode} | {kind} | {len(turns)} | {failed} ({rate}) | {throughput:.2f} "
        f"| {p50:.0f} | {p95:.0f} | {p99:.0f} |"
    )


def report(runs: Mapping[str, Run]) -> str:
    """Return the Markdown tables: turns per mode and kind, then CPU seconds per process."""
    lines = [
        "| mode | kind of turn | requests | failures (error rate) | successful req/s "
        "| p50 ms | p95 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, run in runs.items():
        kinds = [k for k in KIND_ORDER if any(s[0] == k for s in run.samples)]
        kinds += sorted({s[0] for s in run.samples} - set(kinds))
        for kind in kinds:
            lines.append(_row(mode, kind, [s for s in run.samples if s[0] == kind], run.seconds))
        lines.append(_row(mode, "**all**", run.samples, run.seconds))
    lines += [
        "",
        "CPU seconds used during the load (user + system, each process with its children):",
        "",
        "| mode | process | CPU s | CPU s per successful turn (ms) |",
        "|---|---|---:|---:|",
    ]
    for mode, run in runs.items():
        ok = sum(1 for s in run.samples if s[2])
        for name, used in sorted(run.cpu.items(), key=lambda item: -item[1]):
            per_turn = f"{1000 * used / ok:.1f}" if ok else "-"
            lines.append(f"| {mode} | {name} | {used:.1f} | {per_turn} |")
        total = sum(run.cpu.values())
        per_turn = f"{1000 * total / ok:.1f}" if ok else "-"
        lines.append(f"| {mode} | **all** | {total:.1f} | {per_turn} |")
    failures = [(mode, p, n) for mode, run in runs.items() for p, n in run.problems.most_common()]
    if failures:
        lines += ["", "Failed turns, by reason:", ""]
        lines += [f"- {mode}, {problem}: {n}" for mode, problem, n in failures]
    return "\n".join(lines)


def read_samples(path: Path) -> tuple[list[tuple[str, float, bool]], float, Counter[str]]:
    """Read the turns, load seconds and failure reasons the locustfile wrote."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        samples = [(str(k), float(ms), bool(ok)) for k, ms, ok, *_ in data["samples"]]
        problems = Counter(
            f"{row[0]}: {row[3]}" for row in data["samples"] if len(row) > 3 and not row[2]
        )
        return samples, float(data["seconds"]), problems
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LoadError(f"locust wrote no readable samples to {path}: {error}") from error


# -- CPU time of process trees (Linux /proc) --------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, own CPU s, reaped children's CPU s) of ``pid``, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    ppid = int(fields[1])
    own = (int(fields[11]) + int(fields[12])) / _TICKS
    reaped = (int(fields[13]) + int(fields[14])) / _TICKS
    return ppid, own, reaped


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def process_name(argv: Sequence[str]) -> str:
    """A short name for a process from its command line (``rasa``, ``bot.serve``...)."""
    if "-m" in argv and argv.index("-m") + 1 < len(argv):
        module = argv[argv.index("-m") + 1]
        rest = argv[argv.index("-m") + 2 :]
        if module == "bot.cli" and rest:
            return f"concierge {rest[0]}"
        return module
    for part in argv:
        if Path(part).name in {"rasa", "locust", "chroma"}:
            return Path(part).name
    return Path(argv[0]).name if argv else "?"


def _all_stats() -> dict[int, tuple[int, float, float]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def _children(stats: Mapping[int, tuple[int, float, float]]) -> dict[int, list[int]]:
    """Each pid's child pids, from ``_all_stats``'s parent pids."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    return children


def cpu_by_process(root: int, exclude: set[int] | frozenset[int] = frozenset()) -> dict[str, float]:
    """CPU seconds of every child of ``root``, each summed with its own descendants."""
    stats = _all_stats()
    children = _children(stats)

    def tree(pid: int) -> float:
        _, own, reaped = stats[pid]
        return own + reaped + sum(tree(child) for child in children.get(pid, []))

    used: dict[str, float] = {}
    for child in sorted(children.get(root, [])):
        if child in exclude:
            continue
        name = process_name(_cmdline(child))
        key, n = name, 1
        while key in used:
            n += 1
            key = f"{name} #{n}"
        used[key] = tree(child)
    return used


SERVICES = {
    "postgres": "PostgreSQL (service)",
    "beam.smp": "RabbitMQ (service)",
    "erl_child_setup": "RabbitMQ (service)",
    "redis-server": "Redis (service)",
}
"""Process names (``comm`` in ``/proc/PID/stat``) of the engines production mode talks to."""


def _comm(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return raw[raw.index("(") + 1 : raw.rindex(")")]


def service_cpu(root: int) -> dict[str, float]:
    """CPU seconds of the PostgreSQL, RabbitMQ and Redis servers not started under ``root``.

    Every process of a service counts its own time and its reaped children's (a PostgreSQL
    backend that ended is in the postmaster's); a live process is counted once, so the sum
    has no double counting. A service the stack runs itself is already in its tree.
    """
    stats = _all_stats()
    children = _children(stats)
    ours: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        ours.add(pid)
        todo.extend(children.get(pid, []))
    used: dict[str, float] = {}
    for pid, (_, own, reaped) in stats.items():
        name = SERVICES.get(_comm(pid))
        if name is not None and pid not in ours:
            used[name] = used.get(name, 0.0) + own + reaped
    return used


def cpu_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """CPU seconds used between two readings, per process."""
    return {name: max(0.0, value - before.get(name, 0.0)) for name, value in after.items()}


# -- stacks ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    """A running mode: its gateway URLs (comma-separated) and the pid whose children run it."""

    mode: str
    gateway: str
    root: int
    exclude: frozenset[int] = frozenset()


@contextlib.contextmanager
def embedded(model: Path, root: Path) -> Iterator[Stack]:
    """What ``concierge run`` starts, on free ports, with a fresh data directory."""
    settings = Settings(
        data_dir=root / "embedded",
        rasa_url=f"http://127.0.0.1:{_free_port()}",
        action_server_url=f"http://127.0.0.1:{_free_port()}",
        gateway_host="127.0.0.1",
        gateway_port=_free_port(),
        worker_health_url=f"http://127.0.0.1:{_free_port()}",
        rasa_auth_token=SecretStr(secrets.token_hex(32)),
    )
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.sqlalchemy_url)
    ingest_content(settings)
    specs = [
        replace(s, env={**s.env, **LOAD_CLIENT_ENV}) if s.name == "gateway" else s
        for s in [*build_specs(settings, model), worker_spec(settings)]
    ]
    with Supervisor(specs, settings.data_dir / "logs") as group:
        try:
            group.wait_until_ready(timeout=600)
        except SupervisorError as error:
            raise LoadError(f"the embedded stack did not start: {error}") from error
        yield Stack("embedded", f"http://127.0.0.1:{settings.gateway_port}", os.getpid())


def _has_production_cli() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--help"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done.returncode == 0 and "--production" in done.stdout


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (replicas take consecutive ports)."""
    for _ in range(200):
        base = _free_port()
        if base + count > 65535:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise LoadError(f"no {count} consecutive free ports")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
            return int(response.status) == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


PRODUCTION_SERVICES = (
    "CONCIERGE_DATABASE_URL",
    "CONCIERGE_TRACKER_STORE_URL",
    "CONCIERGE_REDIS_URL",
    "CONCIERGE_RABBITMQ_URL",
)
"""What production mode's services are: the operator's environment names them."""
PRODUCTION_ENV = (
    *PRODUCTION_SERVICES,
    "CONCIERGE_ENVIRONMENT",
    "CONCIERGE_EVENT_BROKER_QUEUE",
    "CHROMA_HOST",
    "CHROMA_PORT",
)
"""Variables only production mode reads here; the embedded stack runs without them."""


@contextlib.contextmanager
def production_env_apart() -> Iterator[dict[str, str]]:
    """Take ``PRODUCTION_ENV`` out of this process's environment (children inherit it)."""
    taken = {name: os.environ.pop(name) for name in PRODUCTION_ENV if name in os.environ}
    try:
        yield taken
    finally:
        os.environ.update(taken)


def _descendants(root: int) -> list[int]:
    parents = {pid: stat[0] for pid, stat in _all_stats().items()}
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


@contextlib.contextmanager
def production(
    model: Path, root: Path, replicas: int, services: Mapping[str, str]
) -> Iterator[Stack]:
    """``concierge run --production`` with ``replicas`` of each server, on free ports.

    ``services`` are the operator's ``PRODUCTION_ENV`` variables (without ``CHROMA_HOST``
    the command starts a chroma server of its own).
    """
    if not _has_production_cli():
        raise LoadError("production mode needs `concierge run --production`, not in this checkout")
    missing = [name for name in PRODUCTION_SERVICES if not services.get(name)]
    if missing:
        raise LoadError(f"production mode needs {', '.join(missing)} (docs/production.md)")
    data_dir = root / "production"
    data_dir.mkdir(parents=True)
    gateway_port = _free_ports(replicas)
    env = {
        **os.environ,
        **services,
        **LOAD_CLIENT_ENV,
        "CONCIERGE_ENVIRONMENT": "production",
        "CONCIERGE_DATA_DIR": str(data_dir),
        "CONCIERGE_RASA_URL": f"http://127.0.0.1:{_free_ports(replicas)}",
        "CONCIERGE_ACTION_SERVER_URL": f"http://127.0.0.1:{_free_ports(replicas)}",
        "CONCIERGE_GATEWAY_HOST": "127.0.0.1",
        "CONCIERGE_GATEWAY_PORT": str(gateway_port),
        "CONCIERGE_WORKER_HEALTH_URL": f"http://127.0.0.1:{_free_port()}",
        "CONCIERGE_RASA_REPLICAS": str(replicas),
        "CONCIERGE_ACTION_SERVER_REPLICAS": str(replicas),
        "CONCIERGE_GATEWAY_REPLICAS": str(replicas),
    }
    env.setdefault("CONCIERGE_RASA_AUTH_TOKEN", secrets.token_hex(32))
    env.setdefault("CONCIERGE_CONVERSATION_TOKEN_SECRET", secrets.token_hex(32))
    argv = [sys.executable, "-m", "bot.cli", "run", "--production", "--model", str(model)]
    if not services.get("CHROMA_HOST"):
        env.update({"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(_free_port())})
        argv.append("--start-chroma")
    output = data_dir / "run.log"
    with output.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            argv, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    gateways = [f"http://127.0.0.1:{gateway_port + i}" for i in range(replicas)]
    try:
        deadline = time.monotonic() + 900
        while b"Concierge is up" not in output.read_bytes() or not all(
            _healthy(f"{url}/api/channels/web/health") for url in gateways
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = output.read_text(errors="replace")[-3000:]
                raise LoadError(f"the production stack did not start:\n{tail}")
            time.sleep(1)
        yield Stack("production", ",".join(gateways), process.pid)
    finally:
        left = _descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the command stops what it started
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
        for pid in left:  # whatever outlived it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


# -- locust ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """How hard to push: users, spawn rate, seconds per run and the pause between turns."""

    users: int
    spawn_rate: float
    seconds: int
    think: str


def run_locust(locust: Path, stack: Stack, load: Load, out: Path) -> tuple[Run, float]:
    """Run locust headless against ``stack``; return its turns, stack CPU and locust's CPU."""
    samples_path = out / f"{stack.mode}-{time.monotonic_ns()}.json"
    argv = [
        str(locust), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "-u", str(load.users), "-r", str(load.spawn_rate), "-t", f"{load.seconds}s",
        "--host", stack.gateway.split(",")[0], "--gateways", stack.gateway,
        "--stop-timeout", "30", "--exit-code-on-error", "0",
        "--loglevel", "WARNING", "--think-seconds", load.think,
        "--samples-out", str(samples_path),
    ]  # fmt: skip
    before = {**cpu_by_process(stack.root, stack.exclude), **service_cpu(stack.root)}
    children_before = os.times()
    with (out / f"{stack.mode}-locust.log").open("ab") as log:
        done = subprocess.run(  # noqa: S603 - our own locust command
            argv, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    children_after = os.times()
    after = {**cpu_by_process(stack.root, stack.exclude), **service_cpu(stack.root)}
    if done.returncode != 0:
        raise LoadError(f"locust exited with {done.returncode} (log in {out})")
    samples, seconds, problems = read_samples(samples_path)
    run = Run()
    run.add(samples, seconds)
    run.problems.update(problems)
    run.add_cpu(cpu_delta(before, after))
    locust_cpu = (children_after.children_user - children_before.children_user) + (
        children_after.children_system - children_before.children_system
    )
    return run, locust_cpu


def measure(
    stacks: Sequence[Stack], locust: Path, load: Load, rounds: int, out: Path
) -> dict[str, Run]:
    """Alternate the modes round by round; add locust's own CPU as a process of each mode."""
    warm = Load(users=2, spawn_rate=2, seconds=10, think="0,0")
    for stack in stacks:  # models, caches and connections warm before anything counts
        run_locust(locust, stack, warm, out)
    runs = {stack.mode: Run() for stack in stacks}
    for _ in range(rounds):
        for stack in stacks:
            measured, locust_cpu = run_locust(locust, stack, load, out)
            runs[stack.mode].add(measured.samples, measured.seconds)
            runs[stack.mode].problems.update(measured.problems)
            runs[stack.mode].add_cpu({**measured.cpu, "locust (load generator)": locust_cpu})
    return runs


def main(argv: list[str] | None = None) -> int:
    """Start each mode, load it with locust, print Markdown."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--modes", default="embedded", help="comma-separated: embedded,production")
    parser.add_argument(
        "--model", type=Path, default=PROJECT_ROOT / ".data/models/concierge.tar.gz"
    )
    parser.add_argument("--users", type=int, default=16, help="concurrent locust users")
    parser.add_argument("--spawn-rate", type=float, default=4.0, help="users started per second")
    parser.add_argument("--seconds", type=int, default=60, help="load seconds per mode and round")
    parser.add_argument("--rounds", type=int, default=1, help="rounds, alternating the modes")
    parser.add_argument("--think", default="0.5,2", help="pause between turns: MIN,MAX seconds")
    parser.add_argument("--replicas", type=int, default=2, help="production: of each server")
    parser.add_argument("--locust", type=Path, default=find_locust(), help="locust executable")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown or not modes:
        parser.error(f"unknown mode(s) {', '.join(unknown) or '(none)'}; choose from {MODES}")
    if args.locust is None or not args.locust.exists():
        parser.error(f"no locust at {args.locust}: `make bench-load` installs it")
    if min(args.users, args.seconds, args.rounds, args.replicas) < 1:
        parser.error("--users, --seconds, --rounds and --replicas must be at least 1")
    load = Load(args.users, args.spawn_rate, args.seconds, args.think)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="concierge-load-") as tmp,
            contextlib.ExitStack() as es,
            production_env_apart() as services,
        ):
            root = Path(tmp)
            stacks = [
                es.enter_context(
                    embedded(args.model, root)
                    if mode == "embedded"
                    else production(args.model, root, args.replicas, services)
                )
                for mode in modes
            ]
            others = frozenset(s.root for s in stacks if s.root != os.getpid())
            for stack in stacks:  # the production CLI is a child of this process too
                if stack.root == os.getpid():
                    stack.exclude = others
            runs = measure(stacks, args.locust, load, args.rounds, root)
    except (LoadError, SupervisorError) as error:
        print(f"load benchmark failed: {error}", file=sys.stderr)
        return 1
    print(
        f"{args.users} users (spawn {args.spawn_rate}/s), {args.seconds} s per mode and round, "
        f"{args.rounds} round(s), pause {args.think} s between turns, model {args.model}\n"
    )
    print(report(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
