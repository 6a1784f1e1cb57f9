"""``GET /api/widget/config``: the widget's texts come from the company's settings."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from tests.integration.bot.conftest import ClientFactory


def test_config_names_the_configured_company(make_client: ClientFactory) -> None:
    client = make_client(company_name="Velo Works", support_email="help@velo.example", locale="en")
    response = client.get("/api/widget/config")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Velo Works"
    assert body["support_email"] == "help@velo.example"
    assert "help@velo.example" in body["fallback"]
    assert body["locale"] == "en"
    assert "kestrel" not in response.text.lower()


def test_config_is_public_for_allowed_origins(make_client: ClientFactory) -> None:
    client = make_client(cors_allow_origins=["https://shop.example"])
    allowed = client.get("/api/widget/config", headers={"Origin": "https://shop.example"})
    assert allowed.headers.get("access-control-allow-origin") == "https://shop.example"
    other = client.get("/api/widget/config", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_greeting_and_subtitle_come_from_the_content_folder_unless_set(
    make_client: ClientFactory, content_dir: Path
) -> None:
    (content_dir / "widget.yml").write_text(
        "subtitle: Bikes and parts\ngreeting: Hi! Ask about bikes.\nfallback: Call us.\n",
        encoding="utf-8",
    )
    body = make_client().get("/api/widget/config").json()
    assert (body["subtitle"], body["greeting"], body["fallback"]) == (
        "Bikes and parts",
        "Hi! Ask about bikes.",
        "Call us.",
    )
    body = make_client(widget_subtitle="Set", widget_greeting="Hello there").get(
        "/api/widget/config"
    )
    assert (body.json()["subtitle"], body.json()["greeting"]) == ("Set", "Hello there")


def test_a_broken_content_file_is_ignored(make_client: ClientFactory, content_dir: Path) -> None:
    (content_dir / "widget.yml").write_text("greeting: [unclosed\n", encoding="utf-8")
    body = make_client().get("/api/widget/config").json()
    assert body["greeting"] == ""
    (content_dir / "widget.yml").write_text("greeting: 3\n", encoding="utf-8")
    assert make_client().get("/api/widget/config").json()["greeting"] == ""


def test_outside_english_the_widget_words_the_fallback(make_client: ClientFactory) -> None:
    body = make_client(locale="zh-CN", support_email="help@velo.example").get("/api/widget/config")
    assert body.json()["fallback"] == ""
    assert body.json()["support_email"] == "help@velo.example"
    assert body.json()["locale"] == "zh-CN"


def test_only_https_image_origins_are_passed_on(make_client: ClientFactory) -> None:
    client = make_client(
        widget_image_origins=["https://cdn.example.com", "http://plain.example", "javascript:x"]
    )
    assert client.get("/api/widget/config").json()["image_origins"] == ["https://cdn.example.com"]


def test_the_loader_is_short_cached_and_names_an_immutable_bundle(
    make_client: ClientFactory,
) -> None:
    client = make_client()
    loader = client.get("/widget.js")
    assert loader.headers["cache-control"] == "no-cache"
    assert len(loader.content) < 5 * 1024
    [name] = re.findall(r"/api/widget/bundle/(concierge\.[0-9a-f]{12}\.js)", loader.text)
    [integrity] = re.findall(r'"(sha384-[A-Za-z0-9+/=]+)"', loader.text)
    bundle = client.get(f"/api/widget/bundle/{name}")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    digest = base64.b64encode(hashlib.sha384(bundle.content).digest()).decode()
    assert integrity == f"sha384-{digest}", "the loader's integrity matches the bundle"
    assert "innerHTML" not in bundle.text
    for bad in ("concierge.000000000000.js", "..%2Fwidget.js", "concierge.js"):
        assert client.get(f"/api/widget/bundle/{bad}").status_code == 404, bad
