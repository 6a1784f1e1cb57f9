"""The Data rights page in a real browser: an admin erases a person after typing the email again."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.app import create_app
from tests.integration.privacy.conftest import EMAIL, World, find_needles, sqlite_url
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.rasa import serve
from tests.support.staff import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_an_admin_erases_a_person_from_the_page(world: World, tmp_path: Path) -> None:
    with (
        serve(create_app(world.settings)) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "privacy"),
    ):
        page.goto(base_url + "/console")
        page.fill("#email", "admin@example.com")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.click("a[href='/admin/privacy']")
        expect(page.locator("#privacy-title")).to_have_text("Data rights")

        page.fill("#privacy-erase-email", EMAIL)
        page.click("#privacy-erase")
        expect(page.locator("#privacy-preview")).to_contain_text("2 conversation(s)")
        assert find_needles(world.app_url)  # the preview changed nothing

        page.fill("#privacy-confirm", "someone@else.example")
        page.click("#privacy-erase-confirm")
        expect(page.locator("#privacy-error")).to_contain_text("did not match")

        page.fill("#privacy-confirm", EMAIL)
        page.click("#privacy-erase-confirm")
        expect(page.locator("#privacy-status")).to_have_text("done")
    for url in (world.app_url, sqlite_url(world.tracker_path), sqlite_url(world.broker_path)):
        assert find_needles(url) == [], url
