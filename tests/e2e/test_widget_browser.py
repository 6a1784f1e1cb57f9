"""The chat widget in chromium against the live assistant (real Rasa, action server, gateway)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import chromium_page, screenshot_on_failure

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(300)]

BOT = ".concierge-msg.concierge-bot"
USER = ".concierge-msg.concierge-user"
REPLY_TIMEOUT_MS = 30_000


def bot_count(page: Page) -> int:
    return page.locator(BOT).count()


def wait_for_reply(page: Page, before: int) -> list[Any]:
    """Wait until new bot messages arrive and the typing indicator is gone; return them."""
    page.wait_for_function(
        "n => document.getElementById('concierge-root').shadowRoot"
        ".querySelectorAll('.concierge-msg.concierge-bot').length > n",
        arg=before,
        timeout=REPLY_TIMEOUT_MS,
    )
    expect(page.locator("#concierge-typing")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
    replies = page.locator(BOT)
    new = [replies.nth(i) for i in range(before, replies.count())]
    for reply in new:
        classes = reply.get_attribute("class") or ""
        assert "concierge-error" not in classes, f"the widget showed an error: {reply.inner_text()}"
    return new


def send(page: Page, text: str) -> list[Any]:
    before = bot_count(page)
    page.fill("#concierge-input", text)
    page.press("#concierge-input", "Enter")
    expect(page.locator(USER).last).to_have_text(text)
    return wait_for_reply(page, before)


def test_widget_talks_to_the_live_assistant(live_stack: Any, tmp_path: Path) -> None:
    base_url = live_stack.gateway_url
    with chromium_page(tmp_path) as page, screenshot_on_failure(page, tmp_path, "widget-e2e"):
        page.goto(base_url + "/")
        page.click("#concierge-launcher")
        expect(page.locator("#concierge-input")).to_be_focused()

        greeting = send(page, "hello")
        first_text = greeting[0].locator(".concierge-text").inner_text().strip()
        assert first_text, "the first bot reply has text"
        # The gateway gave the conversation its id and token; the widget keeps both.
        conversation_id = page.evaluate("localStorage.getItem('concierge.conversation_id')")
        assert conversation_id and page.evaluate("localStorage.getItem('concierge.token')")

        # Click a suggested reply when the assistant offers one.
        buttons = page.locator(f"{BOT} .concierge-button:enabled")
        if buttons.count():
            button = buttons.first
            title = button.inner_text().strip()
            before = bot_count(page)
            button.click()
            expect(page.locator(USER).last).to_have_text(title)
            wait_for_reply(page, before)

        # A policy question is answered with a source link and/or feedback thumbs.
        answer = send(page, "what is the return window?")
        sources = [s for reply in answer for s in reply.locator(".concierge-source").all()]
        thumbs = [t for reply in answer for t in reply.locator(".concierge-thumb-up").all()]
        texts = " | ".join(reply.inner_text() for reply in answer)
        assert sources or thumbs, f"expected a cited answer with sources or thumbs, got: {texts}"
        for link in sources:
            href = link.get_attribute("href") or ""
            assert href.startswith(f"{base_url}/sources/"), href
            assert link.get_attribute("target") == "_blank"
            document = httpx.get(href.split("#", 1)[0], timeout=10)
            assert document.status_code == 200, f"{href} -> {document.status_code}"
        if thumbs:
            thumbs[0].click()
            expect(page.locator(".concierge-feedback-thanks").first).to_be_visible()

        # Every turn went to the one conversation the first reply started.
        assert page.evaluate("localStorage.getItem('concierge.conversation_id')") == conversation_id
