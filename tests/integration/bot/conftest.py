"""Fixtures for the gateway's integration tests: the real app, a stand-in Rasa, a content folder.

The stand-in Rasa (:class:`tests.support.rasa.StandInRasa`) is an ``httpx.MockTransport``
injected into the app's HTTP client; it answers in the shapes Rasa documents and only stands
in for Rasa in these gateway tests (the end-to-end suite talks to the real one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from core.config import Settings
from core.storage.migrate import upgrade
from tests.support.rasa import StandInRasa, closed_port

FakeRasa = StandInRasa
"""The stand-in Rasa's type, under the name the tests use."""

# --- a stand-in Rasa ---------------------------------------------------------------------------


@pytest.fixture
def fake_rasa() -> StandInRasa:
    """A stand-in Rasa (an ``httpx.MockTransport``); pass it as ``make_client(rasa=...)``."""
    return StandInRasa()


@pytest.fixture
def closed_url() -> str:
    return f"http://127.0.0.1:{closed_port()}"


# --- content, settings and the app ------------------------------------------------------------

SHIPPING_MD = """# Shipping

We ship from our workshop.

## International Shipping

- EU: 3-5 days
- UK & Switzerland: 5-8 days

Duties are **included**. See <script>alert(1)</script> for nothing.

## Returns & Refunds

1. Unused items within 30 days.
2. Keep the packaging.
"""

FAQ_CSV = """question,answer
How long is the return window?,30 days from delivery.
Do you ship to Norway?,"Yes, duties are paid by the customer."
"""

CATALOG = {
    "company": "Kestrel Coffee Works",
    "currency": "EUR",
    "products": [
        {
            "id": "km-100",
            "name": "Kestrel Mini 100",
            "category": "espresso-machines",
            "price": 349.0,
            "currency": "EUR",
            "price_unit": "one-off",
            "stock": "in_stock",
            "summary": "Compact entry-level espresso machine.",
        },
        {
            "id": "kg-50",
            "name": "Kestrel Grind <50>",
            "category": "grinders",
            "price": 1290.0,
            "currency": "EUR",
            "price_unit": "one-off",
            "stock": "out_of_stock",
            "summary": "Flat-burr grinder & more.",
        },
        {
            "id": "care-plan",
            "name": "Care Plan",
            "category": "service-plans",
            "price": 12.5,
            "currency": "EUR",
            "price_unit": "per month",
            "stock": "in_stock",
            "summary": "Yearly service visit.",
        },
    ],
}


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "shipping.md").write_text(SHIPPING_MD, encoding="utf-8")
    (root / "faq.csv").write_text(FAQ_CSV, encoding="utf-8")
    (root / "catalog.json").write_text(json.dumps(CATALOG), encoding="utf-8")
    (root / ".env").write_text("SECRET=1", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("top secret", encoding="utf-8")
    return root


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path, content_dir: Path, closed_url: str) -> SettingsFactory:
    """Build settings in a temporary data directory; keyword arguments override fields."""

    def build(
        *, migrate: bool = True, rasa: StandInRasa | None = None, **overrides: Any
    ) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "content_dir": content_dir,
            "database_url": None,
            "catalog_path": None,
            "rasa_url": closed_url,
            "action_server_url": closed_url,
            "rasa_timeout_seconds": 2.0,
        }
        if rasa is not None:
            values.update(rasa_url=rasa.url, rasa_auth_token=rasa.auth_token)
        values.update(overrides)
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        if migrate:
            upgrade(settings.sqlalchemy_url)
        return settings

    return build


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(make_settings: SettingsFactory) -> Iterator[ClientFactory]:
    """Start the real app (lifespan included) for settings built from the overrides.

    ``rasa=fake_rasa`` points the app at the stand-in Rasa and injects its transport.
    """
    clients: list[TestClient] = []

    def build(*, rasa: StandInRasa | None = None, **overrides: Any) -> TestClient:
        transport = rasa.transport if rasa is not None else None
        client = TestClient(create_app(make_settings(rasa=rasa, **overrides), transport=transport))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)
