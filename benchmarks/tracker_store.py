"""Rasa's SQLite tracker store and event broker against the project's (``rasa_addons.sqlite``).

Run from the project root in Rasa's environment::

    PYTHONPATH=. .venv-rasa/bin/python -m benchmarks.tracker_store --conversations 30

For each pair (Rasa's ``SQLTrackerStore`` + ``SQLEventBroker``, then the project's
``SQLiteTrackerStore`` + ``SQLiteEventBroker``), on fresh files in a temporary folder under
``.data/``: conversations of 10 turns of 4 events each (a greeting, the bot's action and
reply, listening), a ``retrieve`` before and a ``save`` after every turn, as Rasa's processor
does. Prints a Markdown table of the milliseconds per call.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TURNS = 10


async def measure(store: Any, conversations: int) -> tuple[list[float], list[float]]:
    """Run the conversations through ``store``; return the retrieve and save times (s)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    reads: list[float] = []
    saves: list[float] = []
    for number in range(conversations):
        sender = f"sender-{number}"
        tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen")])
        for _ in range(TURNS):
            started = time.perf_counter()
            await store.retrieve(sender)
            reads.append(time.perf_counter() - started)
            for event in (
                UserUttered("hello there", {"name": "greet", "confidence": 1.0}),
                ActionExecuted("utter_greet"),
                BotUttered("Hi! How can I help?"),
                ActionExecuted("action_listen"),
            ):
                tracker.update(event)
            started = time.perf_counter()
            await store.save(tracker)
            saves.append(time.perf_counter() - started)
    return reads, saves


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


async def run(conversations: int) -> str:
    """Measure both pairs; return the Markdown table."""
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from rasa_addons.sqlite import SQLiteEventBroker, SQLiteTrackerStore

    pairs = [
        ("Rasa's SQLTrackerStore + SQLEventBroker", SQLTrackerStore, SQLEventBroker),
        ("rasa_addons.sqlite (shipped)", SQLiteTrackerStore, SQLiteEventBroker),
    ]
    lines = [
        "| tracker store + broker | retrieve p50 ms | retrieve p90 ms | save p50 ms "
        "| save p90 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    (ROOT / ".data").mkdir(exist_ok=True)
    for label, store_class, broker_class in pairs:
        with tempfile.TemporaryDirectory(dir=ROOT / ".data", prefix="store-bench-") as tmp:
            broker = broker_class(db=str(Path(tmp) / "events.db"))
            store = store_class(Domain.empty(), db=str(Path(tmp) / "tracker.db"),
                                event_broker=broker)  # fmt: skip
            reads, saves = await measure(store, conversations)
            store.engine.dispose()
            broker.engine.dispose()
        lines.append(
            f"| {label} | {_ms(reads, 0.5)} | {_ms(reads, 0.9)} | {_ms(saves, 0.5)} "
            f"| {_ms(saves, 0.9)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tracker_store")
    parser.add_argument("--conversations", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"{args.conversations} conversations x {TURNS} turns\n")
    print(asyncio.run(run(args.conversations)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
