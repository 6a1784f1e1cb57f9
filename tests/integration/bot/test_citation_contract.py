"""Every location the knowledge base cites opens on ``/sources`` at an element with that id.

Ingestion (knowledge.loaders) records ``path#anchor`` for each chunk; the gateway renders
``/sources/path`` and writes ``id=`` attributes. This test ingests every format the loaders
read with the real KnowledgeBase (hashing embeddings, in-memory chroma) and opens every
cited location in the real app, so it fails as soon as the two sides disagree.
"""

from __future__ import annotations

import io
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from core.config import PROJECT_ROOT
from knowledge.service import KnowledgeBase
from knowledge.store import make_ephemeral_client
from tests.integration.bot.conftest import ClientFactory, SettingsFactory
from tests.support.embeddings import HashingEmbeddings
from tests.support.pdf import write_pdf

DEMO = PROJECT_ROOT / "knowledge" / "demo"
FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "knowledge" / "content"

EDGE_MARKDOWN = """---
title: Edge cases
---
Intro before any heading.

# Returns

Text under a level-1 heading that is not the first line.

## Returns

First repeat.

### Returns

Second repeat.

## Returns & Refunds!

Punctuation in the heading.

## ???

No letters at all.

## ???

Still no letters.

## Returns Refunds

Collides with the plain slug of the heading above.

## Empty section
### Directly below

Text.

Setext heading
--------------

```
# not a heading
## returns
```

> ## Quoted heading
>
> Inside a quote.

## <script>alert(1)</script> tips

Raw HTML in a heading stays text.

## Café & Crème

Accents.
"""

EDGE_HTML = """<!doctype html>
<html><head><title>Returns page</title><style>h1 {}</style></head>
<body><nav>Menu</nav>
<h1>Returns</h1><p>Intro.</p>
<h2>Returns</h2><p>A repeat of the title.</p>
<h2>Empty</h2><h3>Below empty</h3><p>Text.</p>
<h2>Returns</h2><ul><li>One</li><li>Two</li></ul>
<script>console.log(1)</script>
</body></html>
"""

EDGE_FAQ_JSON = """[
  {"id": "returns", "question": "Row one, whose number row two takes as its id?", "answer": "Yes."},
  {"id": "faq-1", "question": "An explicit id that looks like a row number?", "answer": "Yes."},
  {"question": "Third row without an id?", "answer": "Anchored faq-3."}
]
"""


class _Ids(HTMLParser):
    """Collect every ``id`` attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids[value] += 1


def page_ids(page: str) -> Counter[str]:
    """Return how often each id occurs on an HTML page."""
    parser = _Ids()
    parser.feed(page)
    parser.close()
    return parser.ids


@pytest.fixture
def every_format(tmp_path: Path) -> Path:
    """A content folder with the demo, the test fixtures and edge cases of each format."""
    root = tmp_path / "every-format"
    shutil.copytree(DEMO, root)
    shutil.copytree(FIXTURES, root / "fixtures")
    edge = root / "edge"
    edge.mkdir()
    (edge / "headings.md").write_text(EDGE_MARKDOWN, encoding="utf-8")
    (edge / "returns.html").write_text(EDGE_HTML, encoding="utf-8")
    (edge / "faq.json").write_text(EDGE_FAQ_JSON, encoding="utf-8")
    (edge / "notes.txt").write_text("Plain text.\n\nTwo paragraphs.\n", encoding="utf-8")
    write_pdf(edge / "sheet.pdf", [["Page one."], ["Page two."], ["Page three."]], "Sheet")
    return root


@pytest.fixture
def locations(every_format: Path, make_settings: SettingsFactory) -> list[str]:
    """Ingest the folder with the real knowledge base; return every chunk's location."""
    settings = make_settings(content_dir=every_format, migrate=False)
    kb = KnowledgeBase(
        settings.knowledge,
        client=make_ephemeral_client(),
        embeddings=HashingEmbeddings(),
        progress=False,
    )
    report = kb.ingest()
    assert report.files_skipped == []
    chunks = list(kb.store.iter_chunks(include_documents=False))
    kinds = {chunk.metadata["kind"] for chunk in chunks}
    assert kinds == {"markdown", "text", "html", "pdf", "faq", "catalog"}
    return sorted({str(chunk.metadata["location"]) for chunk in chunks})


def test_the_edge_cases_are_cited_with_anchors(locations: list[str]) -> None:
    edge = {loc for loc in locations if loc.startswith("edge/")}
    for anchor in [
        "returns-1",
        "returns-2",
        "returns-refunds",
        "section",
        "section-1",
        "directly-below",
        "quoted-heading",
        "cafe--creme",
    ]:
        assert f"edge/headings.md#{anchor}" in edge
    assert {"edge/returns.html#returns-1", "edge/returns.html#returns-2"} <= edge
    assert {"edge/faq.json#returns", "edge/faq.json#faq-1", "edge/faq.json#faq-3"} <= edge
    assert {f"edge/sheet.pdf#page={n}" for n in (1, 2, 3)} <= edge
    assert "edge/notes.txt" in edge


def test_every_cited_location_opens_at_its_anchor(
    locations: list[str], every_format: Path, make_client: ClientFactory
) -> None:
    client: TestClient = make_client(content_dir=every_format)
    pages: dict[str, str] = {}
    missing: list[str] = []
    for location in locations:
        path, _, anchor = location.partition("#")
        response = client.get(f"/sources/{quote(path)}")
        assert response.status_code == 200, location
        if path.endswith(".pdf"):
            assert response.headers["content-type"] == "application/pdf"
            number = re.fullmatch(r"page=(\d+)", anchor)
            assert number is not None, location
            pages_in_pdf = len(PdfReader(io.BytesIO(response.content)).pages)
            assert 1 <= int(number.group(1)) <= pages_in_pdf, location
            continue
        if not anchor:
            continue
        page = pages.setdefault(path, response.text)
        if page_ids(page)[anchor] != 1:
            missing.append(location)
    assert missing == [], "cited anchors without exactly one element with that id"
    assert len(locations) > 250
