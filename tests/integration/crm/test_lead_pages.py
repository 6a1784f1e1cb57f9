"""Staff pages of leads: the page a notification links to, for sales and admins only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from core.config import Settings
from core.storage import get_engine
from core.storage.migrate import upgrade
from tests.support.staff import add_user, sign_in


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    content = tmp_path / "content"
    content.mkdir()
    (content / "catalog.json").write_text('{"currency": "EUR", "products": []}')
    return Settings(_env_file=None, data_dir=tmp_path / "data", content_dir=content)  # type: ignore[call-arg]


def test_sales_reads_the_lead_and_its_transcript_escaped(settings: Settings, capture) -> None:  # type: ignore[no-untyped-def]
    upgrade(settings.sqlalchemy_url)
    engine = get_engine(settings.sqlalchemy_url)
    for role in ("sales", "support"):
        add_user(engine, f"{role}@example.com", role)
    lead = capture(
        engine,
        settings,
        transcript=(("customer", "<script>alert(1)</script> we are 40"), ("bot", "Here are three")),
    )
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get(f"/admin/leads/{lead.id}", follow_redirects=False).status_code == 303
        sign_in(client, "sales@example.com")
        page = client.get(f"/admin/leads/{lead.id}")
        listing = client.get("/admin/leads")
        api = client.get(f"/api/admin/leads/{lead.id}")
        missing = client.get("/admin/leads/nope")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Dana Buyer1, Acme Offices" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; we are 40" in page.text
    assert "<script>" not in page.text
    assert lead.quotes[0].number in page.text and f"/quotes/{lead.quotes[0].token}" in page.text
    assert "May our sales team contact you about this?" in page.text
    assert f'href="/admin/leads/{lead.id}"' in listing.text
    assert api.json()["transcript"][1] == {"speaker": "bot", "text": "Here are three"}
    assert api.json()["quotes"] == [lead.quotes[0].number]
    assert missing.status_code == 404
    with TestClient(app) as client:
        sign_in(client, "support@example.com")
        assert client.get(f"/admin/leads/{lead.id}").status_code == 403
        assert client.get("/api/admin/leads").status_code == 403
