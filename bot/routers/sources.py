"""``GET /sources/{location}``: the documents answers cite, as simple and safe HTML.

Every piece of content is escaped. Anchors match the locations the knowledge base cites:
Markdown headings get their slug (repeats get ``-1``, ``-2``), FAQ rows their ``id`` or
``faq-<n>``, catalog products their id, PDF pages are left to the browser (``#page=N``).
Paths are resolved and must stay inside the content folder; anything else is a 404.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot.deps import SettingsDep
from bot.routers.errors import ApiError
from bot.routers.pages import PAGE_SECURITY_HEADERS, format_price, render_template
from knowledge.text import slugify, split_front_matter

logger = logging.getLogger(__name__)

router = APIRouter(tags=["sources"], include_in_schema=False)

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".text", ".html", ".htm", ".csv", ".json"})
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_BULLET_RE = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED_RE = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_CODE_SPAN_RE = re.compile(r"(`[^`]+`)")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LINK_RE = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:)[^)\s]+)\)")
_TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{2,}")


def simple_slug(text: str) -> str:
    """Lowercase, non-alphanumerics to ``-``, collapsed and stripped (an alternative anchor)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


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


# --- inline and block Markdown -------------------------------------------------------------


def inline(text: str) -> str:
    """Escape ``text`` and render code spans, bold and http(s)/mailto links."""
    out: list[str] = []
    for part in _CODE_SPAN_RE.split(text):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        escaped = html.escape(part)
        escaped = _BOLD_RE.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", escaped)
        escaped = _LINK_RE.sub(
            lambda m: f'<a href="{m.group(2)}" rel="noopener noreferrer">{m.group(1)}</a>', escaped
        )
        out.append(escaped)
    return "".join(out)


class _Anchors:
    """Heading ids as the knowledge base cites them, unique within one page."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.used: set[str] = set()

    def heading(self, text: str) -> tuple[str, list[str]]:
        """Return the heading's id and extra anchors (the plain slug when it differs)."""
        slug = slugify(text) or "section"
        count = self.counts.get(slug, 0)
        self.counts[slug] = count + 1
        anchor = slug if count == 0 else f"{slug}-{count}"
        self.used.add(anchor)
        extras: list[str] = []
        alternative = simple_slug(text)
        if alternative and alternative not in self.used:
            self.used.add(alternative)
            if alternative != anchor:
                extras.append(alternative)
        return anchor, extras


def _heading_html(level: int, text: str, anchors: _Anchors) -> str:
    anchor, extras = anchors.heading(text)
    spans = "".join(f'<span id="{html.escape(e)}"></span>' for e in extras)
    return f'<h{level} id="{html.escape(anchor)}">{spans}{inline(text)}</h{level}>'


def _table_html(rows: list[str]) -> str:
    cells = [
        [c.strip() for c in row.strip().strip("|").split("|")]
        for row in rows
        if not _TABLE_RULE_RE.match(row)
    ]
    if not cells:
        return ""
    head, *body = cells
    out = ["<table><thead><tr>", *(f"<th>{inline(c)}</th>" for c in head), "</tr></thead><tbody>"]
    for row in body:
        out.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def markdown_to_html(text: str, fallback_title: str) -> tuple[str, str]:
    """Return ``(title, body_html)`` of a Markdown document (a safe subset of Markdown)."""
    title, text = split_front_matter(text, fallback_title)
    anchors = _Anchors()
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    table: list[str] = []
    title_seen = title != fallback_title  # the front matter named it

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            entries = "".join(f"<li>{inline(i)}</li>" for i in items)
            out.append(f"<{list_tag}>{entries}</{list_tag}>")
            items.clear()
        if table:
            out.append(_table_html(table))
            table.clear()
        list_tag = ""

    lines = iter(text.splitlines())
    for line in lines:
        if _FENCE_RE.match(line):
            flush()
            code: list[str] = []
            for inner in lines:
                if _FENCE_RE.match(inner):
                    break
                code.append(inner)
            out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
            continue
        heading = _HEADING_RE.match(line)
        if heading:
            flush()
            level, heading_text = len(heading.group(1)), heading.group(2).strip()
            if level == 1 and not title_seen:
                title, title_seen = heading_text, True
            out.append(_heading_html(level, heading_text, anchors))
            continue
        if not line.strip():
            flush()
            continue
        if line.lstrip().startswith("|"):
            if paragraph or items:
                flush()
            table.append(line)
            continue
        bullet, numbered = _BULLET_RE.match(line), _NUMBERED_RE.match(line)
        if bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or table or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))  # type: ignore[union-attr]
            continue
        if items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
            continue
        if items or table:
            flush()
        paragraph.append(line.strip().removeprefix("> ").removeprefix(">"))
    flush()
    if not title_seen:
        out.insert(0, f"<h1>{inline(title)}</h1>")
    return title, "\n".join(out)


def text_to_html(text: str, title: str) -> str:
    """Return a plain-text document as escaped paragraphs under its title."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f"<h1>{html.escape(title)}</h1>\n{body}"


# --- FAQ and catalog -------------------------------------------------------------------------


def _faq_rows(rows: list[Mapping[str, Any]]) -> Iterator[tuple[int, str, str, str]]:
    """Yield ``(number, faq_id, question, answer)`` with the ids the knowledge base cites."""
    for number, row in enumerate(rows, start=1):
        question = str(row.get("question") or "").strip()
        answer = str(row.get("answer") or "").strip()
        if not question and not answer:
            continue
        raw_id = row.get("id")
        faq_id = str(raw_id).strip() if raw_id not in (None, "") else f"faq-{number}"
        yield number, faq_id, question, answer


def faq_to_html(rows: list[Mapping[str, Any]], title: str) -> str:
    """Return FAQ rows as a list; each item is anchored by its id (and ``faq-<n>``)."""
    items: list[str] = []
    used: set[str] = set()
    for number, faq_id, question, answer in _faq_rows(rows):
        extra = ""
        numbered = f"faq-{number}"
        if numbered != faq_id and numbered not in used:
            extra = f'<span id="{numbered}"></span>'
            used.add(numbered)
        used.add(faq_id)
        items.append(
            f'<li id="{html.escape(faq_id)}">{extra}<p class="q">{html.escape(question)}</p>'
            f"<p>{html.escape(answer)}</p></li>"
        )
    return f'<h1>{html.escape(title)}</h1>\n<ol class="faq">{"".join(items)}</ol>'


def _spec_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def catalog_to_html(data: Mapping[str, Any]) -> tuple[str, str]:
    """Return ``(title, body_html)`` of a product catalog; each product is anchored by its id."""
    company = str(data.get("company") or "").strip()
    title = f"{company} product catalog" if company else "Product catalog"
    items: list[str] = []
    for product in data.get("products") or []:
        if not isinstance(product, Mapping):
            continue
        esc = html.escape
        specs = product.get("specs") if isinstance(product.get("specs"), Mapping) else {}
        spec_items = "".join(
            f"<li>{esc(str(k).replace('_', ' '))}: {esc(_spec_value(v))}</li>"
            for k, v in (specs or {}).items()
        )
        uses = product.get("use_cases")
        use_text = ", ".join(str(u) for u in uses) if isinstance(uses, list) else ""
        category = str(product.get("category") or "").replace("-", " ")
        stock = str(product.get("stock") or "").replace("_", " ")
        items.append(
            f'<li id="{esc(str(product.get("id", "")))}">'
            f'<p class="name">{esc(str(product.get("name", "")))}</p>'
            f'<p class="meta">{esc(category)} &middot; {esc(format_price(product))}'
            f"{' &middot; ' + esc(stock) if stock else ''}</p>"
            f"<p>{esc(str(product.get('summary') or ''))}</p>"
            + (f"<ul>{spec_items}</ul>" if spec_items else "")
            + (f"<p>Good for: {esc(use_text)}</p>" if use_text else "")
            + "</li>"
        )
    return title, f'<h1>{html.escape(title)}</h1>\n<ul class="products">{"".join(items)}</ul>'


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
    pretty = html.escape(json.dumps(data, indent=2, ensure_ascii=False))
    return title, f"<h1>{html.escape(title)}</h1>\n<pre>{pretty}</pre>"


def html_to_html(path: Path, title: str) -> tuple[str, str]:
    """Return an HTML page's text as headings and paragraphs (never the page's own markup)."""
    from knowledge.loaders import LoaderError, load_html

    try:
        document = load_html(path)
    except LoaderError:
        return title, text_to_html(path.read_text(encoding="utf-8", errors="replace"), title)
    anchors = _Anchors()
    out = [f"<h1>{html.escape(document.title)}</h1>"]
    for section in document.sections:
        if section.headings:
            level = min(2 + len(section.headings) - 1, 6)
            out.append(_heading_html(level, section.headings[-1], anchors))
        for paragraph in re.split(r"\n\s*\n", section.text):
            if paragraph.strip():
                out.append(f"<p>{inline(' '.join(paragraph.split()))}</p>")
    return document.title, "\n".join(out)


def humanize_stem(path: Path) -> str:
    """Title from a file name: ``return-policy.md`` -> ``Return policy``; ``faq.csv`` -> ``FAQ``."""
    stem = re.sub(r"[-_]+", " ", path.stem).strip()
    if stem.lower() in ("faq", "faqs"):
        return "FAQ"
    return stem[:1].upper() + stem[1:] if stem else path.name


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
    page = render_template(
        "source.html", title=html.escape(title), path=html.escape(relative), body=body
    )
    return HTMLResponse(page, headers=PAGE_SECURITY_HEADERS)
