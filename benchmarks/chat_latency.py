"""Chat latency and throughput: old and new NLU pipelines, gateway and Rasa direct, one run.

Starts one whole assistant (Rasa, action server, gateway) per model on free ports, each with
a fresh data directory, then for 1, 4 and 16 concurrent senders sends a realistic
conversation, alternating models and targets round by round so that every configuration
sees the same machine state:

- ``gateway``: the widget's ``POST /api/chat`` (a new conversation per sender, then its
  ``Authorization: Bearer <token>``, as the widget does);
- ``direct``: Rasa's REST webhook (``/webhooks/rest/webhook``), no gateway in between.

A reply counts only when it is a 200 with at least one non-empty text; anything else (an
error status, a timeout, an empty reply, the gateway's "unavailable" message) is counted as
failed and left out of the latencies. Knowledge turns (answered from the documents) and
other turns are reported apart for one sender. Prints Markdown.

    .venv/bin/python -m benchmarks.chat_latency \\
        --model old=path/to/old.tar.gz --model new=.data/models/concierge.tar.gz
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks.conversation import CONVERSATION, KNOWLEDGE, OTHER
from bot.supervisor import Supervisor, build_specs, ingest_content
from core.config import PROJECT_ROOT, Settings
from core.storage.migrate import upgrade


@dataclass
class Sample:
    """One turn: its kind, latency in seconds and whether the reply was a real answer."""

    kind: str
    seconds: float
    ok: bool


@dataclass
class Result:
    """The samples of one configuration and the wall time they took."""

    samples: list[Sample] = field(default_factory=list)
    wall_seconds: float = 0.0

    def latencies(self, kind: str | None = None) -> list[float]:
        """Latencies (ms) of successful turns, optionally of one kind."""
        return sorted(
            1000 * s.seconds for s in self.samples if s.ok and (kind is None or s.kind == kind)
        )

    @property
    def failed(self) -> int:
        """Turns without a real answer."""
        return sum(1 for s in self.samples if not s.ok)

    @property
    def rate(self) -> float:
        """Successful messages per second."""
        return sum(1 for s in self.samples if s.ok) / self.wall_seconds if self.wall_seconds else 0


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of sorted values (nearest rank); NaN when there are none."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answered(payload: Any) -> bool:
    """Whether a reply body holds at least one non-empty text that is not an outage notice."""
    messages = payload.get("messages") if isinstance(payload, dict) else payload
    if not isinstance(messages, list):
        return False
    texts = [m.get("text") for m in messages if isinstance(m, dict)]
    if isinstance(payload, dict) and payload.get("error"):
        return False
    return any(isinstance(t, str) and t.strip() for t in texts)


class GatewaySender:
    """A widget: starts a conversation, then sends its token with every message."""

    def __init__(self, base: str) -> None:
        """Talk to the gateway at ``base``."""
        self.url = f"{base}/api/chat"
        self.token: str | None = None

    async def send(self, client: httpx.AsyncClient, text: str) -> bool:
        """Send one message; return whether the reply was a real answer."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await client.post(self.url, json={"message": text}, headers=headers)
        if response.status_code != 200:
            return False
        body = response.json()
        self.token = body.get("token") or self.token
        return answered(body)


class DirectSender:
    """A client of Rasa's REST webhook, with its own sender id."""

    def __init__(self, base: str) -> None:
        """Talk to Rasa at ``base``."""
        self.url = f"{base}/webhooks/rest/webhook"
        self.sender = f"bench-{uuid.uuid4().hex[:10]}"

    async def send(self, client: httpx.AsyncClient, text: str) -> bool:
        """Send one message; return whether the reply was a real answer."""
        response = await client.post(self.url, json={"sender": self.sender, "message": text})
        return response.status_code == 200 and answered(response.json())


async def _conversation(
    client: httpx.AsyncClient, sender: GatewaySender | DirectSender, turns: int, out: Result
) -> None:
    for turn in range(turns):
        text, kind = CONVERSATION[turn % len(CONVERSATION)]
        started = time.perf_counter()
        try:
            ok = await sender.send(client, text)
        except (httpx.HTTPError, ValueError):
            ok = False
        out.samples.append(Sample(kind, time.perf_counter() - started, ok))


async def run_round(base: str, target: str, senders: int, turns: int, out: Result) -> None:
    """Run ``senders`` conversations of ``turns`` messages at once; add to ``out``."""
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        clients = [
            GatewaySender(base) if target == "gateway" else DirectSender(base)
            for _ in range(senders)
        ]
        started = time.perf_counter()
        await asyncio.gather(*(_conversation(client, c, turns, out) for c in clients))
        out.wall_seconds += time.perf_counter() - started


@dataclass
class Stack:
    """One running assistant: its gateway and Rasa base URLs."""

    name: str
    gateway: str
    rasa: str
    token: str


LOAD_CLIENT_ENV = {
    "CONCIERGE_RATE_LIMIT_ADDRESS_PER_MINUTE": "1000000",
    "CONCIERGE_RATE_LIMIT_ADDRESS_BURST": "1000000",
}
"""Every sender of this benchmark comes from one address (127.0.0.1): its per-address limit
is lifted so that it is measured as many visitors; the per-conversation limit and the bound
on turns in flight stay as shipped (docs/production.md)."""


@contextlib.contextmanager
def running(name: str, model: Path, root: Path) -> Iterator[Stack]:
    """Start Rasa, the action server and the gateway for ``model`` on free ports."""
    token = secrets.token_urlsafe(32)
    settings = Settings(
        data_dir=root / name,
        rasa_url=f"http://127.0.0.1:{_free_port()}",
        action_server_url=f"http://127.0.0.1:{_free_port()}",
        gateway_port=_free_port(),
        rasa_auth_token=SecretStr(token),
    )
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.sqlalchemy_url)
    ingest_content(settings)
    specs = [
        replace(s, env={**s.env, **LOAD_CLIENT_ENV}) if s.name == "gateway" else s
        for s in build_specs(settings, model, auth_token=token)
        if s.name != "worker"
    ]
    with Supervisor(specs, settings.data_dir / "logs") as group:
        group.wait_until_ready(timeout=600)
        yield Stack(name, settings.base_url, settings.rasa_url, token)


async def measure(
    stacks: list[Stack], sender_counts: list[int], turns: int, rounds: int
) -> dict[tuple[str, str, int], Result]:
    """Alternate stacks and targets round by round for every sender count."""
    results: dict[tuple[str, str, int], Result] = {}
    for stack in stacks:  # warm caches, models and connections
        for target in ("gateway", "direct"):
            await run_round(_base(stack, target), target, 4, len(CONVERSATION), Result())
    for senders in sender_counts:
        for _ in range(rounds):
            for stack in stacks:
                for target in ("gateway", "direct"):
                    key = (stack.name, target, senders)
                    out = results.setdefault(key, Result())
                    await run_round(_base(stack, target), target, senders, turns, out)
    return results


def _base(stack: Stack, target: str) -> str:
    return stack.gateway if target == "gateway" else stack.rasa


def report(results: dict[tuple[str, str, int], Result], sender_counts: list[int]) -> str:
    """Return the Markdown tables."""
    lines = [
        "| pipeline | target | senders | messages | failed or empty | p50 ms | p95 ms "
        "| messages/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (name, target, senders), result in results.items():
        values = result.latencies()
        lines.append(
            f"| {name} | {target} | {senders} | {len(result.samples)} | {result.failed} "
            f"| {quantile(values, 0.5):.1f} | {quantile(values, 0.95):.1f} "
            f"| {result.rate:.1f} |"
        )
    lines += [
        "",
        "One sender, by kind of turn (successful turns):",
        "",
        "| pipeline | target | knowledge p50 ms | knowledge p95 ms | other p50 ms | other p95 ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (name, target, senders), result in results.items():
        if senders != min(sender_counts):
            continue
        know, other = result.latencies(KNOWLEDGE), result.latencies(OTHER)
        lines.append(
            f"| {name} | {target} | {quantile(know, 0.5):.1f} | {quantile(know, 0.95):.1f} "
            f"| {quantile(other, 0.5):.1f} | {quantile(other, 0.95):.1f} |"
        )
    lines += ["", "Gateway overhead (gateway p50 / direct p50 - 1):", ""]
    names = sorted({name for name, _, _ in results}, key=list(dict.fromkeys(
        name for name, _, _ in results)).index)  # fmt: skip
    for name in names:
        for senders in sender_counts:
            gateway = quantile(results[(name, "gateway", senders)].latencies(), 0.5)
            direct = quantile(results[(name, "direct", senders)].latencies(), 0.5)
            mean_g = statistics.fmean(results[(name, "gateway", senders)].latencies() or [0])
            mean_d = statistics.fmean(results[(name, "direct", senders)].latencies() or [0])
            lines.append(
                f"- {name}, {senders} senders: p50 {100 * (gateway / direct - 1):+.1f}%, "
                f"mean {100 * (mean_g / mean_d - 1):+.1f}%"
            )
    return "\n".join(lines)


def _model_arg(value: str) -> tuple[str, Path]:
    name, _, path = value.partition("=")
    if not path:
        name, path = Path(value).name.removesuffix(".tar.gz"), value
    return name, Path(path)


def main(argv: list[str] | None = None) -> int:
    """Start one assistant per model, measure, print Markdown."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chat_latency")
    parser.add_argument(
        "--model", action="append", type=_model_arg, metavar="NAME=PATH",
        help="a trained model (repeat to compare; default: the one `make train` builds)",
    )  # fmt: skip
    parser.add_argument("--senders", default="1,4,16", help="comma-separated sender counts")
    parser.add_argument("--turns", type=int, default=10, help="messages per conversation")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per configuration")
    args = parser.parse_args(argv)
    models = args.model or [("shipped", PROJECT_ROOT / ".data/models/concierge.tar.gz")]
    sender_counts = [int(v) for v in args.senders.split(",")]
    with (
        tempfile.TemporaryDirectory(prefix="concierge-bench-") as tmp,
        contextlib.ExitStack() as es,
    ):
        stacks = [es.enter_context(running(name, path, Path(tmp))) for name, path in models]
        results = asyncio.run(measure(stacks, sender_counts, args.turns, args.rounds))
    print(
        f"{args.turns} turns per conversation, {args.rounds} round(s) per configuration, "
        f"models: {', '.join(f'{n}={p}' for n, p in models)}\n"
    )
    print(report(results, sender_counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
