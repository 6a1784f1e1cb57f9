"""Time Rasa's NLU parse of trained models side by side, in one process, turn by turn.

Run it in Rasa's environment from the project root::

    .venv-rasa/bin/python -m benchmarks.nlu_latency OLD.tar.gz NEW.tar.gz [--rounds 3]

Every message of the held-out file ``tests/nlu/test_nlu.yml`` is parsed by each model in
turn (A B A B ...), so a machine whose speed drifts slows both alike; the script prints p50
and p95 per model in milliseconds and the share of parses that failed or gave no intent.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ROOT / "tests" / "nlu" / "test_nlu.yml"
_ENTITY = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]*\})")


def held_out_messages(path: Path = HELD_OUT) -> list[str]:
    """Return the plain texts of the held-out NLU examples (entity markup removed)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    texts: list[str] = []
    for block in data.get("nlu", []):
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                texts.append(_ENTITY.sub(r"\1", line[2:]).strip())
    return [t for t in texts if t]


def main(argv: list[str] | None = None) -> int:
    """Load each model, warm it up, and time its parses interleaved with the others'."""
    from rasa.core.agent import Agent

    parser = argparse.ArgumentParser(prog="python -m benchmarks.nlu_latency")
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    texts = held_out_messages()
    agents = [Agent.load(str(m)) for m in args.models]

    async def run() -> None:
        for agent in agents:  # warm-up: first calls build graphs and caches
            for text in texts[:5]:
                await agent.parse_message(text)
        times: list[list[float]] = [[] for _ in agents]
        failures = [0 for _ in agents]
        for _ in range(args.rounds):
            for text in texts:
                for index, agent in enumerate(agents):
                    started = time.perf_counter()
                    try:
                        parsed = await agent.parse_message(text)
                        if not (parsed.get("intent") or {}).get("name"):
                            failures[index] += 1
                    except Exception:  # a failed parse counts, it is not skipped
                        failures[index] += 1
                    times[index].append((time.perf_counter() - started) * 1000)
        print("| model | parses | p50 ms | p95 ms | failed or empty |")
        print("|---|---|---|---|---|")
        for model, series, failed in zip(args.models, times, failures, strict=True):
            ordered = sorted(series)
            p95 = ordered[int(0.95 * (len(ordered) - 1))]
            print(
                f"| {model} | {len(series)} | {statistics.median(series):.1f} | {p95:.1f} "
                f"| {failed} |"
            )

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
