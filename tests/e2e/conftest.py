"""The live assistant for end-to-end tests: real Rasa, real action server, real gateway."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from tests.support.stack import LiveStack, running_stack

__all__ = ["LiveStack", "live_stack", "trained_model"]


def trained_model() -> Path:
    """The model `make train` produced (CONCIERGE_MODEL when the Makefile runs the tests)."""
    default = PROJECT_ROOT / ".data" / "models" / "concierge.tar.gz"
    return Path(os.environ.get("CONCIERGE_MODEL", default))


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Start the three processes on free ports with a fresh data directory, once per session."""
    model = trained_model()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it)")
    with running_stack(model, tmp_path_factory.mktemp("live-stack")) as stack:
        yield stack
