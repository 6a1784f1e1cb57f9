"""Run in Rasa's environment: Rasa's response validation against the compiled one, as JSON.

Used by tests/unit/rasa_addons/test_action_results.py. Each case is validated by Rasa's own
``RemoteAction._validate_action_result`` and by ``rasa_addons.action_results``; the report
holds both outcomes (True, or the error's message) and how often the schema was checked.
"""

from __future__ import annotations

import json
import sys
from typing import Any

CASES: dict[str, Any] = {
    "empty": {},
    "answer": {
        "events": [{"event": "slot", "name": "contact_topic", "value": "support"}],
        "responses": [
            {
                "text": "Returns are accepted within 30 days.",
                "buttons": [],
                "custom": {"kind": "answer", "sources": [{"title": "Returns", "url": "/r"}]},
            },
        ],
    },
    "events_not_a_list": {"events": {"event": "slot"}},
    "event_without_a_name": {"events": [{"name": "x"}]},
    "unknown_event": {"events": [{"event": "no_such_event"}]},
    "responses_not_a_list": {"responses": "hello"},
}


def outcome(validate: Any, action: Any, result: Any) -> Any:
    """True, or the message of the ``ValidationError`` raised."""
    from jsonschema import ValidationError

    try:
        return validate(action, result)
    except ValidationError as error:
        return error.message


def main() -> int:
    """Print the report as one JSON line."""
    import jsonschema.validators
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    from rasa_addons import action_results

    rasas = RemoteAction._validate_action_result
    action = RemoteAction("action_answer_question", EndpointConfig("http://127.0.0.1:9"))
    report: dict[str, Any] = {"rasa": {}, "ours": {}}
    for name, result in CASES.items():
        report["rasa"][name] = outcome(rasas, action, result)
    checks = 0
    check_schema = jsonschema.validators.Draft202012Validator.check_schema

    def counting(schema: Any) -> None:
        nonlocal checks
        checks += 1
        check_schema(schema)

    jsonschema.validators.Draft202012Validator.check_schema = counting  # type: ignore[method-assign]
    action_results.validate_with_compiled_schema()
    action_results.validate_with_compiled_schema()  # twice: nothing more happens
    for _ in range(3):
        for name, result in CASES.items():
            report["ours"][name] = outcome(RemoteAction._validate_action_result, action, result)
    report["schema_checks"] = checks
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
