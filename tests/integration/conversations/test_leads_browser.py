"""The lead and conversation pages in a real browser: a sales rep retries a dead delivery and
follows the lead to its conversation. With CONCIERGE_DOC_SCREENSHOTS=1 the lead page is saved
as docs/images/console-lead.png for the docs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from bot.app import create_app
from core.config import PROJECT_ROOT, Settings
from core.storage import get_engine, session_scope
from core.storage.app_events import parse_event, store_events
from core.storage.leads import capture_lead
from core.storage.migrate import upgrade
from core.storage.models import OutboxEntry
from core.storage.outbox import DEAD
from core.storage.quotes import save_quote
from tests.integration.crm.conftest import RULES, details, quote
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.rasa import serve
from tests.support.staff import PASSWORD, add_user

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_sales_retries_a_dead_delivery_and_opens_the_conversation(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "catalog.json").write_text('{"currency": "EUR", "products": []}')
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", content_dir=content)  # type: ignore[call-arg]
    upgrade(settings.sqlalchemy_url)
    engine = get_engine(settings.sqlalchemy_url)
    add_user(engine, "rep@example.com", "sales")
    now = time.time()
    with session_scope(engine) as session:
        save_quote(session, quote("conv-1"))
        store_events(
            session,
            [
                parse_event(e)
                for e in (
                    {
                        "sender_id": "conv-1",
                        "event": "user",
                        "timestamp": now - 60,
                        "text": "We are 40 people and need coffee",
                        "metadata": {"channel": "web"},
                        "parse_data": {"intent": {"name": "ask_recommendation", "confidence": 0.9}},
                    },
                    {
                        "sender_id": "conv-1",
                        "event": "bot",
                        "timestamp": now - 59,
                        "text": "Here are three machines for 40 people.",
                        "data": {},
                        "metadata": {},
                    },
                )
            ],
        )
    with session_scope(engine) as session:
        lead_id = capture_lead(session, details(1), settings, RULES).lead_id
    with session_scope(engine) as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.lead_id == lead_id)
            .values(status=DEAD, attempts=10, last_error="HTTP 401 from the CRM: check the key")
        )
    with (
        serve(create_app(settings)) as base,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "lead"),
    ):
        page.goto(base + "/admin/leads")
        page.fill("#email", "rep@example.com")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        expect(page).to_have_url(base + "/admin/leads")
        page.click(f'tr[data-lead="{lead_id}"] a >> nth=0')
        expect(page.locator("#lead-title")).to_have_text("Dana Buyer1, Acme Offices")
        expect(page.locator("#lead-deliveries")).to_contain_text("dead")
        expect(page.locator("#lead-deliveries")).to_contain_text("HTTP 401 from the CRM")
        expect(page.locator("#lead-consents")).to_contain_text("May our sales team contact you")
        if os.environ.get("CONCIERGE_DOC_SCREENSHOTS") == "1":
            images = PROJECT_ROOT / "docs" / "images"
            images.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(images / "console-lead.png"), full_page=True)
        page.click("#lead-retry")
        expect(page.locator("#lead-retried")).to_have_text("1 delivery queued again.")
        expect(page.locator("#lead-deliveries")).to_contain_text("pending")
        expect(page.locator("#lead-retry")).to_have_count(0)
        page.click("#lead-conversations a")
        expect(page.locator("#conversation-title")).to_contain_text("conv-1")
        expect(page.locator("#conv-outcome-label")).to_have_text("lead")
        expect(page.locator("#conv-transcript")).to_contain_text("We are 40 people")
        expect(page.locator("#conv-lead-link")).to_have_attribute("href", f"/admin/leads/{lead_id}")
