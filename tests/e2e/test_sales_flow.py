"""From a need to a delivered lead through /api/chat, with the real processes and the worker.

The real Rasa server, action server and gateway (:func:`tests.support.stack.running_stack`)
plus ``concierge worker``, the built-in CRM and a rep notification by signed webhook to a
local receiver. In under 15 customer turns: "we need something for a 40-person office" gets
three reasoned recommendations, "what would 2 of the first one cost?" a stored quote with a
printable page, and the qualification a hot lead that ``concierge leads list --json`` shows
with its consents, quote and delivered outbox entries, the rep notified.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.supervisor import Supervisor, SupervisorError, worker_spec
from core.config import PROJECT_ROOT
from tests.e2e.conftest import trained_model
from tests.support.chat import ChatSession
from tests.support.crm_standins import WebhookReceiver
from tests.support.stack import LiveStack, free_port, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "e2e-notify-secret-0123456789abcdef"
MAX_TURNS = 15
DELIVERY_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    """The sales team's webhook endpoint for hot-lead notifications."""
    with WebhookReceiver(SECRET).running() as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def sales_stack(
    tmp_path_factory: pytest.TempPathFactory, receiver: WebhookReceiver
) -> Iterator[LiveStack]:
    """The assistant plus the worker, notifying reps of hot leads through ``receiver``."""
    model = trained_model()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it)")
    health = f"http://127.0.0.1:{free_port()}"
    with pytest.MonkeyPatch.context() as env:
        # the processes inherit these: the action server owes the notification, the worker sends it
        env.setenv("CONCIERGE_CRM", "builtin")
        env.setenv("CONCIERGE_NOTIFY_CHANNELS", "webhook")
        env.setenv("CONCIERGE_NOTIFY_WEBHOOK_URL", f"{receiver.url}/hot-leads")
        env.setenv("CONCIERGE_NOTIFY_WEBHOOK_SECRET", SECRET)
        env.setenv("CONCIERGE_OUTBOX_POLL_SECONDS", "0.5")
        data_dir = tmp_path_factory.mktemp("sales-stack")
        with running_stack(model, data_dir) as stack:
            settings = stack.settings.model_copy(update={"worker_health_url": health})
            worker = Supervisor([worker_spec(settings)], data_dir / "worker-logs")
            worker.start()
            try:
                worker.wait_until_ready(timeout=120)
            except SupervisorError as error:
                worker.stop()
                pytest.fail(f"the worker did not start: {error}")
            try:
                yield stack
            finally:
                worker.stop()


class Customer:
    """A widget customer who counts the turns and keeps every reply."""

    def __init__(self, chat: ChatSession) -> None:
        self.chat = chat
        self.turns = 0
        self.transcript: list[tuple[str, list[dict[str, Any]]]] = []

    def says(self, text: str) -> list[dict[str, Any]]:
        self.turns += 1
        replies = self.chat.say(text)
        self.transcript.append((text, replies))
        assert replies, f"no reply to {text!r}"
        return replies

    def history(self) -> str:
        return "\n".join(
            f"> {said}\n" + "\n".join(f"  {m['text']}" for m in replies)
            for said, replies in self.transcript
        )


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] or "" for m in messages)


def button(messages: list[dict[str, Any]], title_start: str) -> str:
    """Return the payload of the button whose title starts with ``title_start``."""
    for message in messages:
        for candidate in message["buttons"]:
            if candidate["title"].startswith(title_start):
                return str(candidate["payload"])
    raise AssertionError(f"no button {title_start!r} in {messages}")


def leads_list(stack: LiveStack) -> list[dict[str, Any]]:
    """Run ``concierge leads list --json`` against the stack's database."""
    env = {
        **os.environ,
        "CONCIERGE_DATA_DIR": str(stack.data_dir),
        "CONCIERGE_CONTENT_DIR": str(stack.settings.content_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "leads", "list", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed: list[dict[str, Any]] = json.loads(done.stdout)
    return listed


def delivered(stack: LiveStack) -> list[dict[str, Any]]:
    """Wait until every delivery of every lead is delivered (or the timeout passes)."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        leads = leads_list(stack)
        done = leads and all(
            d["status"] == "delivered" for lead in leads for d in lead["deliveries"]
        )
        if done or time.monotonic() > deadline:
            return leads
        time.sleep(1.0)


def test_from_a_need_to_a_delivered_hot_lead(
    sales_stack: LiveStack, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    with httpx.Client(base_url=sales_stack.gateway_url) as client:
        customer = Customer(ChatSession(client, timeout=60))
        run_conversation(customer, sales_stack, client)
    assert customer.turns < MAX_TURNS, customer.history()

    (lead,) = delivered(sales_stack)
    assert lead["email"] == "anna.schmidt@northwind-logistics.eu"
    assert lead["name"] == "Anna Schmidt" and lead["company"] == "Northwind Logistics"
    assert lead["grade"] == "hot", lead["reasons"]
    assert {r["rule"] for r in lead["reasons"]} >= {"budget", "authority", "timeline"}
    consents = {c["purpose"]: c for c in lead["consents"]}
    assert consents["contact"]["granted"] is True
    assert consents["marketing"]["granted"] is False
    assert "contact you by email" in consents["contact"]["wording"]
    assert "newsletter" in consents["marketing"]["wording"]
    assert len(lead["quotes"]) == 1
    statuses = {d["adapter"]: d["status"] for d in lead["deliveries"]}
    assert statuses == {"crm:builtin": "delivered", "notify:webhook": "delivered"}, lead
    events = [record["event"] for record in receiver.records.values()]
    assert len(events) == 1, events
    assert "Northwind Logistics" in json.dumps(events[0]), events[0]


def run_conversation(customer: Customer, stack: LiveStack, client: httpx.Client) -> None:
    """The customer's side: need, recommendations, quote, qualification, consents."""
    history = customer.history
    asked = customer.says("we need something for a 40-person office")
    assert "budget" in texts(asked).lower(), history()
    asked = customer.says("around 5000 euros")
    assert "must have" in texts(asked).lower(), history()

    picks = customer.says(button(asked, "No must-haves"))
    cards = [m for m in picks if (m["custom"] or {}).get("kind") == "product"]
    assert len(cards) == 3, history()
    for card in cards:
        assert "within your budget of €5,000" in card["text"], card["text"]
        assert "rated for" in card["text"], card["text"]
        assert any(b["payload"].startswith("/ask_quote") for b in card["buttons"]), card
    first = cards[0]["custom"]["product_id"]

    quoted = customer.says("what would 2 of the first one cost?")
    (quote,) = [m for m in quoted if (m["custom"] or {}).get("kind") == "quote"]
    number, url = quote["custom"]["number"], quote["custom"]["url"]
    assert number in quote["text"] and "Total" in quote["text"], history()
    assert "2 x " in quote["text"], quote["text"]
    page = client.get("/quotes/" + url.rsplit("/quotes/", 1)[1])
    assert page.status_code == 200 and f"Quote {number}" in page.text
    assert page.headers["cache-control"] == "no-store, private"
    assert first in page.text, "the first recommended product is the one quoted"

    asked = customer.says(button(quoted, "Go ahead"))
    assert "email" in texts(asked).lower(), history()
    asked = customer.says("anna.schmidt@northwind-logistics.eu")
    assert "name" in texts(asked).lower(), history()
    asked = customer.says("Anna Schmidt")
    assert "company" in texts(asked).lower(), history()
    asked = customer.says("Northwind Logistics")
    assert "role" in texts(asked).lower(), history()
    asked = customer.says("head of facilities")
    said = texts(asked).lower()
    assert "when" in said and "how many people" not in said and "budget" not in said, history()
    asked = customer.says(button(asked, "This month"))
    assert "contact you" in texts(asked), history()
    asked = customer.says(button(asked, "Yes"))
    assert "newsletter" in texts(asked), history()
    done = customer.says(button(asked, "No"))
    assert "sales rep" in texts(done) and "anna.schmidt@northwind-logistics.eu" in texts(done), (
        history()
    )


# -- the same path in the widget, in chromium ---------------------------------------------

BOT = ".concierge-msg.concierge-bot"
USER = ".concierge-msg.concierge-user"
REPLY_TIMEOUT_MS = 60_000
BROWSER_EMAIL = "lena.vogel@harbor-analytics.eu"


class WidgetCustomer:
    """A customer typing into the embedded widget and pressing its buttons."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.turns = 0
        self.seen: list[str] = []

    def _wait(self, before: int) -> str:
        from playwright.sync_api import expect

        self.page.wait_for_function(
            "n => document.getElementById('concierge-root').shadowRoot"
            ".querySelectorAll('.concierge-msg.concierge-bot').length > n",
            arg=before,
            timeout=REPLY_TIMEOUT_MS,
        )
        expect(self.page.locator("#concierge-typing")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
        replies = self.page.locator(BOT)
        new = [replies.nth(i) for i in range(before, replies.count())]
        for reply in new:
            assert "concierge-error" not in (reply.get_attribute("class") or ""), reply.inner_text()
        text = "\n".join(reply.inner_text() for reply in new)
        self.seen.append(text)
        return text

    def types(self, text: str) -> str:
        from playwright.sync_api import expect

        self.turns += 1
        before = self.page.locator(BOT).count()
        self.page.fill("#concierge-input", text)
        self.page.press("#concierge-input", "Enter")
        expect(self.page.locator(USER).last).to_have_text(text)
        return self._wait(before)

    def presses(self, title_start: str) -> str:
        self.turns += 1
        before = self.page.locator(BOT).count()
        buttons = self.page.locator(f"{BOT} .concierge-button:enabled")
        matching = [
            buttons.nth(i)
            for i in range(buttons.count())
            if buttons.nth(i).inner_text().strip().startswith(title_start)
        ]
        assert matching, f"no enabled button {title_start!r} after:\n" + "\n---\n".join(self.seen)
        matching[-1].click()
        return self._wait(before)


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_the_widget_takes_a_customer_from_a_need_to_a_lead(
    sales_stack: LiveStack, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    from tests.support.browser import chromium_page, screenshot_on_failure

    with chromium_page(tmp_path) as page, screenshot_on_failure(page, tmp_path, "sales-widget"):
        page.goto(sales_stack.gateway_url + "/")
        page.click("#concierge-launcher")
        customer = WidgetCustomer(page)
        assert customer.types("hello")  # the greeting
        assert "budget" in customer.types("we need something for a 40-person office").lower()
        assert "must have" in customer.types("around 5000 euros").lower()
        picks = customer.presses("No must-haves")
        assert picks.count("within your budget of €5,000") == 3, picks
        quote = customer.types("what would 2 of the first one cost?")
        assert "Total" in quote and "2 x " in quote, quote
        assert "email" in customer.presses("Go ahead").lower()
        assert "name" in customer.types(BROWSER_EMAIL).lower()
        assert "company" in customer.types("Lena Vogel").lower()
        assert "role" in customer.types("Harbor Analytics").lower()
        assert "when" in customer.types("office manager").lower()
        assert "contact you" in customer.presses("This month")
        assert "newsletter" in customer.presses("Yes")
        done = customer.presses("No")
        assert "sales rep" in done and BROWSER_EMAIL in done, done
    assert customer.turns < MAX_TURNS

    deadline = time.monotonic() + DELIVERY_TIMEOUT
    lead: dict[str, Any] = {}
    while time.monotonic() < deadline:
        lead = next((x for x in leads_list(sales_stack) if x["email"] == BROWSER_EMAIL), {})
        if lead and all(d["status"] == "delivered" for d in lead["deliveries"]):
            break
        time.sleep(1.0)
    assert lead, "the widget's lead is not in concierge leads list"
    assert lead["company"] == "Harbor Analytics" and len(lead["quotes"]) == 1, lead
    assert {d["adapter"]: d["status"] for d in lead["deliveries"]}.get("crm:builtin") == (
        "delivered"
    ), lead
