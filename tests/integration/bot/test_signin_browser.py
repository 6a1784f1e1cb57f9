"""Signing in and out in a real browser against the real gateway and database."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.app import create_app
from bot.auth.sessions import SESSION_COOKIE
from core.storage import get_engine
from tests.integration.bot.conftest import SettingsFactory
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.rasa import serve
from tests.support.staff import PASSWORD, add_user

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_sign_in_reach_the_console_and_sign_out(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings()
    add_user(get_engine(settings.sqlalchemy_url), "rep@example.com", "sales")
    with (
        serve(create_app(settings)) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "signin"),
    ):
        # The console sends a visitor to the sign-in page, and back after signing in.
        page.goto(base_url + "/console")
        expect(page).to_have_url(base_url + "/signin?next=/console")
        expect(page.locator("h1")).to_have_text("Sign in")

        page.fill("#email", "rep@example.com")
        page.fill("#password", "not the password")
        page.click("#signin")
        expect(page.locator("#signin-error")).to_have_text("Wrong email or password.")
        expect(page.locator("#email")).to_have_value("rep@example.com")

        page.fill("#password", PASSWORD)
        page.click("#signin")
        expect(page).to_have_url(base_url + "/console")
        expect(page.locator("#console-welcome")).to_contain_text("rep@example.com")
        expect(page.locator("#console-role")).to_have_text("sales")
        [cookie] = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert page.evaluate("document.cookie").find(SESSION_COOKIE) == -1

        page.click("#signout")
        expect(page).to_have_url(base_url + "/signin")
        assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
        page.goto(base_url + "/console")
        expect(page).to_have_url(base_url + "/signin?next=/console")
