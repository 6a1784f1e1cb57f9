"""Chat latency through the gateway and directly against Rasa's REST webhook, in one run.

Starts the real assistant (Rasa, action server, gateway) on free ports, then sends N
concurrent senders x M turns of a realistic conversation, alternating gateway and direct
rounds so that both see the same machine state. Prints p50/p95 latency, messages per
second and the gateway/direct ratio as Markdown.

    .venv/bin/python -m benchmarks.chat_latency --senders 4 --turns 10 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from bot.supervisor import Supervisor, build_specs, ingest_content
from core.config import PROJECT_ROOT, Settings
from core.storage.migrate import upgrade

CONVERSATION = [
    "hello",
    "what is the return window for a grinder?",
    "how much does the Kestrel Barista Pro 300 cost?",
    "can you recommend an espresso machine under 800 euros?",
    "do you ship to Austria?",
    "how long is the warranty on espresso machines?",
    "my machine shows error E3",
    "thanks!",
    "are you a bot?",
    "what are your support hours?",
]


@dataclass
class Result:
    """Latencies (seconds) of one target and the wall time they took."""

    latencies: list[float]
    wall_seconds: float

    def p(self, q: float) -> float:
        """Return the q-quantile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def rate(self) -> float:
        """Messages per second."""
        return len(self.latencies) / self.wall_seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _sender(
    client: httpx.AsyncClient, url: str, body_of: str, turns: int, out: list[float]
) -> None:
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    for turn in range(turns):
        text = CONVERSATION[turn % len(CONVERSATION)]
        body = (
            {"sender_id": sender, "message": text}
            if body_of == "gateway"
            else {"sender": sender, "message": text}
        )
        started = time.perf_counter()
        response = await client.post(url, json=body)
        out.append(time.perf_counter() - started)
        response.raise_for_status()


async def _round(url: str, body_of: str, senders: int, turns: int) -> Result:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(_sender(client, url, body_of, turns, latencies) for _ in range(senders))
        )
        return Result(latencies, time.perf_counter() - started)


async def _check_model(rasa: str, token: str) -> None:
    """Fail early unless Rasa's API (behind its auth token) names a loaded model."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{rasa}/status", params={"token": token})
        response.raise_for_status()
        if not response.json().get("model_file"):
            raise RuntimeError("Rasa is up but has no model loaded")


async def _measure(
    gateway: str, rasa: str, token: str, senders: int, turns: int, rounds: int
) -> dict[str, Result]:
    await _check_model(rasa, token)
    # The REST webhook is Rasa's channel, not its HTTP API: the token does not apply there.
    targets = {
        "gateway": f"{gateway}/api/chat",
        "direct": f"{rasa}/webhooks/rest/webhook",
    }
    await _round(targets["gateway"], "gateway", senders, 3)  # warm caches and connections
    await _round(targets["direct"], "direct", senders, 3)
    pooled = {name: Result([], 0.0) for name in targets}
    for _ in range(rounds):
        for name, url in targets.items():
            result = await _round(url, name, senders, turns)
            pooled[name].latencies += result.latencies
            pooled[name].wall_seconds += result.wall_seconds
    return pooled


def main() -> int:
    """Start the assistant, measure, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / ".data/models/concierge.tar.gz"))
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    token = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="concierge-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            rasa_url=f"http://127.0.0.1:{_free_port()}",
            action_server_url=f"http://127.0.0.1:{_free_port()}",
            gateway_port=_free_port(),
            rasa_auth_token=SecretStr(token),
        )
        upgrade(settings.sqlalchemy_url)
        ingest_content(settings)
        specs = build_specs(settings, Path(args.model), auth_token=token)
        with Supervisor(specs, Path(tmp) / "logs") as group:
            group.wait_until_ready(timeout=300)
            results = asyncio.run(
                _measure(
                    settings.base_url,
                    settings.rasa_url,
                    token,
                    args.senders,
                    args.turns,
                    args.rounds,
                )
            )
    gateway, direct = results["gateway"], results["direct"]
    print(
        f"{args.senders} concurrent senders x {args.turns} turns x {args.rounds} rounds "
        f"({len(gateway.latencies)} messages per target)\n"
    )
    print("| target | p50 ms | p95 ms | messages/s |")
    print("|---|---|---|---|")
    for name, result in results.items():
        print(f"| {name} | {result.p(0.5):.1f} | {result.p(0.95):.1f} | {result.rate:.1f} |")
    ratio = gateway.p(0.5) / direct.p(0.5)
    print(f"\ngateway/direct p50 ratio: {ratio:.3f} (overhead {100 * (ratio - 1):+.1f}%)")
    print(f"mean: gateway {1000 * statistics.mean(gateway.latencies):.1f} ms, "
          f"direct {1000 * statistics.mean(direct.latencies):.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
