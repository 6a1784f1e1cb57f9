"""Where a turn's time goes: Rasa's graph nodes, the tracker store, the action call, the KB.

Run from the project root in the app's environment::

    .venv/bin/python -m benchmarks.turn_profile --model .data/models/concierge.tar.gz

It starts the action server on the demo content, then runs the benchmark conversation of
``benchmarks/chat_latency.py`` through a Rasa ``Agent`` loaded in a child process of Rasa's
environment (the SQLite tracker store and event broker ``make run`` uses, and the action
response validation its REST channel installs), timing every graph node (NLU
components, policies), the tracker store's reads and writes and the call to the action
server. In this process it then times the knowledge base's stages for the knowledge turns:
the question's embedding, hybrid retrieval and the answer's composition. The gateway's share
is what ``benchmarks/chat_latency.py`` reports as its overhead. Prints Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


# -- inside Rasa's environment -----------------------------------------------------------


def _category(node: str) -> str:
    """Group a graph node name into the profile's rows."""
    name = node.lower()
    rows = [
        ("tokenizer", "NLU: tokenizer"),
        ("minilm", "NLU: MiniLM featurisation"),
        ("languagemodel", "NLU: LanguageModelFeaturizer"),
        ("regexfeaturizer", "NLU: regex and lookup features"),
        ("countvectors", "NLU: n-gram features"),
        ("dietclassifier", "NLU: DIET"),
        ("linearintent", "NLU: linear intent classifier"),
        ("crfentity", "NLU: CRF entities"),
        ("synonym", "NLU: synonyms"),
        ("fallbackclassifier", "NLU: fallback classifier"),
        ("tedpolicy", "policies: TED"),
        ("rulepolicy", "policies: rules"),
        ("memoization", "policies: memoization"),
    ]
    for needle, label in rows:
        if needle in name:
            return label
    if "policy" in name or "prediction" in name:
        return "policies: ensemble and selection"
    return "Rasa graph: other nodes"


def inner(model: str, action_url: str, tracker_db: str, rounds: int) -> dict[str, Any]:
    """Run the conversation through an Agent with timers; return ms per turn by row."""
    from rasa.core.actions import action as rasa_actions
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.engine import graph
    from rasa.utils.endpoints import EndpointConfig

    from benchmarks.conversation import CONVERSATION
    from rasa_addons.rest_channel import RestInput
    from rasa_addons.sqlite import SQLiteEventBroker, SQLiteTrackerStore

    totals: dict[str, float] = defaultdict(float)
    original_call = graph.GraphNode.__call__

    def timed_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_call(self, *args, **kwargs)
        finally:
            totals[_category(self._node_name)] += time.perf_counter() - started

    def timed_async(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started

        return wrapper

    graph.GraphNode.__call__ = timed_call
    remote = rasa_actions.RemoteAction
    remote.run = timed_async("action server call (HTTP, incl. the action)", remote.run)
    sql = SQLiteTrackerStore
    sql.retrieve = timed_async("tracker store: read", sql.retrieve)
    sql.save = timed_async("tracker store: write (incl. the broker)", sql.save)  # type: ignore[method-assign]
    RestInput.from_credentials(None)  # as `rasa run` builds credentials.yml's channel

    async def run() -> dict[str, Any]:
        broker = SQLiteEventBroker(db=str(Path(tracker_db).with_name("events.db")))
        store = SQLiteTrackerStore(dialect="sqlite", db=tracker_db, event_broker=broker)
        agent = Agent.load(
            model,
            tracker_store=store,
            action_endpoint=EndpointConfig(url=f"{action_url}/webhook"),
        )
        for text, _ in CONVERSATION:  # warm-up conversation, not counted
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "warm-up"))
        totals.clear()
        turns, wall = 0, 0.0
        per_turn: list[float] = []
        for round_ in range(rounds):
            sender = f"profile-{round_}-{secrets.token_hex(4)}"
            for text, _ in CONVERSATION:
                started = time.perf_counter()
                await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
                elapsed = time.perf_counter() - started
                per_turn.append(elapsed)
                wall += elapsed
                turns += 1
        return {
            "turns": turns,
            "turn_ms_mean": 1000 * wall / turns,
            "turn_ms_p50": 1000 * statistics.median(per_turn),
            "rows": {label: 1000 * seconds / turns for label, seconds in totals.items()},
        }

    return asyncio.run(run())


# -- the app's environment ---------------------------------------------------------------


def knowledge_profile(settings: Any, rounds: int) -> dict[str, float]:
    """Time the knowledge base's stages over the conversation's knowledge questions."""
    from benchmarks.conversation import CONVERSATION, KNOWLEDGE
    from knowledge.service import KnowledgeBase

    kb = KnowledgeBase(settings.knowledge)
    kb.warm_up()
    totals: dict[str, float] = defaultdict(float)

    def timed(label: str, owner: Any, attribute: str) -> None:
        function = getattr(owner, attribute)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started

        setattr(owner, attribute, wrapper)

    timed("KB: embedding (every encode call)", kb.encoder, "encode")
    timed("KB: hybrid retrieval (dense + BM25 + fusion)", kb.retriever, "search")
    timed("KB: extractive answer (incl. its sentence embeddings)", kb.answerer, "answer")
    questions = [text for text, kind in CONVERSATION if kind == KNOWLEDGE]
    for question in questions:  # warm-up
        kb.ask(question)
    totals.clear()
    started = time.perf_counter()
    for _ in range(rounds):
        for question in questions:
            kb.ask(question)
    count = rounds * len(questions)
    total = 1000 * (time.perf_counter() - started) / count
    rows = {label: 1000 * seconds / count for label, seconds in totals.items()}
    rows["KB: ask() total"] = total
    return rows


def main(argv: list[str] | None = None) -> int:
    """Start the action server, profile Rasa in a child process and the KB here."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.turn_profile")
    parser.add_argument("--model", default=str(ROOT / ".data/models/concierge.tar.gz"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--action-url", help=argparse.SUPPRESS)
    parser.add_argument("--tracker-db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        print(json.dumps(inner(args.model, args.action_url, args.tracker_db, args.rounds)))
        return 0
    # The app's environment from here on (Rasa's has no pydantic-settings).
    from pydantic import SecretStr

    from benchmarks.chat_latency import _free_port
    from bot.supervisor import Supervisor, build_specs, ingest_content
    from core.config import Settings
    from core.storage.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="concierge-profile-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            action_server_url=f"http://127.0.0.1:{_free_port()}",
            rasa_auth_token=SecretStr(secrets.token_urlsafe(16)),
        )
        upgrade(settings.sqlalchemy_url)
        ingest_content(settings)
        specs = [s for s in build_specs(settings, Path(args.model)) if s.name == "action server"]
        with Supervisor(specs, Path(tmp) / "logs") as group:
            group.wait_until_ready(timeout=300)
            env = {
                **os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
                "RASA_TELEMETRY_ENABLED": "false",
            }  # fmt: skip
            child = subprocess.run(  # noqa: S603 - argv of our own
                [str(RASA_PYTHON), "-m", "benchmarks.turn_profile", "--inner",
                 "--model", args.model, "--action-url", settings.action_server_url,
                 "--tracker-db", str(Path(tmp) / "tracker.db"), "--rounds", str(args.rounds)],
                cwd=ROOT, env=env, check=False, capture_output=True, text=True,
            )  # fmt: skip
        if child.returncode != 0:
            print(child.stderr[-4000:], file=sys.stderr)
            return 1
        rasa = json.loads(child.stdout.strip().splitlines()[-1])
        kb = knowledge_profile(settings, args.rounds)
    print(
        f"{rasa['turns']} turns ({args.rounds} rounds of the benchmark conversation), one sender; "
        f"turn mean {rasa['turn_ms_mean']:.1f} ms, p50 {rasa['turn_ms_p50']:.1f} ms\n"
    )
    print("| where (Rasa process, per turn) | mean ms per turn | share of the turn |")
    print("|---|---:|---:|")
    rows = sorted(rasa["rows"].items(), key=lambda item: -item[1])
    for label, ms in rows:
        print(f"| {label} | {ms:.1f} | {100 * ms / rasa['turn_ms_mean']:.0f}% |")
    other = rasa["turn_ms_mean"] - sum(ms for _, ms in rows)
    print(f"| Rasa: everything else (processor, events, serialisation) | {other:.1f} "
          f"| {100 * other / rasa['turn_ms_mean']:.0f}% |")  # fmt: skip
    print("\n| where (knowledge base, per knowledge question, in process) | mean ms |")
    print("|---|---:|")
    for label, ms in kb.items():
        print(f"| {label} | {ms:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
