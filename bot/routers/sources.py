"""``GET /sources/{location}``: the documents answers cite, as simple and safe HTML.

Every piece of content is escaped. Anchors match the locations the knowledge base cites:
Markdown (and HTML pages, read as Markdown) is parsed by ``knowledge.markdown`` exactly as
ingestion parses it, so headings carry the anchors ingestion recorded; FAQ rows get their
``id`` or ``faq-<n>``, catalog products their id, PDF pages are left to the browser
(``#page=N``).
Paths are resolved and must stay inside the content folder; anything else is a 404.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from bot.deps import SettingsDep
from bot.routers.errors import ApiError
from bot.routers.pages import PAGE_SECURITY_HEADERS, category_labeller, parse_products
from bot.templating import render
from knowledge.catalog import STOCK_LABELS
from knowledge.loaders import LoaderError, faq_row_id, html_to_markdown, humanize_stem, read_text
from knowledge.markdown import get_parser, parse_document

logger = logging.getLogger(__name__)

router = APIRouter(tags=["sources"], include_in_schema=False)

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".text", ".html", ".htm", ".csv", ".json"})
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def resolve_document(content_dir: Path, location: str) -> Path:
    """Return the file ``location`` names inside ``content_dir``, or raise a 404 ``ApiError``."""
    relative = location.split("#", 1)[0].strip()
    not_found = ApiError(404, "there is no such document")
    if not relative or "\x00" in relative:
        raise not_found
    parts = Path(relative).parts
    if Path(relative).is_absolute() or any(p.startswith(".") for p in parts):
        raise not_found
    try:
        root = content_dir.resolve(strict=True)
        candidate = (root / relative).resolve(strict=True)
    except (OSError, ValueError, RuntimeError):
        raise not_found from None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise not_found
    suffix = candidate.suffix.lower()
    if suffix not in TEXT_SUFFIXES and suffix != ".pdf":
        raise not_found
    return candidate


# --- Markdown (and HTML pages read as Markdown) ---------------------------------------------


class SourceRenderer(RendererHTML):
    """markdown-it's HTML renderer with heading ids, compact lists and safe links."""

    def heading_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        """Open a heading with its citation id and a ``<span id>`` per alias."""
        token = tokens[idx]
        aliases = token.meta.get("aliases", [])
        spans = "".join(f'<span id="{escapeHtml(a)}"></span>' for a in aliases)
        return f"<{token.tag}{self.renderAttrs(token)}>{spans}"

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """Render a fenced block as plain escaped code."""
        return f"<pre><code>{escapeHtml(tokens[idx].content.rstrip(chr(10)))}</code></pre>\n"

    def code_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        """Render an indented block like a fenced one."""
        return self.fence(tokens, idx, options, env)

    def softbreak(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        """Join the lines of a paragraph with a space."""
        return " "

    def link_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        """Open a link that gives the target no access to this page."""
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)

    def renderToken(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        """Render a token; list items follow each other without line breaks."""
        html = super().renderToken(tokens, idx, options, env)
        return html.rstrip("\n") if tokens[idx].type in _COMPACT_TOKENS else html


_COMPACT_TOKENS = frozenset({"bullet_list_open", "ordered_list_open", "list_item_close"})


@lru_cache(maxsize=1)
def get_renderer() -> SourceRenderer:
    """Return the renderer of the ``/sources`` pages (built on first use)."""
    return SourceRenderer()


def simple_slug(text: str) -> str:
    """Lowercase, non-alphanumerics to ``-``, collapsed and stripped (an alternative anchor)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def inline(text: str) -> str:
    """Render one line of Markdown (code spans, emphasis, http(s)/mailto links), escaped."""
    parser = get_parser()
    return get_renderer().render(parser.parseInline(text), parser.options, {})


def _add_heading_aliases(tokens: Sequence[Token]) -> None:
    """Give each heading its plain slug as an extra anchor where no other id takes it."""
    openings = [
        (t, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"
    ]
    used = {str(t.attrGet("id")) for t, _ in openings}
    for token, text in openings:
        alias = simple_slug(text)
        if alias and alias not in used:
            used.add(alias)
            token.meta["aliases"] = [alias]


def markdown_to_html(text: str, fallback_title: str) -> tuple[str, str]:
    """Return ``(title, body_html)`` of a Markdown document; raw HTML in it stays text."""
    document = parse_document(text, fallback_title)
    _add_heading_aliases(document.tokens)
    body = get_renderer().render(document.tokens, get_parser().options, {})
    has_title = any(h.level == 1 for h in document.headings)
    html = render("source_markdown.html", title=document.title, has_title=has_title, body_html=body)
    return document.title, html


def html_to_html(path: Path, title: str) -> tuple[str, str]:
    """Return an HTML page's text as Markdown renders it (never the page's own markup)."""
    try:
        page_title, text = html_to_markdown(read_text(path))
    except LoaderError:
        return title, text_to_html(path.read_text(encoding="utf-8", errors="replace"), title)
    return markdown_to_html(text, page_title or title)


def text_to_html(text: str, title: str) -> str:
    """Return a plain-text document as paragraphs (lines kept) under its title."""
    paragraphs = [p.strip().splitlines() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return render("source_text.html", title=title, paragraphs=paragraphs)


# --- FAQ and catalog -------------------------------------------------------------------------


def faq_to_html(rows: list[Mapping[str, Any]], title: str) -> str:
    """Return FAQ rows as a list; each item is anchored by its id (and ``faq-<n>``)."""
    entries = [
        (number, faq_row_id(row, number), row)
        for number, row in enumerate(rows, start=1)
        if str(row.get("question") or "").strip() or str(row.get("answer") or "").strip()
    ]
    used = {faq_id for _, faq_id, _ in entries}
    items: list[dict[str, str]] = []
    for number, faq_id, row in entries:
        alias = f"faq-{number}"
        if alias in used:
            alias = ""
        used.add(alias)
        question = str(row.get("question") or "").strip()
        answer = str(row.get("answer") or "").strip()
        items.append({"id": faq_id, "alias": alias, "question": question, "answer": answer})
    return render("source_faq.html", title=title, items=items)


def _spec_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def catalog_to_html(data: Mapping[str, Any]) -> tuple[str, str]:
    """Return ``(title, body_html)`` of a product catalog; each product is anchored by its id."""
    title = "Product catalog"  # the page's <title> adds the company's name from the settings
    body = render(
        "source_catalog.html",
        title=title,
        products=parse_products(data),
        category_label=category_labeller(data),
        stock_labels=STOCK_LABELS,
        spec_value=_spec_value,
    )
    return title, body


def csv_to_html(text: str, title: str) -> str:
    """Return an FAQ table (``question,answer[,id]``) as an anchored list."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
    return faq_to_html(list(reader), title)


def json_to_html(text: str, title: str) -> tuple[str, str]:
    """Return a catalog, an FAQ list, or other JSON (pretty-printed) as HTML."""
    data = json.loads(text)
    if isinstance(data, Mapping) and isinstance(data.get("products"), list):
        return catalog_to_html(data)
    if isinstance(data, Mapping) and isinstance(data.get("faq"), list):
        data = data["faq"]
    if isinstance(data, list) and all(isinstance(item, Mapping) for item in data):
        if any("question" in item for item in data):
            return title, faq_to_html(data, title)
        if any("name" in item for item in data):
            return catalog_to_html({"products": data})
    pretty = json.dumps(data, indent=2, ensure_ascii=False)
    return title, render("source_json.html", title=title, pretty=pretty)


def render_document(path: Path) -> tuple[str, str]:
    """Return ``(title, body_html)`` for a text document."""
    title = humanize_stem(path)
    suffix = path.suffix.lower()
    if suffix in {".html", ".htm"}:
        return html_to_html(path, title)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        if suffix in {".md", ".markdown"}:
            return markdown_to_html(text, title)
        if suffix == ".csv":
            return title, csv_to_html(text, title)
        if suffix == ".json":
            return json_to_html(text, title)
    except (ValueError, csv.Error) as error:
        logger.warning("sources.render.fallback file=%s error=%s", path.name, error)
    return title, text_to_html(text, title)


@router.get("/sources/{location:path}", response_model=None)
def source_document(location: str, settings: SettingsDep) -> Response:
    """Show a cited document from the content folder."""
    path = resolve_document(settings.content_dir, location)
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise ApiError(404, "this document is too large to show here")
    if path.suffix.lower() == ".pdf":
        return FileResponse(
            path,
            media_type="application/pdf",
            content_disposition_type="inline",
            headers={"X-Content-Type-Options": "nosniff"},
        )
    title, body = render_document(path)
    relative = path.relative_to(settings.content_dir.resolve()).as_posix()
    page = render(
        "source.html",
        title=title,
        path=relative,
        body_html=body,
        company_name=settings.company_name,
    )
    return HTMLResponse(page, headers=PAGE_SECURITY_HEADERS)
