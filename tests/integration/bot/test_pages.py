"""The demo page, the widget files and ``/sources/...``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.bot.conftest import ClientFactory


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()


def test_demo_page_embeds_the_widget_with_one_script_tag(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Kestrel Coffee Works" in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/widget.js" defer>']
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_demo_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/").text
    for match in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not re.match(r"^(https?:)?//", match), match
    assert "@import" not in page
    assert "fonts.googleapis" not in page


def test_demo_page_shows_catalog_highlights_escaped(client: TestClient) -> None:
    page = client.get("/").text
    assert "Kestrel Mini 100" in page
    assert "€349" in page
    assert "€12.50 per month" in page
    assert "Kestrel Grind &lt;50&gt;" in page
    assert "<50>" not in page
    assert "Espresso machines" in page


def test_pages_show_the_configured_company_name(make_client: ClientFactory) -> None:
    client = make_client(company_name="Harbour <Coffee>", support_email="help@harbour.example")
    page = client.get("/").text
    assert "<title>Harbour &lt;Coffee&gt;: " in page
    assert "Kestrel Coffee Works" not in page
    assert 'href="mailto:help@harbour.example"' in page
    source = client.get("/sources/docs/shipping.md").text
    assert "<title>Shipping · Harbour &lt;Coffee&gt;</title>" in source
    assert "Kestrel Coffee Works" not in source


def test_demo_page_without_catalog_still_renders(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    client = make_client(catalog_path=tmp_path / "nope.json")
    response = client.get("/")
    assert response.status_code == 200
    assert "catalog is being updated" in response.text


def test_widget_files_are_served(client: TestClient) -> None:
    js = client.get("/widget.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert "concierge-launcher" in js.text
    assert "document.currentScript" in js.text
    assert "innerHTML" not in js.text
    css = client.get("/widget.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_markdown_source_is_safe_html_with_heading_anchors(client: TestClient) -> None:
    response = client.get("/sources/docs/shipping.md")
    assert response.status_code == 200
    page = response.text
    assert '<h1 id="shipping">Shipping</h1>' in page
    assert '<h2 id="international-shipping">International Shipping</h2>' in page
    # GitHub-style slug as the knowledge base cites it, plus the plain slug as an alias.
    assert (
        '<h2 id="returns--refunds"><span id="returns-refunds"></span>Returns &amp; Refunds' in page
    )
    assert "<li>UK &amp; Switzerland: 5-8 days</li>" in page
    assert "<strong>included</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<ol><li>Unused items within 30 days.</li>" in page


def test_faq_source_has_row_anchors(client: TestClient) -> None:
    page = client.get("/sources/faq.csv").text
    assert '<li id="faq-1">' in page
    assert '<li id="faq-2">' in page
    assert "How long is the return window?" in page


def test_catalog_source_has_product_anchors(client: TestClient) -> None:
    page = client.get("/sources/catalog.json").text
    assert '<li id="km-100">' in page
    assert '<li id="kg-50">' in page
    assert "Kestrel Grind &lt;50&gt;" in page


@pytest.mark.parametrize(
    "path",
    [
        "/sources/../secret.txt",
        "/sources/%2e%2e/secret.txt",
        "/sources/docs/%2e%2e/%2e%2e/secret.txt",
        "/sources/..%2fsecret.txt",
        "/sources/%2Fetc%2Fpasswd",
        "/sources//etc/passwd",
        "/sources/.env",
        "/sources/docs/missing.md",
        "/sources/docs",
        "/sources/",
    ],
)
def test_path_traversal_and_missing_documents_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, (path, response.text[:200])
    assert "top secret" not in response.text
    assert "SECRET=1" not in response.text


def test_symlink_out_of_the_content_folder_is_404(
    client: TestClient, content_dir: Path, tmp_path: Path
) -> None:
    (content_dir / "link.md").symlink_to(tmp_path / "secret.txt")
    response = client.get("/sources/link.md")
    assert response.status_code == 404
    assert "top secret" not in response.text


def test_unknown_page_is_a_readable_404(client: TestClient) -> None:
    page = client.get("/nope")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    api = client.get("/api/nope")
    assert api.status_code == 404
    assert api.json() == {"error": "not found", "details": []}
