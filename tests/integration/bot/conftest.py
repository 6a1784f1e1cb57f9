"""Fixtures for the gateway's integration tests: the real app, a stand-in Rasa, a content folder.

The stand-in Rasa (:class:`FakeRasa`) is a tiny HTTP server on 127.0.0.1 that answers in
the shape Rasa's REST channel documents; it only stands in for Rasa in these gateway tests
(the end-to-end suite talks to the real one).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.app import create_app
from core.config import Settings
from core.storage.migrate import upgrade

# --- a stand-in Rasa ---------------------------------------------------------------------------

RASA_REPLY: list[dict[str, Any]] = [
    {
        "recipient_id": "test-user",
        "text": "You can return unused equipment within 30 days.",
        "buttons": [{"title": "Talk to a person", "payload": "/ask_human"}],
    },
    {
        "recipient_id": "test-user",
        "custom": {
            "kind": "kb_answer",
            "answer_id": "a1",
            "confidence": 0.81,
            "sources": [{"title": "Returns", "location": "docs/returns.md#return-window"}],
        },
    },
]


class FakeRasa:
    """Answers ``/webhooks/rest/webhook``, ``/status`` and ``/health`` like Rasa would.

    ``mode``: ``ok`` (answer ``reply``), ``error`` (HTTP 500), ``garbage`` (not JSON),
    ``object`` (JSON but not a list), ``hang`` (never answer until the test ends).
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.reply: list[dict[str, Any]] | Callable[[dict[str, Any]], list[dict[str, Any]]]
        self.reply = RASA_REPLY
        self.status: dict[str, Any] = {"model_file": "models/concierge.tar.gz"}
        self.requests: list[dict[str, Any]] = []
        self.released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if fake.mode == "hang":
                    fake.released.wait(30)
                    return
                if self.path == "/status":
                    self._send(200, json.dumps(fake.status).encode(), "application/json")
                elif self.path == "/health":
                    self._send(200, b'{"status": "ok"}', "application/json")
                else:
                    self._send(404, b"{}", "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                fake.requests.append({"path": self.path, "body": body})
                if fake.mode == "hang":
                    fake.released.wait(30)
                    return
                if fake.mode == "error":
                    self._send(500, b"Internal Server Error", "text/plain")
                elif fake.mode == "garbage":
                    self._send(200, b"<html>definitely not json", "text/html")
                elif fake.mode == "object":
                    self._send(200, b'{"oops": true}', "application/json")
                else:
                    reply = fake.reply(body) if callable(fake.reply) else fake.reply
                    self._send(200, json.dumps(reply).encode(), "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeRasa:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    server = FakeRasa().start()
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """Return a localhost port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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

    def build(*, migrate: bool = True, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "content_dir": content_dir,
            "database_url": None,
            "catalog_path": None,
            "rasa_url": closed_url,
            "action_server_url": closed_url,
            "rasa_timeout_seconds": 2.0,
        }
        values.update(overrides)
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        if migrate:
            upgrade(settings.sqlalchemy_url)
        return settings

    return build


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(make_settings: SettingsFactory) -> Iterator[ClientFactory]:
    """Start the real app (lifespan included) for settings built from the overrides."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free localhost port in a thread; yield its base URL."""
    port = closed_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
