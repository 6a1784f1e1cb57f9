"""The widget in a real browser against the real gateway, with no Rasa (or a stand-in one).

The gateway runs under uvicorn in a thread on a free localhost port; chromium loads the demo
page. These tests need no trained model: the end-to-end suite covers the real Rasa.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.app import create_app
from bot.messages import FALLBACK_TEXT
from core.messages import OutgoingMessage
from core.storage import Feedback, KBAnswer, get_engine, session_scope
from tests.integration.bot.conftest import FakeRasa, SettingsFactory
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.rasa import serve

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

BOT = ".concierge-msg.concierge-bot"
USER = ".concierge-msg.concierge-user"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def open_and_send(page: Page, text: str) -> None:
    page.click("#concierge-launcher")
    expect(page.locator("#concierge-input")).to_be_focused()
    page.fill("#concierge-input", text)
    page.press("#concierge-input", "Enter")


def test_widget_shows_the_fallback_when_rasa_is_down(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    app = create_app(make_settings())  # rasa_url points at a closed port
    with (
        serve(app) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "fallback"),
    ):
        page.goto(base_url + "/")
        expect(page.locator("#concierge-launcher")).to_be_visible()
        open_and_send(page, "hello")
        expect(page.locator(USER)).to_have_text("hello")
        bot = page.locator(BOT).last
        expect(bot).to_contain_text(FALLBACK_TEXT, timeout=15_000)
        expect(bot).to_have_class(re.compile("concierge-error"))
        expect(page.locator("#concierge-typing")).to_be_hidden()
        expect(page.locator("#concierge-send")).to_be_enabled()

        # A network error (the gateway unreachable) shows the built-in fallback text.
        page.route("**/api/chat", lambda route: route.abort())
        page.fill("#concierge-input", "anyone there?")
        page.click("#concierge-send")
        expect(page.locator(BOT)).to_have_count(2, timeout=15_000)
        expect(page.locator(BOT).last).to_contain_text("Sorry, I'm having trouble right now")

        # Esc closes the panel and gives the focus back to the launcher.
        page.press("#concierge-input", "Escape")
        expect(page.locator("#concierge-panel")).to_be_hidden()
        expect(page.locator("#concierge-launcher")).to_be_focused()
        expect(page.locator("#concierge-launcher")).to_have_attribute("aria-expanded", "false")


def test_widget_renders_replies_buttons_sources_and_feedback(
    make_settings: SettingsFactory, fake_rasa: FakeRasa, tmp_path: Path
) -> None:
    settings = make_settings(rasa=fake_rasa)
    engine = get_engine(settings.sqlalchemy_url)

    def reply(body: dict[str, Any]) -> list[dict[str, Any]]:
        """Answer like Rasa plus the action server: record the answer, cite a source."""
        sender, text = body["sender"], body["message"]
        if text == "/ask_human":
            return [{"recipient_id": sender, "text": "A person from our team will reply soon."}]
        time.sleep(0.8)  # long enough to see the typing indicator
        with session_scope(engine) as session:
            answer = KBAnswer(
                sender_id=sender,
                question=text,
                answer="Unused items within 30 days.",
                chunk_ids=["chunk-1"],
            )
            session.add(answer)
            session.flush()
            answer_id = answer.id
        return [
            {
                "recipient_id": sender,
                "text": 'Unused items within 30 days. <img src=x onerror="window.__xss=1">',
                "buttons": [{"title": "Talk to a person", "payload": "/ask_human"}],
            },
            {
                "recipient_id": sender,
                "custom": {
                    "kind": "kb_answer",
                    "answer_id": answer_id,
                    "sources": [
                        {
                            "title": "Shipping › Returns",
                            "location": "docs/shipping.md#returns--refunds",
                        }
                    ],
                },
            },
        ]

    fake_rasa.reply = reply
    app = create_app(settings, transport=fake_rasa.transport)
    with (
        serve(app) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "widget"),
    ):
        page.goto(base_url + "/")
        open_and_send(page, "what is the return window?")
        expect(page.locator("#concierge-typing")).to_be_visible()
        bot = page.locator(BOT).first
        expect(bot).to_contain_text("Unused items within 30 days.", timeout=15_000)
        expect(page.locator("#concierge-typing")).to_be_hidden()

        # Bot text is text: the markup shows literally and never runs.
        expect(bot.locator(".concierge-text")).to_contain_text("<img src=x")
        assert bot.locator("img").count() == 0
        assert page.evaluate("window.__xss") is None

        # Sources are links to the gateway's document pages, in a new tab.
        link = bot.locator(".concierge-source")
        expect(link).to_have_text("Shipping › Returns")
        expect(link).to_have_attribute("target", "_blank")
        href = link.get_attribute("href")
        assert href == f"{base_url}/sources/docs/shipping.md#returns--refunds"
        document = page.request.get(href)
        assert document.status == 200
        assert 'id="returns--refunds"' in document.text()

        # Thumbs up stores feedback with the question, answer and chunks.
        bot.locator(".concierge-thumb-up").click()
        expect(bot.locator(".concierge-feedback-thanks")).to_be_visible()
        with session_scope(engine) as session:
            [row] = session.scalars(select(Feedback)).all()
            assert (row.rating, row.question, row.chunk_ids) == (
                "up",
                "what is the return window?",
                ["chunk-1"],
            )

        # A button sends its payload and shows its title as the customer's message.
        bot.locator(".concierge-button", has_text="Talk to a person").click()
        expect(page.locator(USER).last).to_have_text("Talk to a person")
        expect(page.locator(BOT).last).to_contain_text("A person from our team")
        assert fake_rasa.requests[-1]["body"]["message"] == "/ask_human"
        expect(bot.locator(".concierge-button")).to_be_disabled()

        # The gateway's conversation id and its token are in localStorage; every message went
        # to that one conversation.
        sender_id = page.evaluate("localStorage.getItem('concierge.conversation_id')")
        assert UUID_RE.match(sender_id), sender_id
        assert page.evaluate("localStorage.getItem('concierge.token')")
        assert {r["body"]["sender"] for r in fake_rasa.requests} == {sender_id}

        # A reload keeps the visible conversation (and the feedback state).
        page.reload()
        expect(page.locator("#concierge-panel")).to_be_visible()
        expect(page.locator(BOT)).to_have_count(2)
        expect(page.locator(USER)).to_have_count(2)
        expect(page.locator(".concierge-feedback-thanks")).to_have_count(1)
        assert page.evaluate("localStorage.getItem('concierge.conversation_id')") == sender_id


def test_widget_texts_come_from_the_company_settings(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(
        company_name="Velo Works", support_email="help@velo.example", widget_subtitle="Bikes!"
    )
    with (
        serve(create_app(settings)) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "config"),
    ):
        page.goto(base_url + "/")
        expect(page.locator("#concierge-launcher")).to_have_attribute(
            "aria-label", "Open chat: Velo Works"
        )
        page.click("#concierge-launcher")
        expect(page.locator("#concierge-title")).to_have_text("Velo Works")
        expect(page.locator("#concierge-subtitle")).to_have_text("Bikes!")
        # The gateway unreachable: the fallback still names this company's address.
        page.route("**/api/chat", lambda route: route.abort())
        page.fill("#concierge-input", "hello")
        page.press("#concierge-input", "Enter")
        expect(page.locator(BOT).last).to_contain_text("help@velo.example", timeout=15_000)
        assert "kestrel" not in page.locator("#concierge-panel").inner_text().lower()


def test_widget_sends_its_token_and_starts_over_when_it_is_refused(
    make_settings: SettingsFactory, fake_rasa: FakeRasa, tmp_path: Path
) -> None:
    settings = make_settings(rasa=fake_rasa)
    app = create_app(settings, transport=fake_rasa.transport)
    with (
        serve(app) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "token-refused"),
    ):
        seen: list[str | None] = []
        page.on(
            "request",
            lambda request: (
                seen.append(request.headers.get("authorization"))
                if request.url.endswith("/api/chat") and request.method == "POST"
                else None
            ),
        )
        page.goto(base_url + "/")
        open_and_send(page, "hello")
        expect(page.locator(BOT)).to_have_count(1)
        first = page.evaluate("localStorage.getItem('concierge.conversation_id')")
        token = page.evaluate("localStorage.getItem('concierge.token')")
        assert UUID_RE.match(first) and token

        page.fill("#concierge-input", "second question")
        page.press("#concierge-input", "Enter")
        expect(page.locator(BOT)).to_have_count(2)
        assert seen == [None, f"Bearer {token}"]
        renewed = page.evaluate("localStorage.getItem('concierge.token')")
        assert renewed, "the reply's token is kept"

        # A token the gateway refuses (here: tampered with) is dropped; the message starts a
        # new conversation and the customer is told so, politely.
        page.evaluate("localStorage.setItem('concierge.token', 'tampered.token')")
        page.fill("#concierge-input", "third question")
        page.press("#concierge-input", "Enter")
        notice = page.locator(".concierge-notice")
        expect(notice).to_contain_text("started a new one")
        expect(page.locator(USER)).to_have_text(["third question"])
        expect(page.locator(f"{BOT}:not(.concierge-notice)")).to_have_count(1)
        assert seen[-2:] == ["Bearer tampered.token", None]
        second = page.evaluate("localStorage.getItem('concierge.conversation_id')")
        assert UUID_RE.match(second) and second != first
        assert page.evaluate("localStorage.getItem('concierge.token')") not in (None, renewed)
        senders = [r["body"]["sender"] for r in fake_rasa.requests]
        assert senders == [first, first, second]
        assert [r["body"]["message"] for r in fake_rasa.requests][-1] == "third question"


def agent_says(state: Any, conversation_id: str, text: str) -> bool:
    """Deliver a later reply as the gateway does, from a thread of its own (Playwright's
    sync API keeps an event loop running in this one)."""
    outcome: list[bool] = []

    def run() -> None:
        web = state.channels["web"]
        message = [OutgoingMessage(text=text)]
        outcome.append(asyncio.run(state.conversation.deliver(web, conversation_id, message)))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(15)
    return outcome == [True]


def test_widget_shows_pushed_replies_without_typing_and_resumes_after_a_reload(
    make_settings: SettingsFactory, fake_rasa: FakeRasa, tmp_path: Path
) -> None:
    settings = make_settings(rasa=fake_rasa)
    app = create_app(settings, transport=fake_rasa.transport)
    with (
        serve(app) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "live-push"),
    ):
        page.goto(base_url + "/")
        open_and_send(page, "I'd like to talk to a person")
        expect(page.locator(BOT)).to_have_count(1)
        conversation_id = page.evaluate("localStorage.getItem('concierge.conversation_id')")
        state = app.state.gateway

        # A notice and a person's reply arrive while the customer types nothing.
        state.realtime.append(conversation_id, "agent_joined", {})
        expect(page.locator(".concierge-notice")).to_contain_text("has joined the conversation")
        assert agent_says(state, conversation_id, "Hi, Sam here.")
        expect(page.locator(BOT).last).to_have_text("Hi, Sam here.")
        assert page.evaluate("localStorage.getItem('concierge.last_event_id')") is not None

        # A reload reconnects from the last event seen: nothing lost, nothing twice.
        page.reload()
        expect(page.locator(BOT)).to_have_count(3)
        assert agent_says(state, conversation_id, "Still there?")
        expect(page.locator(BOT).last).to_have_text("Still there?")
        expect(page.locator(BOT)).to_have_count(4)
        expect(page.locator(BOT, has_text="Hi, Sam here.")).to_have_count(1)
