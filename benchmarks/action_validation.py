"""Rasa's validation of an action server response: ``jsonschema.validate`` against compiled.

Run from the project root in Rasa's environment::

    PYTHONPATH=. .venv-rasa/bin/python -m benchmarks.action_validation --calls 200

Times Rasa 3.6's ``RemoteAction._validate_action_result`` (``jsonschema.validate``, which
checks the schema against its meta-schema on every call) and ``rasa_addons.action_results``
(the schema checked once) on a knowledge answer's response. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

RESPONSE: dict[str, Any] = {
    "events": [
        {"event": "slot", "name": "contact_topic", "value": "support", "timestamp": None},
        {"event": "slot", "name": "last_answer_id", "value": "a1b2c3", "timestamp": None},
    ],
    "responses": [
        {
            "text": "Returns are accepted within 30 days of delivery, unused and in the box.",
            "buttons": [{"title": "Helpful", "payload": "/feedback_up"}],
            "custom": {"kind": "answer", "sources": [{"title": "Returns", "url": "/docs/r"}]},
        }
    ],
}


def per_call_ms(validate: Any, action: Any, calls: int) -> list[float]:
    """Milliseconds of each of ``calls`` validations of :data:`RESPONSE`."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        validate(action, RESPONSE)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.action_validation")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    from rasa_addons import action_results

    action = RemoteAction("action_answer_question", EndpointConfig("http://127.0.0.1:9"))
    rows = [
        ("Rasa 3.6 (jsonschema.validate)", RemoteAction._validate_action_result),
        ("rasa_addons.action_results (shipped)", action_results.validate_action_result),
    ]
    print(f"{args.calls} validations of a knowledge answer's response\n")
    print("| validation | p50 ms | mean ms |\n|---|---:|---:|")
    for label, validate in rows:
        times = per_call_ms(validate, action, args.calls)
        print(f"| {label} | {statistics.median(times):.2f} | {statistics.mean(times):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
