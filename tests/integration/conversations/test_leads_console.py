"""The lead pages: score, reasons, consents, quotes, deliveries, a retry of dead letters and
the link to each conversation's console page (sales and admin only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bot.app import create_app
from core.config import Settings
from core.storage import get_engine, session_scope
from core.storage.leads import capture_lead, lead_record
from core.storage.migrate import upgrade
from core.storage.models import OutboxEntry
from core.storage.outbox import DEAD, PENDING
from core.storage.quotes import save_quote
from tests.integration.crm.conftest import RULES, details, quote
from tests.support.staff import add_user, form_token, sign_in


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, str, Settings]]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "catalog.json").write_text('{"currency": "EUR", "products": []}')
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", content_dir=content)  # type: ignore[call-arg]
    upgrade(settings.sqlalchemy_url)
    engine = get_engine(settings.sqlalchemy_url)
    for role in ("sales", "support", "admin"):
        add_user(engine, f"{role}@example.com", role)
    with session_scope(engine) as session:
        save_quote(session, quote("conv-1"))
    with session_scope(engine) as session:
        lead_id = capture_lead(session, details(1), settings, RULES).lead_id
    with session_scope(engine) as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.lead_id == lead_id)
            .values(status=DEAD, attempts=10, last_error="HTTP 500 from the CRM")
        )
    with TestClient(create_app(settings)) as client:
        yield client, lead_id, settings


def test_the_lead_page_shows_everything_and_retries_dead_deliveries(
    setup: tuple[TestClient, str, Settings],
) -> None:
    client, lead_id, settings = setup
    sign_in(client, "sales@example.com")
    page = client.get(f"/admin/leads/{lead_id}")
    assert page.status_code == 200
    text = page.text
    assert "Dana Buyer1, Acme Offices" in text
    assert "/100" in text and 'id="lead-reasons"' in text
    assert "May our sales team contact you about this?" in text
    assert "crm:builtin: <strong>dead</strong>" in text and "HTTP 500 from the CRM" in text
    assert 'href="/console/conversations/conv-1"' in text
    assert "Retry 1 dead delivery" in text
    listing = client.get("/admin/leads").text
    assert 'href="/console/conversations/conv-1"' in listing

    # the button's form needs the session's CSRF token
    assert client.post(f"/admin/leads/{lead_id}/retry", follow_redirects=False).status_code == 403
    done = client.post(
        f"/admin/leads/{lead_id}/retry",
        data={"csrf_token": form_token(text)},
        follow_redirects=False,
    )
    assert (
        done.status_code == 303 and done.headers["location"] == f"/admin/leads/{lead_id}?retried=1"
    )
    after = client.get(done.headers["location"]).text
    assert "1 delivery queued again." in after and "Retry 1 dead" not in after
    engine = get_engine(settings.sqlalchemy_url)
    with session_scope(engine) as session:
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.lead_id == lead_id)).one()
        assert (entry.status, entry.attempts) == (PENDING, 0)
        record = lead_record(session, lead_id)
    assert record is not None and record.deliveries[0].status == PENDING


def test_the_json_retry_and_conversation_links(setup: tuple[TestClient, str, Settings]) -> None:
    client, lead_id, _settings = setup
    token = sign_in(client, "admin@example.com")
    assert client.post(f"/api/admin/leads/{lead_id}/retry").status_code == 403  # no CSRF
    retried = client.post(f"/api/admin/leads/{lead_id}/retry", headers={"X-CSRF-Token": token})
    assert retried.status_code == 200 and retried.json() == {"lead_id": lead_id, "retried": 1}
    missing = client.post("/api/admin/leads/nope/retry", headers={"X-CSRF-Token": token})
    assert missing.status_code == 404
    full = client.get(f"/api/admin/leads/{lead_id}").json()
    assert full["conversations"] == [
        {"conversation_id": "conv-1", "channel": "web", "url": "/console/conversations/conv-1"}
    ]


def test_support_may_not_see_or_retry_leads(setup: tuple[TestClient, str, Settings]) -> None:
    client, lead_id, _settings = setup
    token = sign_in(client, "support@example.com")
    assert client.get(f"/admin/leads/{lead_id}").status_code == 403
    refused = client.post(f"/api/admin/leads/{lead_id}/retry", headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
