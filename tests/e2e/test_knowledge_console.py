"""The knowledge console in chromium against the live assistant (real Rasa, actions, gateway).

A support agent signs in, uploads a new document, tries a question on it and sees the bot
answer from it in the widget; a customer's unanswered question reaches the queue, the agent
answers it there, it leaves the queue, the bot answers it in the widget and ``concierge kb
eval`` passes with it. With ``CONCIERGE_DOC_SCREENSHOTS=1`` the pages are saved as the PNGs
of docs/console-knowledge.md (``docs/images/console-*.png``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.config import PROJECT_ROOT
from core.storage import get_engine
from tests.e2e.conftest import trained_model
from tests.e2e.test_widget_browser import send
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.stack import LiveStack, running_stack
from tests.support.staff import PASSWORD, add_user

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(600)]

WORKSHOP_MD = """# Workshops

## Latte art workshops

You can book a latte art workshop in our Utrecht showroom every Saturday morning, for
45 euros per person, coffee and milk included. Book at least 7 days ahead.
"""
WORKSHOP_QUESTION = "Can I book a latte art workshop?"
UNANSWERED = "Do you have a loyalty program?"
LOYALTY_ANSWER = (
    "Yes: with the Kestrel Club card every 10th bag of beans is free, and joining is free."
)
JOB_TIMEOUT_MS = 120_000
IMAGES = PROJECT_ROOT / "docs" / "images"
RETRIEVER_REFRESH_SECONDS = 5
"""How often a retriever checks the index revision (``HybridRetriever.refresh_seconds``)."""


def doc_screenshot(page: Page, name: str, part: str | None = None) -> None:
    """Save a page (or one part of it) for the docs when CONCIERGE_DOC_SCREENSHOTS=1."""
    if os.environ.get("CONCIERGE_DOC_SCREENSHOTS") != "1":
        return
    IMAGES.mkdir(parents=True, exist_ok=True)
    if part is None:
        page.screenshot(path=str(IMAGES / f"{name}.png"), full_page=True)
    elif part == "top":
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(IMAGES / f"{name}.png"))
    else:
        page.locator(part).screenshot(path=str(IMAGES / f"{name}.png"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """The assistant on a copy of the demo content, so the test may change it."""
    model = trained_model()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it)")
    root = tmp_path_factory.mktemp("kb-console")
    content = root / "content"
    shutil.copytree(PROJECT_ROOT / "knowledge" / "demo", content)
    with running_stack(model, root / "data", content_dir=content) as live:
        add_user(get_engine(live.settings.sqlalchemy_url), "sam@example.com", "support")
        yield live


def widget_reply(page: Page, text: str) -> str:
    """Send ``text`` in the open widget and return the bot's reply text."""
    replies = send(page, text)
    return " ".join(r.inner_text() for r in replies)


def kb_eval(stack: LiveStack) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CONCIERGE_DATA_DIR": str(stack.data_dir),
        "CONCIERGE_CONTENT_DIR": str(stack.settings.content_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "kb", "eval"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_support_keeps_the_answers_right(stack: LiveStack, tmp_path: Path) -> None:
    base = stack.gateway_url
    document = tmp_path / "latte-art-workshops.md"
    document.write_text(WORKSHOP_MD, encoding="utf-8")
    broken = tmp_path / "price-list.pdf"
    broken.write_bytes(b"%PDF-1.4 not really a pdf")
    with chromium_page(tmp_path) as staff, screenshot_on_failure(staff, tmp_path, "staff"):
        staff.goto(base + "/signin?next=/console/knowledge")
        staff.fill("#email", "sam@example.com")
        staff.fill("#password", PASSWORD)
        staff.click("#signin")
        expect(staff.locator(".source-row").first).to_be_visible()
        expect(staff.locator(".source-row[data-source='docs/returns.md']")).to_be_visible()

        # Upload two files at once: the good one is indexed, the broken one named.
        staff.set_input_files("#upload-files", [str(document), str(broken)])
        staff.click("#upload-send")
        job = staff.locator(".kb-job[data-status='done']")
        expect(job).to_be_visible(timeout=JOB_TIMEOUT_MS)
        expect(job.locator(".job-file[data-name='latte-art-workshops.md']")).to_contain_text("done")
        expect(job.locator(".job-file[data-name='price-list.pdf']")).to_contain_text(
            "cannot read PDF"
        )
        expect(
            staff.locator(".source-row[data-source='uploads/latte-art-workshops.md']")
        ).to_be_visible()
        staff.locator(
            ".source-row[data-source='uploads/latte-art-workshops.md'] .source-preview"
        ).click()
        expect(staff.locator(".preview-chunk").first).to_contain_text("45 euros per person")
        doc_screenshot(staff, "console-knowledge-documents", "top")

        # Try the question: the reply, the chunks with scores and the threshold line.
        staff.fill("#try-question", WORKSHOP_QUESTION)
        staff.click("#try-send")
        # the gateway's first question builds the BM25 index and loads the entity matcher
        expect(staff.locator("#try-reply")).to_contain_text(
            "45 euros per person", timeout=JOB_TIMEOUT_MS
        )
        expect(staff.locator("#try-reply")).to_have_attribute("data-answered", "yes")
        expect(staff.locator(".try-chunk").first).to_contain_text("uploads/latte-art-workshops.md")
        expect(staff.locator(".kb-threshold")).to_have_count(1)
        doc_screenshot(staff, "console-knowledge-try", "section[aria-labelledby='try-title']")

        customer = staff.context.new_page()
        with screenshot_on_failure(customer, tmp_path, "customer"):
            customer.goto(base + "/")
            customer.click("#concierge-launcher")
            # The bot answers from the uploaded document.
            assert "45 euros per person" in widget_reply(customer, WORKSHOP_QUESTION)
            # A question the documents do not answer: the bot declines; it is queued.
            declined = widget_reply(customer, UNANSWERED)
            assert "45 euros" not in declined and "Kestrel Club" not in declined

        staff.goto(base + "/console/unanswered")
        group = staff.locator(".ua-group", has_text=UNANSWERED).first
        expect(group).to_be_visible()
        expect(group.locator(".ua-count")).to_contain_text("Asked 1 time")
        group.locator(".ua-answer-text").fill(LOYALTY_ANSWER)
        doc_screenshot(staff, "console-unanswered")
        group.locator(".ua-answer").click()
        resolved = staff.locator(".ua-resolved").first
        expect(resolved).to_contain_text("Answered", timeout=JOB_TIMEOUT_MS)
        expect(resolved.locator(".ua-result")).to_contain_text(LOYALTY_ANSWER)
        expect(resolved).to_contain_text("regression case added")
        expect(staff.locator("#ua-groups .ua-group", has_text=UNANSWERED)).to_have_count(0)
        doc_screenshot(staff, "console-unanswered-answered")

        # The action server notices the index changed at its next revision check (<= 5 s).
        time.sleep(RETRIEVER_REFRESH_SECONDS + 1)
        with screenshot_on_failure(customer, tmp_path, "customer-after"):
            assert "Kestrel Club card" in widget_reply(customer, UNANSWERED)

    done = kb_eval(stack)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ok   {UNANSWERED!r} -> answers.csv#ua-" in done.stdout
    assert "cases pass." in done.stdout
