"""Rasa's real event stream into ``app_events``, and the conversations pages in a browser.

The live Rasa server publishes every event to its SQL event broker (``endpoints.yml``); the
worker's feed copies them into the app database. The copy must hold Rasa's events in Rasa's
order, once each however often the feed runs, and the console must show the conversation,
masking the customer's email for support and showing it to admins. With
``CONCIERGE_DOC_SCREENSHOTS=1`` the pages are saved under ``docs/images/`` for the docs.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.workers.events import EventFeed, SqlBrokerTable, build_feed
from core.config import PROJECT_ROOT
from core.storage import get_engine, session_scope
from core.storage.app_events import AppEvent
from tests.e2e.conftest import LiveStack
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.chat import ChatSession
from tests.support.staff import PASSWORD, add_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CUSTOMER_EMAIL = "ines.moreau@example.org"
DOC_IMAGES = PROJECT_ROOT / "docs" / "images"


def doc_screenshot(page: Page, name: str) -> None:
    """Save the page as ``docs/images/<name>.png`` when CONCIERGE_DOC_SCREENSHOTS=1."""
    if os.environ.get("CONCIERGE_DOC_SCREENSHOTS") == "1":
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_IMAGES / f"{name}.png"), full_page=True)


def tracker_events(stack: LiveStack, conversation_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.rasa_url}/conversations/{conversation_id}/tracker",
        params={"token": stack.rasa_auth_token},
        timeout=30,
    )
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def copied(stack: LiveStack, conversation_id: str) -> list[AppEvent]:
    engine = get_engine(stack.settings.sqlalchemy_url)
    with session_scope(engine) as session:
        found = list(
            session.scalars(
                select(AppEvent)
                .where(AppEvent.conversation_id == conversation_id)
                .order_by(AppEvent.id)
            )
        )
        session.expunge_all()
    return found


def sign_in(page: Page, base_url: str, email: str, target: str) -> None:
    page.context.clear_cookies()
    page.goto(base_url + target)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    expect(page).to_have_url(base_url + target)


@pytest.fixture(scope="module")
def chatted(live_stack: LiveStack) -> str:
    """A real conversation through the gateway; return its id."""
    with httpx.Client(base_url=live_stack.gateway_url) as client:
        chat = ChatSession(client, timeout=30)
        chat.say("Hi there!")
        chat.say("Do you ship to Norway?")
        chat.say(f"You can reach me at {CUSTOMER_EMAIL}")
        assert chat.conversation_id
        return chat.conversation_id


def test_rasas_events_reach_app_events_in_order_once(live_stack: LiveStack, chatted: str) -> None:
    broker = live_stack.settings.rasa_events_db
    assert broker.exists(), "Rasa did not write its SQL event broker file"
    with sqlite3.connect(broker) as db:
        published = db.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ?", (chatted,)
        ).fetchone()[0]
    assert published > 0
    build_feed(live_stack.settings).drain()
    rows = copied(live_stack, chatted)
    tracker = tracker_events(live_stack, chatted)
    assert [r.type for r in rows] == [e["event"] for e in tracker]
    assert [r.timestamp.timestamp() for r in rows] == pytest.approx(
        [e["timestamp"] for e in tracker], abs=1e-3
    )
    users = [r for r in rows if r.type == "user"]
    assert [u.text for u in users] == [
        "Hi there!",
        "Do you ship to Norway?",
        f"You can reach me at {CUSTOMER_EMAIL}",
    ]
    assert all(r.channel == "web" for r in rows[rows.index(users[0]) :])
    assert users[0].name and users[0].confidence is not None
    assert any(r.type == "bot" and r.text for r in rows)
    # a second pass and a restarted worker (a new feed from the stored cursor) add nothing
    assert build_feed(live_stack.settings).drain().inserted == 0
    engine = get_engine(live_stack.settings.sqlalchemy_url)
    assert EventFeed(engine, SqlBrokerTable(broker)).drain().inserted == 0
    again = copied(live_stack, chatted)
    assert [(r.id, r.event_key) for r in again] == [(r.id, r.event_key) for r in rows]


@pytest.mark.browser
def test_support_and_admin_read_the_conversation(
    live_stack: LiveStack, chatted: str, tmp_path: Path
) -> None:
    build_feed(live_stack.settings).drain()
    engine = get_engine(live_stack.settings.sqlalchemy_url)
    add_user(engine, "support.e2e@example.com", "support")
    add_user(engine, "admin.e2e@example.com", "admin")
    base = live_stack.gateway_url
    with chromium_page(tmp_path) as page, screenshot_on_failure(page, tmp_path, "conversations"):
        sign_in(page, base, "support.e2e@example.com", "/console/conversations")
        expect(page.locator("h1")).to_have_text("Conversations")
        expect(page.locator(f'tr[data-conversation="{chatted}"]')).to_be_visible()
        page.fill("#conv-q", "Norway")
        page.select_option("#conv-channel", "web")
        page.click("#conv-search")
        row = page.locator(f'tr[data-conversation="{chatted}"]')
        expect(row).to_contain_text("resolved by the bot")
        expect(row).to_contain_text("Hi there!")
        expect(page.locator("#conv-total")).to_contain_text("masked")
        doc_screenshot(page, "console-conversations")
        row.locator("a").click()
        expect(page.locator("#conversation-title")).to_contain_text(chatted)
        transcript = page.locator("#conv-transcript")
        expect(transcript).to_contain_text("Do you ship to Norway?")
        expect(transcript).to_contain_text("You can reach me at [email]")
        assert CUSTOMER_EMAIL not in page.content()
        expect(page.locator("#conv-masked")).to_be_visible()
        doc_screenshot(page, "console-conversation")

        sign_in(page, base, "admin.e2e@example.com", f"/console/conversations/{chatted}")
        expect(page.locator("#conv-transcript")).to_contain_text(
            f"You can reach me at {CUSTOMER_EMAIL}"
        )
        expect(page.locator("#conv-masked")).to_have_count(0)
