"""The webhook receiver printed in docs/crm.md verifies what the webhook CRM sends."""

from __future__ import annotations

import threading
from http.server import HTTPServer
from typing import Any

import httpx
import pytest

from bot.crm.base import Delivery, DeliveryError
from bot.crm.webhook import WebhookCRM
from core.config import PROJECT_ROOT, Settings


def _example(monkeypatch: pytest.MonkeyPatch, secret: str) -> dict[str, Any]:
    page = (PROJECT_ROOT / "docs" / "crm.md").read_text()
    block = page.split("<!-- receiver-example -->")[1].split("<!-- /receiver-example -->")[0]
    code = block.strip().removeprefix("```python").removesuffix("```")
    monkeypatch.setenv("CONCIERGE_CRM_WEBHOOK_SECRET", secret)
    namespace: dict[str, Any] = {"__name__": "receiver_example"}
    exec(compile(code, "docs/crm.md", "exec"), namespace)
    return namespace


def test_the_documented_receiver_accepts_signed_leads_and_drops_repeats(  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch, sqlite_engine, capture
) -> None:
    example = _example(monkeypatch, "doc-secret")
    lead = capture(sqlite_engine, Settings(_env_file=None))  # type: ignore[call-arg]
    server = HTTPServer(("127.0.0.1", 0), example["Receiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with httpx.Client(timeout=5) as client:
            good = WebhookCRM(url, "doc-secret", client, "https://chat.example.com")
            first = good.deliver(lead, Delivery("key-1", 1))
            repeat = good.deliver(lead, Delivery("key-1", 2))
            with pytest.raises(DeliveryError) as refused:
                WebhookCRM(url, "not-the-secret", client, "x").deliver(lead, Delivery("k", 1))
    finally:
        server.shutdown()
        server.server_close()
    assert first.crm_id == repeat.crm_id == f"rec-{lead.id}"
    assert example["seen"] == {"key-1": f"rec-{lead.id}"}
    assert refused.value.status_code == 401


def test_the_documented_verify_refuses_tampering_and_replays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.crm.signing import signed_headers

    verify = _example(monkeypatch, "doc-secret")["verify"]
    body = b'{"lead":{"id":"1"}}'
    headers = signed_headers("doc-secret", body, "k", now=1_800_000_000)
    assert verify(headers, body, now=1_800_000_010)
    assert not verify(headers, body + b" ", now=1_800_000_010)
    assert not verify(headers, body, now=1_800_000_000 + 301)
