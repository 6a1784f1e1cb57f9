"""Rendering content documents as safe HTML, and confining paths to the content folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.routers.errors import ApiError
from bot.routers.sources import (
    faq_to_html,
    html_to_html,
    inline,
    json_to_html,
    markdown_to_html,
    resolve_document,
    simple_slug,
)
from knowledge.loaders import load_html, parse_markdown

TRICKY_MARKDOWN = (
    "Intro.\n\n# Returns\n\n## Returns\n### Returns\n\nText.\n\n## Returns & Refunds\n\nText.\n\n"
    "## Returns Refunds\n\nText.\n\nSetext\n---\nText.\n\n> ## Quoted\n> quoted text\n\n"
    "## ???\n\n## ???\n\nEnd.\n"
)


def test_simple_slug() -> None:
    assert simple_slug("International Shipping") == "international-shipping"
    assert simple_slug("  Returns & Refunds!! ") == "returns-refunds"
    assert simple_slug("--") == ""


def test_inline_escapes_and_allows_a_safe_subset() -> None:
    assert inline("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    assert inline("**bold** and `<code>`") == "<strong>bold</strong> and <code>&lt;code&gt;</code>"
    assert inline("[site](https://kestrel.example/a?b=1&c=2)") == (
        '<a href="https://kestrel.example/a?b=1&amp;c=2" rel="noopener noreferrer">site</a>'
    )
    assert "href" not in inline("[x](javascript:alert(1))")
    quoted = inline('[x](https://a.example/"onmouseover=alert(1))')
    assert '"onmouseover' not in quoted
    assert "&quot;onmouseover" in quoted


def test_markdown_headings_lists_and_code() -> None:
    title, body = markdown_to_html(
        "---\ntitle: Care guide\n---\n# Care\nIntro line\ncontinued.\n\n## Descaling\n"
        "* Step one\n  more\n* Step two\n\n```\n<raw> code\n```\n\n## Descaling\n\n"
        "| a | b |\n|---|---|\n| 1 | <2> |\n",
        "fallback",
    )
    assert title == "Care guide"
    assert '<h1 id="care">Care</h1>' in body
    assert "<p>Intro line continued.</p>" in body
    assert '<h2 id="descaling">Descaling</h2>' in body
    assert '<h2 id="descaling-1">Descaling</h2>' in body
    assert "<ul><li>Step one more</li><li>Step two</li></ul>" in body
    assert "<pre><code>&lt;raw&gt; code</code></pre>" in body
    assert "<td>&lt;2&gt;</td>" in body


def test_rendered_ids_are_the_anchors_ingestion_cites() -> None:
    _, body = markdown_to_html(TRICKY_MARKDOWN, "Tricky")
    ids = re.findall(r'id="([^"]+)"', body)
    anchors = [s.anchor for s in parse_markdown(TRICKY_MARKDOWN, "Tricky").sections if s.anchor]
    assert anchors == [
        "returns-2",
        "returns--refunds",
        "returns-refunds",
        "setext",
        "quoted",
        "section-1",
    ]
    assert set(anchors) <= set(ids)
    assert len(ids) == len(set(ids)), "ids on a page are unique"


def test_html_page_ids_are_the_anchors_ingestion_cites(tmp_path: Path) -> None:
    page = tmp_path / "returns.html"
    page.write_text(
        "<head><title>Returns page</title></head><h1>Returns</h1><p>a</p><h2>Returns</h2><p>b</p>"
        "<h2>Empty</h2><h3>Below</h3><p>c</p><script>alert(1)</script>"
    )
    title, body = html_to_html(page, "Returns")
    anchors = [s.anchor for s in load_html(page).sections if s.anchor]
    assert anchors == ["returns-1", "below"]
    assert set(anchors) <= set(re.findall(r'id="([^"]+)"', body))
    assert title == "Returns"
    assert "alert" not in body


def test_markdown_raw_html_images_and_unsafe_links_stay_text() -> None:
    _, body = markdown_to_html(
        "# <script>x</script> tips\n\n<div onclick=x>hi</div>\n\n![pic](https://a.example/p.png)"
        " [js](javascript:alert(1)) [rel](other.md) <https://ok.example>\n",
        "t",
    )
    assert "<script" not in body and "&lt;script&gt;x&lt;/script&gt; tips" in body
    assert "<div" not in body and "&lt;div onclick=x&gt;hi&lt;/div&gt;" in body
    assert "<img" not in body
    assert 'href="javascript' not in body and "[js](javascript:alert(1))" in body
    assert 'href="other.md"' not in body
    assert '<a href="https://ok.example" rel="noopener noreferrer">' in body


def test_markdown_without_heading_gets_the_fallback_title() -> None:
    title, body = markdown_to_html("Just text.", "Warranty")
    assert title == "Warranty"
    assert body.startswith("<h1>Warranty</h1>")


def test_faq_ids_follow_the_knowledge_base() -> None:
    body = faq_to_html(
        [
            {"question": "Q1?", "answer": "A1"},
            {"id": "shipping-eu", "question": "Q2?", "answer": "A2 <b>"},
        ],
        "FAQ",
    )
    assert '<li id="faq-1">' in body
    assert '<li id="shipping-eu"><span id="faq-2"></span>' in body
    assert "A2 &lt;b&gt;" in body
    taken = faq_to_html(
        [
            {"id": "a", "question": "Q?", "answer": "A"},
            {"id": "faq-1", "question": "Q?", "answer": "A"},
        ],
        "FAQ",
    )
    assert re.findall(r'id="([^"]+)"', taken) == ["a", "faq-1", "faq-2"]


def test_json_faq_and_plain_json() -> None:
    _, body = json_to_html('{"faq": [{"question": "Q?", "answer": "A"}]}', "FAQ")
    assert '<li id="faq-1">' in body
    _, body = json_to_html('{"hello": "<world>"}', "Data")
    assert "&lt;world&gt;" in body and "<pre>" in body


def test_resolve_document_stays_inside(tmp_path: Path) -> None:
    root = tmp_path / "content"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.md").write_text("# A")
    (root / "image.png").write_bytes(b"png")
    (tmp_path / "outside.md").write_text("secret")
    assert resolve_document(root, "docs/a.md#anchor") == (root / "docs" / "a.md").resolve()
    for bad in [
        "../outside.md",
        "docs/../../outside.md",
        str(tmp_path / "outside.md"),
        "docs",
        "image.png",
        ".hidden.md",
        "docs/\x00.md",
        "",
        "#anchor",
    ]:
        with pytest.raises(ApiError) as caught:
            resolve_document(root, bad)
        assert caught.value.status_code == 404, bad
