"""The printable quote page in a real browser: what it shows on screen and in print."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.app import create_app
from core.storage import get_engine, session_scope
from core.storage.quotes import save_quote
from tests.integration.bot.conftest import SettingsFactory
from tests.integration.bot.test_quotes_page import DRAFT
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.rasa import serve

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_quote_page_reads_well_and_prints(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings()
    with session_scope(get_engine(settings.sqlalchemy_url)) as session:
        quote = save_quote(session, DRAFT)
    with (
        serve(create_app(settings)) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "quote-page"),
    ):
        response = page.goto(f"{base_url}/quotes/{quote.token}")
        assert response is not None and response.status == 200
        expect(page).to_have_title(f"Quote {quote.number} · {settings.company.name}")
        expect(page.locator("h1")).to_have_text(f"Quote {quote.number}")
        expect(page.locator("table.lines tbody tr")).to_have_count(1)
        expect(page.locator("table.lines tbody td").first).to_contain_text("Kestrel Grind <50>")
        expect(page.locator("#total")).to_have_text("€7,353.02")
        expect(page.locator("#valid-until")).to_have_text("15 January 2027")
        expect(page.locator(".screen-only")).to_be_visible()

        page.emulate_media(media="print")
        expect(page.locator(".screen-only")).to_be_hidden()
        expect(page.locator("#total")).to_be_visible()
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000

        missing = page.goto(f"{base_url}/quotes/not-a-token")
        assert missing is not None and missing.status == 404
        expect(page.locator("body")).not_to_contain_text("Kestrel Grind")
