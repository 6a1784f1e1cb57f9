"""The widget's weight and start time: loader and bundle sizes, script tag to usable launcher.

Sizes: the built files in ``bot/static`` (``make widget``), raw and gzip (level 9, what a
typical server sends). Start time: the real gateway on a free localhost port (no Rasa
needed), headless chromium loads the demo page ``runs`` times; each run measures from the
start of the ``/widget.js`` request (the script tag) to the widget's ``concierge:ready``
mark, set once the launcher is in the page and the queued calls ran (after the loader, the
bundle and ``GET /api/widget/config``). Cold runs use a fresh browser profile each; warm
runs reload in the same one (bundle from the cache: it is immutable). Prints Markdown.

    .venv/bin/python -m benchmarks.widget_size --runs 15
"""

from __future__ import annotations

import argparse
import gzip
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from bot.app import create_app
from core.config import Settings
from core.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "bot" / "static"
LOADER_BUDGET = 5 * 1024
BUNDLE_BUDGET = 40 * 1024
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
START_TIME = """() => {
    const ready = performance.getEntriesByName('concierge:ready')[0];
    const tag = performance.getEntriesByType('resource')
        .find(e => new URL(e.name).pathname === '/widget.js');
    return ready && tag ? ready.startTime - tag.startTime : null;
}"""


def sizes() -> list[tuple[str, int, int]]:
    """Return (file, raw bytes, gzip bytes) of the loader, the bundle and the stylesheet."""
    bundles = sorted((STATIC / "widget").glob("concierge.*.js"))
    if len(bundles) != 1:
        raise SystemExit(f"expected one built bundle in {STATIC / 'widget'}: run `make widget`")
    files = [STATIC / "widget.js", bundles[0], STATIC / "widget.css"]
    return [
        (str(path.relative_to(ROOT)), len(data), len(gzip.compress(data, compresslevel=9)))
        for path in files
        for data in [path.read_bytes()]
    ]


def free_port() -> int:
    """Return a free localhost port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gateway(data_dir: Path) -> Iterator[str]:
    """Run the gateway (Rasa not running: the page and the widget need none); yield its URL."""
    settings = Settings(data_dir=data_dir, rasa_url=f"http://127.0.0.1:{free_port()}")
    upgrade(settings.sqlalchemy_url)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit("the gateway did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def start_times(url: str, runs: int, chromium: str) -> tuple[list[float], list[float]]:
    """Return the cold and warm script-tag-to-launcher times (ms) over ``runs`` page loads."""
    from playwright.sync_api import sync_playwright

    cold: list[float] = []
    warm: list[float] = []
    with sync_playwright() as playwright:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as profile:
                context = playwright.chromium.launch_persistent_context(
                    profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    page = context.pages[0] if context.pages else context.new_page()
                    for times in (cold, warm):
                        page.goto(url + "/")
                        page.locator("#concierge-launcher").wait_for(state="visible")
                        page.wait_for_function(START_TIME)
                        times.append(float(page.evaluate(START_TIME)))
                finally:
                    context.close()
    return cold, warm


def kb(size: int) -> str:
    """Return ``size`` in KB with one decimal."""
    return f"{size / 1024:.1f} KB"


def main(argv: list[str] | None = None) -> int:
    """Print the sizes and the start times as Markdown; fail when a budget is exceeded."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="page loads (median)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    measured = sizes()
    print("| file | raw | gzip | budget (gzip) |\n|---|---:|---:|---:|")
    over = []
    for name, raw, packed in measured:
        budget = {0: LOADER_BUDGET, 1: BUNDLE_BUDGET}.get([m[0] for m in measured].index(name))
        print(f"| `{name}` | {kb(raw)} | {kb(packed)} | {kb(budget) if budget else '-'} |")
        if budget and packed > budget:
            over.append(name)

    with tempfile.TemporaryDirectory() as data_dir, gateway(Path(data_dir)) as url:
        cold, warm = start_times(url, args.runs, args.chromium)
    print(f"\nScript tag to usable launcher, {args.runs} runs each (ms):\n")
    print("| cache | median | min | max |\n|---|---:|---:|---:|")
    for label, times in (("cold (fresh profile)", cold), ("warm (reload)", warm)):
        print(f"| {label} | {statistics.median(times):.1f} | {min(times):.1f} | {max(times):.1f} |")
    if over:
        print(f"\nover budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
