"""Shared helpers of the deployment-file tests: the rules every container must follow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
ENDPOINTS = PROJECT_ROOT / "endpoints.production.yml"
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "KEY")

# What the app's processes read in production (docs/production.md, docs/configuration.md).
APP_PRODUCTION_VARIABLES = frozenset(
    {
        "CONCIERGE_ENVIRONMENT",
        "CONCIERGE_DATABASE_URL",
        "CONCIERGE_REDIS_URL",
        "CONCIERGE_RABBITMQ_URL",
        "CHROMA_HOST",
        "CHROMA_PORT",
        "CONCIERGE_RASA_URL",
        "CONCIERGE_ACTION_SERVER_URL",
        "CONCIERGE_RASA_AUTH_TOKEN",
        "CONCIERGE_CONVERSATION_TOKEN_SECRET",
        "CONCIERGE_LOG_PSEUDONYM_KEY",
        "CONCIERGE_PUBLIC_URL",
        "CONCIERGE_DATA_DIR",
    }
)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret."""
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def rasa_variables() -> set[str]:
    """The ``${VARS}`` endpoints.production.yml reads, plus the HTTP API's token."""
    found = set(re.findall(r"\$\{([A-Z0-9_]+)\}", ENDPOINTS.read_text(encoding="utf-8")))
    return found | {"CONCIERGE_RASA_AUTH_TOKEN"}


def image_problem(image: object) -> str | None:
    """Why an image reference is not pinned (None when it is)."""
    if not isinstance(image, str) or not image:
        return "no image"
    if "@sha256:" in image:
        return None
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return f"{image}: no tag"
    if tag == "latest" or not re.search(r"\d", tag):
        return f"{image}: tag {tag!r} is not a pinned version"
    return None


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No CONCIERGE_*/CHROMA_* variable from outside and no .env in the working directory."""
    import os

    for name in list(os.environ):
        if name.startswith(("CONCIERGE_", "CHROMA_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield monkeypatch
