"""The widget embedded where the company does not control the page, in a real chromium.

A hostile host page (``tests/fixtures/widget/``: ``* { all: unset }``, every button hidden
with ``!important``, its own strict CSP naming only what docs/widget.md says a host must add)
is served by a local HTTP server on another port than the gateway, so the embed is really
cross-origin. The widget there must look like on the demo page (screenshots compared), work,
run the host's queued calls and report its events; axe-core (from ``frontend/widget``'s npm
packages, injected from the file) must find no WCAG A/AA violation; the keyboard alone must
do everything; and on a phone-sized viewport the panel fills the screen above the keyboard.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bot.app import create_app
from tests.integration.bot.conftest import FakeRasa, SettingsFactory
from tests.support.browser import chromium_page, screenshot_on_failure
from tests.support.rasa import serve

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "widget"
AXE = ROOT / "frontend" / "widget" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BOT = ".concierge-msg.concierge-bot"
USER = ".concierge-msg.concierge-user"
QUOTE = "https://shop.example/quotes/q-1"
HOST_FILES = {
    "/": ("hostile.html", "text/html; charset=utf-8"),
    "/hostile.css": ("hostile.css", "text/css; charset=utf-8"),
    "/host.js": ("host.js", "text/javascript; charset=utf-8"),
    "/attrs.html": ("attrs.html", "text/html; charset=utf-8"),
}


def host_csp(gateway: str) -> str:
    """The host's own strict policy plus exactly the entries docs/widget.md asks for."""
    return (
        f"default-src 'none'; script-src 'self' {gateway}; connect-src {gateway}; "
        f"img-src 'self' {gateway}; style-src 'self'; base-uri 'none'; form-action 'none'"
    )


@contextmanager
def hostile_host(gateway: str) -> Iterator[str]:
    """Serve the hostile host page on a free localhost port with its CSP; yield its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = HOST_FILES.get(self.path.split("?", 1)[0])
            if found is None:
                self.send_error(404)
                return
            name, media_type = found
            body = (FIXTURES / name).read_text(encoding="utf-8").replace("{{GATEWAY}}", gateway)
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Security-Policy", host_csp(gateway))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def answer(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A stand-in Rasa: a cited answer with suggested replies and feedback, and a lead."""
    sender, text = body["sender"], body["message"]
    if text == "/lead":
        return [
            {"recipient_id": sender, "text": "Thanks, a sales rep will write to you."},
            {"recipient_id": sender, "custom": {"kind": "lead_captured"}},
        ]
    if text == "a quote":
        return [
            {"recipient_id": sender, "text": "Quote Q-1: total €700."},
            {"recipient_id": sender, "custom": {"kind": "quote", "number": "Q-1", "url": QUOTE}},
            {"recipient_id": sender, "text": "And one more."},
            {"recipient_id": sender, "custom": {"kind": "quote", "url": "javascript:alert(1)"}},
        ]
    if text == "show pictures":
        return [
            {"recipient_id": sender, "text": "Two pictures."},
            {"recipient_id": sender, "image": "https://evil.example/tracker.png"},
        ]
    time.sleep(0.3)
    return [
        {
            "recipient_id": sender,
            "text": "Unused items can be returned within 30 days.",
            "buttons": [
                {"title": "Start a return", "payload": "/lead"},
                {"title": "Talk to a person", "payload": "/ask_human"},
            ],
        },
        {
            "recipient_id": sender,
            "custom": {
                "kind": "kb_answer",
                "answer_id": "answer-1",
                "sources": [
                    {"title": "Shipping › Returns", "location": "docs/shipping.md#returns"}
                ],
            },
        },
    ]


@pytest.fixture
def gateway(make_settings: SettingsFactory, fake_rasa: FakeRasa) -> Iterator[tuple[str, Any]]:
    """The real gateway (stand-in Rasa) on a free port; yields its URL and the app."""
    fake_rasa.reply = answer
    app = create_app(make_settings(rasa=fake_rasa), transport=fake_rasa.transport)
    with serve(app) as base_url:
        yield base_url, app


def ask(page: Page, text: str) -> None:
    before = page.locator(BOT).count()
    page.fill("#concierge-input", text)
    page.press("#concierge-input", "Enter")
    expect(page.locator(BOT)).to_have_count(before + 1)
    expect(page.locator("#concierge-typing")).to_be_hidden()


def panel_png(page: Page) -> bytes:
    page.mouse.move(0, 0)  # no hover state in the picture
    return page.locator("#concierge-panel").screenshot(animations="disabled", caret="hide")


def differing_share(page: Page, first: bytes, second: bytes) -> float:
    """Return the share of pixels that differ visibly between two PNGs (decoded in chromium)."""
    page.goto("about:blank")
    return float(
        page.evaluate(
            """async ([a, b]) => {
                const load = async (data) => createImageBitmap(
                    await (await fetch('data:image/png;base64,' + data)).blob());
                const [x, y] = [await load(a), await load(b)];
                if (x.width !== y.width || x.height !== y.height) return 1;
                const pixels = (bitmap) => {
                    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
                    const context = canvas.getContext('2d');
                    context.drawImage(bitmap, 0, 0);
                    return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
                };
                const [p, q] = [pixels(x), pixels(y)];
                let differing = 0;
                for (let i = 0; i < p.length; i += 4) {
                    const delta = Math.abs(p[i] - q[i]) + Math.abs(p[i + 1] - q[i + 1])
                        + Math.abs(p[i + 2] - q[i + 2]);
                    if (delta > 48) differing += 1;
                }
                return differing / (p.length / 4);
            }""",
            [base64.b64encode(first).decode(), base64.b64encode(second).decode()],
        )
    )


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the widget (its shadow tree included); return A/AA violations."""
    assert AXE.exists(), f"{AXE} is missing: run `make widget` (npm ci in frontend/widget)"
    # evaluate() runs as the test, not as page script, so the page's CSP does not block it
    page.evaluate("source => { (0, eval)(source); }", AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """tags => axe.run({ include: [['#concierge-root']] },
                           { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
              .then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => n.target.join(' ')) })))""",
        AXE_TAGS,
    )
    assert isinstance(result, list)
    return result


def active_id(page: Page) -> str:
    """Return the id (else the class) of the focused element inside the widget, or ''."""
    return str(
        page.evaluate(
            """() => { const host = document.getElementById('concierge-root');
                 const el = host && host.shadowRoot && host.shadowRoot.activeElement;
                 return el ? (el.id || el.className || el.tagName) : ''; }"""
        )
    )


def tab_to(page: Page, wanted: str, key: str = "Tab", limit: int = 40) -> None:
    """Press ``key`` until the widget's focused element's id or class contains ``wanted``."""
    for _ in range(limit):
        if wanted in active_id(page):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{wanted!r} never got the focus (last: {active_id(page)!r})")


def test_widget_on_a_hostile_host_looks_and_works_like_on_the_demo_page(
    gateway: tuple[str, Any], tmp_path: Path
) -> None:
    base_url, _ = gateway
    with (
        hostile_host(base_url) as host_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "hostile-host"),
    ):
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        page.goto(base_url + "/")
        page.click("#concierge-launcher")
        ask(page, "what is the return window?")
        demo = panel_png(page)
        assert not problems, problems

        page.goto(host_url + "/")
        launcher = page.locator("#concierge-launcher")
        expect(launcher).to_be_visible()
        # The host's rules reach neither the widget's element nor anything inside it.
        box = launcher.bounding_box()
        assert box and box["width"] == 56 and box["height"] == 56, box
        assert (
            page.evaluate("getComputedStyle(document.getElementById('concierge-root')).opacity")
            == "1"
        )
        # No element of the widget enters the host's heading outline.
        assert (
            page.evaluate(
                "document.getElementById('concierge-root').shadowRoot.querySelectorAll("
                "'h1,h2,h3,h4,h5,h6,[role=heading]').length"
            )
            == 0
        )
        launcher.click()
        ask(page, "what is the return window?")
        hostile = panel_png(page)
        assert not [p for p in problems if "Content Security Policy" in p], problems

        share = differing_share(page, demo, hostile)
        (tmp_path / "demo.png").write_bytes(demo)
        (tmp_path / "hostile.png").write_bytes(hostile)
        assert share < 0.01, f"{share:.2%} of the panel differs: {tmp_path}/demo.png, hostile.png"


def test_host_api_queue_events_identify_images_and_shutdown(
    gateway: tuple[str, Any], fake_rasa: FakeRasa, tmp_path: Path
) -> None:
    base_url, app = gateway
    with (
        hostile_host(base_url) as host_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "host-api"),
    ):
        page.goto(host_url + "/")
        expect(page.locator("#concierge-launcher")).to_be_visible()
        # Calls the host made before the bundle existed ran: listeners and identify.
        page.wait_for_function("window.hostEvents.some(e => e.name === 'ready')")
        page.evaluate("Concierge('open')")
        expect(page.locator("#concierge-input")).to_be_focused()
        ask(page, "what is the return window?")
        assert fake_rasa.requests[-1]["body"]["metadata"]["customer"] == {
            "email": "ana@shop.example",
            "name": "Ana",
        }

        # A suggested reply, then a lead: the host hears about each step.
        page.locator(".concierge-button", has_text="Start a return").click()
        expect(page.locator(BOT).last).to_contain_text("a sales rep will write")
        conversation_id = page.evaluate("localStorage.getItem('concierge.conversation_id')")
        app.state.gateway.realtime.append(conversation_id, "agent_joined", {})
        expect(page.locator(".concierge-notice")).to_contain_text("has joined")
        names = page.evaluate("window.hostEvents.map(e => e.name)")
        for name in ("ready", "open", "message", "answer", "lead", "handoff"):
            assert name in names, names
        messages = page.evaluate(
            "window.hostEvents.filter(e => e.name === 'message').map(e => e.detail.text)"
        )
        assert messages == ["what is the return window?", "Start a return"]

        # A quote's link is shown when it is https (or the gateway's); anything else is not.
        page.fill("#concierge-input", "a quote")
        page.press("#concierge-input", "Enter")
        expect(page.locator(BOT).last).to_contain_text("And one more.")
        expect(page.locator(".concierge-quote-link")).to_have_count(1)
        expect(page.locator(".concierge-quote-link")).to_have_attribute("href", QUOTE)
        expect(page.locator(".concierge-quote-link")).to_have_text("Open quote Q-1")

        # An image from an origin not in the allow-list is not loaded at all.
        page.fill("#concierge-input", "show pictures")
        page.press("#concierge-input", "Enter")
        expect(page.locator(BOT).last).to_contain_text("Two pictures.")
        assert page.locator(".concierge-image").count() == 0

        # "Stop contacting me" sends the customer's request as a normal message.
        page.locator("#concierge-stop").click()
        expect(page.locator(USER).last).to_have_text("stop contacting me")
        for _ in range(100):  # the bubble is shown before the request reaches the stand-in
            if fake_rasa.requests[-1]["body"]["message"] == "stop contacting me":
                break
            page.wait_for_timeout(50)
        assert fake_rasa.requests[-1]["body"]["message"] == "stop contacting me"

        page.evaluate("Concierge('shutdown')")
        expect(page.locator("#concierge-root")).to_have_count(0)
        assert page.evaluate("typeof window.Concierge") == "undefined"


def test_axe_finds_no_violations_and_the_keyboard_does_everything(
    gateway: tuple[str, Any], fake_rasa: FakeRasa, tmp_path: Path
) -> None:
    base_url, _ = gateway
    with (
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "a11y"),
    ):
        page.goto(base_url + "/")
        expect(page.locator("#concierge-launcher")).to_be_visible()
        assert axe_violations(page) == []  # closed

        # Keyboard only: reach the launcher, open, type, send.
        page.locator("body").focus()
        tab_to(page, "concierge-launcher")
        page.keyboard.press("Enter")
        expect(page.locator("#concierge-input")).to_be_focused()
        page.keyboard.type("what is the return window?")
        page.keyboard.press("Enter")
        expect(page.locator(BOT)).to_have_count(1)
        expect(page.locator("#concierge-typing")).to_be_hidden()
        # The answer was announced once, politely, with its speaker.
        announcer = page.locator("#concierge-announcer")
        expect(announcer).to_have_attribute("aria-live", "polite")
        expect(announcer).to_have_text("Assistant: Unused items can be returned within 30 days.")
        assert page.locator("[aria-live=polite], [role=status]").count() == 1
        # Each message names its speaker for assistive technology; one label per control.
        assert page.locator(f"{USER}[data-speaker='You said:']").count() == 1
        assert page.locator(f"{BOT}[data-speaker='Assistant said:']").count() == 1
        for control in ("#concierge-input", "#concierge-send"):
            assert page.locator(control).get_attribute("aria-label") is None, control
        expect(page.locator("#concierge-input")).to_have_accessible_name("Your message")
        expect(page.locator("#concierge-send")).to_have_accessible_name("Send")

        violations = axe_violations(page)  # open, with buttons, sources and feedback
        assert violations == [], violations

        # Follow the source with the keyboard: it opens in a new tab.
        tab_to(page, "concierge-source", key="Shift+Tab")
        with page.context.expect_page() as opened:
            page.keyboard.press("Enter")
        assert opened.value.url.startswith(f"{base_url}/sources/docs/shipping.md")
        opened.value.close()
        page.bring_to_front()

        # Choose a suggested reply with the keyboard.
        tab_to(page, "concierge-button", key="Shift+Tab")
        page.keyboard.press("Enter")
        expect(page.locator(USER).last).to_have_text(page.locator(".concierge-chosen").inner_text())
        expect(page.locator("#concierge-input")).to_be_focused()

        # Esc closes and gives the focus back to the launcher.
        page.keyboard.press("Escape")
        expect(page.locator("#concierge-panel")).to_be_hidden()
        assert active_id(page) == "concierge-launcher"


def test_phone_viewport_full_screen_panel_keeps_the_input_above_the_keyboard(
    gateway: tuple[str, Any], tmp_path: Path
) -> None:
    base_url, _ = gateway
    with chromium_page(tmp_path) as page, screenshot_on_failure(page, tmp_path, "phone"):
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(base_url + "/")
        page.click("#concierge-launcher")
        panel = page.locator("#concierge-panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
        expect(page.locator("#concierge-launcher")).to_be_hidden()
        expect(page.locator("#concierge-close")).to_be_visible()
        ask(page, "what is the return window?")

        # The on-screen keyboard shrinks the visible viewport: the panel follows it.
        page.set_viewport_size({"width": 390, "height": 500})
        page.wait_for_function(
            "() => document.getElementById('concierge-root').style"
            ".getPropertyValue('--concierge-vv-height') === '500px'"
        )
        form = page.locator("#concierge-form").bounding_box()
        assert form and form["y"] + form["height"] <= 500, form
        expect(page.locator("#concierge-input")).to_be_in_viewport()
        page.click("#concierge-close")
        expect(panel).to_be_hidden()
        expect(page.locator("#concierge-launcher")).to_be_visible()


def test_the_widget_speaks_the_configured_locale(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(locale="zh-CN", company_name="Velo", support_email="help@velo.example")
    with (
        serve(create_app(settings)) as base_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "zh-CN"),
    ):
        page.goto(base_url + "/")
        launcher = page.locator("#concierge-launcher")
        expect(launcher).to_have_attribute("aria-label", "打开聊天：Velo")
        launcher.click()
        expect(page.locator("#concierge-send")).to_have_text("发送")
        expect(page.locator("#concierge-stop")).to_have_text("不要再联系我")
        expect(page.locator("#concierge-input")).to_have_attribute("placeholder", "输入你的问题…")
        expect(page.locator("#concierge-root")).to_have_attribute("lang", "zh-CN")
        # The gateway unreachable: the widget's own fallback, in Chinese, with the address.
        page.route("**/api/chat", lambda route: route.abort())
        page.fill("#concierge-input", "你好")
        page.press("#concierge-input", "Enter")
        expect(page.locator(BOT).last).to_contain_text("请稍后再试")
        expect(page.locator(BOT).last).to_contain_text("help@velo.example")


def test_attributes_on_the_script_tag_override_the_server(
    gateway: tuple[str, Any], tmp_path: Path
) -> None:
    base_url, _ = gateway
    with (
        hostile_host(base_url) as host_url,
        chromium_page(tmp_path) as page,
        screenshot_on_failure(page, tmp_path, "attrs"),
    ):
        page.goto(host_url + "/attrs.html")
        launcher = page.locator("#concierge-launcher")
        expect(launcher).to_have_attribute("aria-label", "打开聊天：Velo Shop")
        launcher.click()
        expect(page.locator("#concierge-title")).to_have_text("Velo Shop")
        # The subtitle was not set on the tag: the server's stays.
        expect(page.locator("#concierge-subtitle")).to_have_text(
            "Ask about products, orders, shipping and returns"
        )
        expect(page.locator(".concierge-greeting")).to_have_text("Hello from the tag")
