"""The round trip in a real browser: the customer's widget and the agent console side by side.

Ask for a person, the agent sees it appear in the queue, claims it, replies; the customer
sees the reply without typing; the agent hands back; the bot answers the next question
(Rasa stood in, with the tracker events API, as in the other handoff tests).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.app import create_app
from core.storage import get_engine
from tests.integration.bot.conftest import SettingsFactory
from tests.integration.bot.test_widget_offline import BOT, open_and_send
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.handoff import ALWAYS_OPEN, ASK, handing_over
from tests.support.rasa import serve
from tests.support.rasa_events import StandInRasaWithEvents
from tests.support.staff import PASSWORD, add_user

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_customer_and_agent_round_trip(make_settings: SettingsFactory, tmp_path: Path) -> None:
    rasa = StandInRasaWithEvents()
    settings = make_settings(rasa=rasa, **ALWAYS_OPEN)
    handing_over(rasa, settings.sqlalchemy_url)
    add_user(get_engine(settings.sqlalchemy_url), "sam@example.com", "support")
    app = create_app(settings, transport=rasa.transport)
    with (
        serve(app) as base_url,
        chromium_page(tmp_path) as customer,
        screenshot_on_failure(customer, tmp_path, "customer"),
    ):
        customer.goto(base_url + "/")
        open_and_send(customer, ASK)
        expect(customer.locator(BOT)).to_have_count(1)

        agent = customer.context.new_page()
        with screenshot_on_failure(agent, tmp_path, "agent"):
            agent.goto(base_url + "/signin?next=/console/agent")
            agent.fill("#email", "sam@example.com")
            agent.fill("#password", PASSWORD)
            agent.click("#signin")
            expect(agent.locator(".queue-item")).to_have_count(1)
            expect(agent.locator(".queue-item")).to_contain_text(ASK)
            agent.click(".queue-item a")
            agent.click("#claim")
            expect(agent.locator("#handoff-state")).to_contain_text("With sam@example.com")
            expect(customer.locator(".concierge-notice")).to_contain_text("has joined")

            agent.fill("#reply-text", "Hi, Sam here.")
            agent.click("#reply-send")
            expect(customer.locator(BOT).last).to_have_text("Hi, Sam here.")

            customer.fill("#concierge-input", "My grinder is broken")
            customer.press("#concierge-input", "Enter")
            expect(agent.locator("#transcript")).to_contain_text("My grinder is broken")

            agent.click("#handback")
            expect(agent.locator("#handoff-state")).to_contain_text("with the bot")
            expect(customer.locator(".concierge-notice").last).to_contain_text(
                "back with the assistant"
            )

        customer.fill("#concierge-input", "What is the return window?")
        customer.press("#concierge-input", "Enter")
        expect(customer.locator(BOT).last).to_have_text("bot: What is the return window?")

    assert [r["body"]["message"] for r in rasa.requests] == [ASK, "What is the return window?"]
    conversation = rasa.requests[0]["body"]["sender"]
    human = [
        e["text"] for e in rasa.events_of(conversation, "user") if e["metadata"].get("handoff")
    ]
    assert human == ["My grinder is broken"]
