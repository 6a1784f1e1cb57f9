"""Rasa checks every action server response against a JSON schema compiled once, not per call.

Rasa 3.6's ``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` on every
response of the action server. ``jsonschema.validate`` first checks the schema itself
against its meta-schema and builds a new validator; with jsonschema 4.17 (Rasa's pin) and a
schema without ``$schema`` that is the draft 2020-12 meta-schema, which alone takes 10-30 ms
of Rasa's event loop on this project's machines, against well under a millisecond for the
response itself (``benchmarks/action_validation.py``). Rasa's schema is a constant, so it is
checked once here and its validator kept; the response is validated by the same validator
class, with the same error (``jsonschema.exceptions.best_match``) and the same message Rasa
appends.

Rasa offers no hook for this, so :func:`validate_with_compiled_schema` replaces the method
on Rasa's class; ``rasa_addons.rest_channel.RestInput`` calls it when Rasa creates the
channel from ``credentials.yml`` (every ``rasa run`` of the project). Calling it again does
nothing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_HINT = (
    ". Failed to validate Action server response from API, make sure your response from the "
    "Action endpoint is valid. For more information about the format visit "
    f"{DOCS_BASE_URL}/custom-actions"
)
"""What Rasa appends to the error's message (its own words)."""


@cache
def response_validator() -> Any:
    """Return the validator of Rasa's action response schema, the schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """Return True when ``result`` is a valid response; raise Rasa's ``ValidationError``."""
    error: ValidationError | None = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += _HINT
        raise error
    return True


def validate_with_compiled_schema() -> None:
    """Make Rasa's ``RemoteAction`` validate responses with :func:`response_validator`."""
    RemoteAction._validate_action_result = validate_action_result
