"""Driving Debian's chromium with Playwright (see /work/shared/notes/browser-tests.md).

Shared by the gateway's widget tests and the end-to-end widget test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Return the browser binary; without it fail under CI and skip (saying why) elsewhere."""
    found = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if found:
        return str(found)
    reason = "chromium is not installed: run `make browser` (apt-get install -y chromium)"
    if os.environ.get("CI") or os.environ.get("CONCIERGE_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def chromium_page(tmp_path: Path) -> Iterator[Page]:
    """Yield a page of a fresh headless chromium with an empty profile in ``tmp_path``."""
    executable = chromium_path()
    profile = tmp_path / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            context.close()


@contextmanager
def screenshot_on_failure(page: Page, tmp_path: Path, name: str) -> Iterator[None]:
    """Save a screenshot when the block fails and name it in the failure message."""
    try:
        yield
    except (AssertionError, PlaywrightError) as error:
        shot = tmp_path / f"{name}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            where = f"screenshot: {shot}"
        except PlaywrightError as shot_error:
            where = f"no screenshot ({shot_error})"
        raise AssertionError(f"{error}\n{where}") from error
