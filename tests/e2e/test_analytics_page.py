"""The analytics page in chromium: a manager picks the days and sees the seeded history's numbers.

The gateway runs for real (uvicorn, its own database with the history of
``tests/support/analytics_seed.py``); the page's script is the bundle ``make console`` builds
(Chart.js from the npm registry). Every number shown is checked against the one counted by
hand in ``tests/integration/analytics/test_analytics_report.py``, and no request leaves the
gateway's origin. With ``CONCIERGE_DOC_SCREENSHOTS=1`` the page is also saved as
``docs/images/console-analytics.png`` for ``docs/console-analytics.md``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, expect
from sqlalchemy import insert, select

from bot.app import create_app
from bot.routers.analytics import CONSOLE_SCRIPT
from bot.services.analytics import FALLBACK_ACTIONS, DateRange, analytics_report
from bot.workers.events import build_feed
from core.config import PROJECT_ROOT, Settings
from core.storage import get_engine, session_scope
from core.storage.migrate import upgrade
from tests.e2e.conftest import LiveStack
from tests.support.analytics_seed import APP_EVENTS, seed_history
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.chat import ChatSession
from tests.support.rasa import serve
from tests.support.staff import PASSWORD, add_user

pytestmark = [pytest.mark.timeout(300)]

DOC_IMAGES = PROJECT_ROOT / "docs" / "images"
CONSOLE_SOURCES = PROJECT_ROOT / "frontend" / "console"


def built_console_script() -> Path:
    """Build the console's bundle the way a fresh clone does (``make console``) when stale."""
    sources = [CONSOLE_SOURCES / "package-lock.json", *(CONSOLE_SOURCES / "src").glob("*.js")]
    newest = max(path.stat().st_mtime for path in sources)
    if CONSOLE_SCRIPT.is_file() and CONSOLE_SCRIPT.stat().st_mtime >= newest:
        return CONSOLE_SCRIPT
    if shutil.which("npm") is None or shutil.which("make") is None:
        pytest.fail("the console's scripts are not built and npm or make is missing")
    done = subprocess.run(
        ["make", "console"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"make console failed:\n{done.stdout}\n{done.stderr}"
    return CONSOLE_SCRIPT


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "catalog.json").write_text('{"currency": "EUR", "products": []}')
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        content_dir=content,
        company_name="Kestrel Coffee Works",
    )
    upgrade(settings.sqlalchemy_url)
    engine = get_engine(settings.sqlalchemy_url)
    seed_history(engine)
    add_user(engine, "maria@example.com", "sales")
    built_console_script()
    with serve(create_app(settings)) as url:
        yield url


def text_of(page: Page, cell_id: str) -> str:
    return page.locator(f"#{cell_id}").inner_text().strip()


def table_rows(page: Page, table: str) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        f"#table-{table} tr",
        "rows => rows.map(r => Array.from(r.children, c => c.textContent.trim()))",
    )
    return rows


def chart_is_drawn(page: Page, chart: str) -> bool:
    """Whether the chart's canvas has pixels on it (not the empty canvas of its size)."""
    drawn: bool = page.eval_on_selector(
        f"#chart-{chart}",
        """canvas => {
            const blank = document.createElement('canvas');
            blank.width = canvas.width; blank.height = canvas.height;
            return canvas.width > 0 && canvas.toDataURL() !== blank.toDataURL();
        }""",
    )
    return drawn


def show_range(page: Page, start: str, end: str) -> None:
    page.fill("#range-from", start)
    page.fill("#range-to", end)
    page.click("#range-apply")
    expect(page.locator("#analytics-status")).to_have_text(f"From {start} to {end} (UTC).")
    expect(page.locator("#analytics")).to_have_attribute("data-state", "ready")


@pytest.mark.browser
def test_a_manager_reads_the_seeded_history(base_url: str, tmp_path: Path) -> None:
    outside: list[str] = []
    problems: list[str] = []

    def request(req: Request) -> None:
        if not req.url.startswith((base_url, "data:", "blob:")):
            outside.append(req.url)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    with chromium_page(tmp_path) as page, screenshot_on_failure(page, tmp_path, "analytics"):
        page.on("request", request)
        page.on("console", console)
        page.goto(base_url + "/signin?next=/console/analytics")
        page.fill("#email", "maria@example.com")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_url("**/console/analytics")
        expect(page.locator("#analytics")).to_have_attribute("data-state", "ready")

        show_range(page, "2026-11-02", "2026-11-04")
        assert page.url.endswith("/console/analytics?from=2026-11-02&to=2026-11-04")

        assert table_rows(page, "conversations") == [
            ["Day", "rest", "telegram", "web", "All channels"],
            ["2026-11-02", "0", "1", "2", "3"],
            ["2026-11-03", "0", "1", "1", "2"],
            ["2026-11-04", "1", "0", "1", "2"],
            ["Total", "1", "2", "4", "7"],
        ]
        shown = {
            "containment-conversations": "7",
            "containment-handed": "4",
            "containment-contained": "3",
            "containment-rate": "42.9%",  # 3 / 7
            "answers-kb-questions": "5",
            "answers-kb-answered": "3",
            "answers-answer-rate": "60.0%",
            "answers-user-turns": "12",
            "answers-fallback-turns": "2",
            "answers-fallback-rate": "16.7%",  # 2 / 12
            "thumbs-up": "2",
            "thumbs-down": "1",
            "thumbs-up-share": "66.7%",
            "handoffs-requested": "3",
            "handoffs-claimed": "2",
            "handoffs-unclaimed": "1",
            "handoffs-median-wait": "1 min 0 s",  # 90 s and 30 s
            "leads-hot": "1",
            "leads-warm": "2",
            "leads-cold": "1",
            "leads-total": "4",
            "response_time-replies": "11",
            "response_time-median": "700 ms",
        }
        assert {cell: text_of(page, cell) for cell in shown} == shown
        assert page.locator("#containment-rate").get_attribute("data-value") == repr(3 / 7)
        assert table_rows(page, "funnel") == [
            ["Stage", "Conversations", "Share"],
            ["Conversations", "7", "100.0%"],
            ["Left a lead", "4", "57.1%"],
            ["Qualified lead (hot or warm)", "3", "42.9%"],
            ["Delivered to the CRM", "2", "28.6%"],
        ]
        totals = {"conversations": "7", "thumbs": "3", "leads": "4", "funnel": "16"}
        for chart, total in totals.items():
            assert page.locator(f"#chart-{chart}").get_attribute("data-total") == total, chart
            assert chart_is_drawn(page, chart), f"the {chart} chart is empty"

        link = page.locator("#csv-funnel")
        href = link.get_attribute("href")
        assert href == "/api/admin/analytics/funnel.csv?from=2026-11-02&to=2026-11-04"
        exported = page.request.get(base_url + href)
        assert exported.ok
        assert exported.text().splitlines()[:3] == [
            "stage,conversations,share",
            "conversation,7,1.0",
            f"lead,4,{4 / 7!r}",
        ]
        if os.environ.get("CONCIERGE_DOC_SCREENSHOTS") == "1":
            DOC_IMAGES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOC_IMAGES / "console-analytics.png"), full_page=True)

        show_range(page, "2026-11-05", "2026-11-05")  # only c8, outside the first range
        assert text_of(page, "containment-conversations") == "1"
        assert text_of(page, "response_time-median") == "5000 ms"
        assert text_of(page, "handoffs-median-wait") == "10 s"

        page.fill("#range-from", "2026-11-06")
        page.fill("#range-to", "2026-11-01")
        page.click("#range-apply")
        expect(page.locator("#analytics-error")).to_have_text("'From' must not be after 'To'.")

    assert outside == [], f"the page loaded from other origins: {outside}"
    assert problems == [], f"the page logged errors: {problems}"


def _from_tracker(events: list[dict[str, Any]]) -> tuple[int, int, list[float]]:
    """Count turns, fallbacks and first-reply times straight from Rasa's tracker JSON."""
    turns = fallbacks = 0
    replies: list[float] = []
    asked: float | None = None
    fell_back = in_turn = False
    for event in events:
        kind = event.get("event")
        if kind == "user":
            turns += 1
            asked, fell_back, in_turn = event["timestamp"], False, True
        elif in_turn and kind == "action" and event.get("name") in FALLBACK_ACTIONS:
            fallbacks += 0 if fell_back else 1
            fell_back = True
        elif kind == "bot" and asked is not None:
            replies.append((event["timestamp"] - asked) * 1000)
            asked = None
    return turns, fallbacks, replies


@pytest.mark.e2e
def test_rasas_real_events_give_the_numbers_its_tracker_gives(
    live_stack: LiveStack, tmp_path: Path
) -> None:
    """A real conversation, copied by the worker's feed, counted as Rasa's own tracker says."""
    with httpx.Client(base_url=live_stack.gateway_url) as client:
        chat = ChatSession(client, timeout=30)
        for text in ("Hi there!", "Do you ship to Norway?", "blorp snark wibble zonk"):
            chat.say(text)
    conversation = chat.conversation_id
    assert conversation
    build_feed(live_stack.settings).drain()
    with session_scope(get_engine(live_stack.settings.sqlalchemy_url)) as session:
        rows = [
            dict(row._mapping)
            for row in session.execute(
                select(APP_EVENTS)
                .where(APP_EVENTS.c.conversation_id == conversation)
                .order_by(APP_EVENTS.c.id)
            )
        ]
    assert rows, "the feed copied none of the conversation's events"
    # the conversation alone, in an empty database (the live stack holds other tests' chats)
    url = f"sqlite:///{tmp_path / 'one-conversation.db'}"
    upgrade(url)
    engine = get_engine(url)
    with session_scope(engine) as session:
        session.execute(
            insert(APP_EVENTS), [{k: v for k, v in r.items() if k != "id"} for r in rows]
        )

    tracker = httpx.get(
        f"{live_stack.rasa_url}/conversations/{conversation}/tracker",
        params={"token": live_stack.rasa_auth_token},
        timeout=30,
    ).json()["events"]
    turns, fallbacks, replies = _from_tracker(tracker)
    assert turns == 3 and len(replies) == 3, tracker
    first = min(e["timestamp"] for e in tracker if e["event"] == "user")
    day = datetime.fromtimestamp(first, UTC).date()
    with session_scope(engine) as session:
        found = analytics_report(session, DateRange(day, day + timedelta(days=1)))
    assert found.conversations.by_channel == {"web": 1}
    assert (found.answers.user_turns, found.answers.fallback_turns) == (turns, fallbacks)
    assert found.response_time.replies == len(replies)
    assert found.response_time.median_ms == pytest.approx(statistics.median(replies), abs=0.01)
