"""Read content files into titled sections: Markdown, text, HTML, PDF, FAQ (CSV/JSON), catalog.

A loader never raises anything but ``LoaderError`` for a bad file, so ingestion can report
the file by name and carry on with the others.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.catalog import Catalog, CatalogError
from knowledge.markdown import Heading, parse_document

logger = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = (".md", ".markdown")
TEXT_SUFFIXES = (".txt", ".text")
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = (*MARKDOWN_SUFFIXES, *TEXT_SUFFIXES, *HTML_SUFFIXES, ".pdf", ".csv", ".json")
DROPPED_HTML_TAGS = ("script", "style", "nav", "noscript", "template", "svg", "iframe", "head")


class LoaderError(Exception):
    """A file that cannot be read as knowledge; the message says why (shown to the operator)."""


@dataclass(frozen=True)
class Section:
    """Text under one heading path of a document, before splitting."""

    text: str
    headings: tuple[str, ...] = ()
    """Heading path below the document title, outermost first."""
    anchor: str | None = None
    """Fragment of the location (heading slug, ``faq-3``, product id, ``page=2``)."""
    faq_id: str | None = None
    product_id: str | None = None
    atomic: bool = False
    """Keep as one chunk (an FAQ pair, a product)."""


@dataclass(frozen=True)
class LoadedDocument:
    """A file's title, kind and sections."""

    title: str
    kind: str
    sections: list[Section] = field(default_factory=list)


def humanize_stem(path: Path) -> str:
    """Title from a file name: ``return-policy.md`` -> ``Return policy``; ``faq.csv`` -> ``FAQ``."""
    stem = re.sub(r"[-_]+", " ", path.stem).strip()
    if stem.lower() in ("faq", "faqs"):
        return "FAQ"
    return stem[:1].upper() + stem[1:] if stem else path.name


def read_text(path: Path) -> str:
    """Read a UTF-8 text file; raise ``LoaderError`` for binary or mis-encoded content."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LoaderError(f"cannot read file: {error.strerror or error}") from error
    if b"\x00" in data[:8192]:
        raise LoaderError("binary content, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LoaderError(f"not valid UTF-8 text (byte {error.start}); save it as UTF-8") from error


def parse_markdown(text: str, fallback_title: str, kind: str = "markdown") -> LoadedDocument:
    """Split Markdown into sections at its headings (code blocks are not headings).

    The front-matter ``title:`` or the opening level-1 heading is the document title; other
    headings form the heading path of the text below them. Anchors come from
    :func:`knowledge.markdown.heading_anchors`, the rule the ``/sources`` pages use too.
    """
    document = parse_document(text, fallback_title)
    sections: list[Section] = []
    stack: list[Heading] = []
    anchor: str | None = None
    cursor = 0

    def flush(until: int) -> None:
        content = "\n".join(document.lines[cursor:until]).strip()
        if content:
            sections.append(Section(content, tuple(h.text for h in stack), anchor))

    for heading in document.headings:
        flush(heading.start)
        cursor = heading.end
        if heading is document.title_heading:
            continue
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        anchor = heading.anchor
    flush(len(document.lines))
    return LoadedDocument(title=document.title, kind=kind, sections=sections)


def load_markdown(path: Path) -> LoadedDocument:
    """Load a Markdown file."""
    return parse_markdown(read_text(path), humanize_stem(path))


def load_text(path: Path) -> LoadedDocument:
    """Load a plain-text file as one section titled after the file name."""
    text = read_text(path).strip()
    sections = [Section(text)] if text else []
    return LoadedDocument(title=humanize_stem(path), kind="text", sections=sections)


def html_to_markdown(source: str) -> tuple[str, str]:
    """Return an HTML page's ``<title>`` and its text as Markdown (headings, list items).

    Scripts, styles and navigation are dropped; ``load_html`` and the ``/sources`` page both
    read the page through this, so they see the same headings.
    """
    from bs4 import BeautifulSoup, Tag

    try:
        soup = BeautifulSoup(source, "html.parser")
    except Exception as error:  # bs4 raises assorted errors on pathological input
        raise LoaderError(f"cannot parse HTML: {error}") from error
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(DROPPED_HTML_TAGS):
        tag.decompose()
    for tag in soup.find_all(re.compile(r"^h[1-6]$")):
        if isinstance(tag, Tag):
            level = int(tag.name[1])
            tag.replace_with(f"\n\n{'#' * level} {tag.get_text(' ', strip=True)}\n\n")
    for tag in soup.find_all("li"):
        if isinstance(tag, Tag):
            tag.insert(0, "\n- ")
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    blocks = ("p", "div", "section", "article", "tr", "table", "ul", "ol", "dt", "dd",
              "blockquote", "pre", "main", "header", "footer", "aside", "figure")  # fmt: skip
    for tag in soup.find_all(blocks):
        if isinstance(tag, Tag):
            tag.insert(0, "\n\n")
            tag.append("\n\n")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    return page_title, re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def load_html(path: Path) -> LoadedDocument:
    """Load an HTML page: drop scripts, styles and navigation, keep headings as sections."""
    page_title, text = html_to_markdown(read_text(path))
    return parse_markdown(text, page_title or humanize_stem(path), kind="html")


def load_pdf(path: Path) -> LoadedDocument:
    """Load a PDF's text page by page (anchor ``page=N``)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError("encrypted PDF")
        info_title = (reader.metadata.title if reader.metadata else None) or ""
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoaderError:
        raise
    except Exception as error:  # pypdf raises many error types on broken files
        raise LoaderError(f"cannot read PDF: {type(error).__name__}: {error}") from error
    title = info_title.strip() or humanize_stem(path)
    sections = [
        Section(text.strip(), (f"Page {number}",), f"page={number}")
        for number, text in enumerate(pages, start=1)
        if text.strip()
    ]
    if not sections:
        raise LoaderError("PDF has no extractable text (scanned images?)")
    return LoadedDocument(title=title, kind="pdf", sections=sections)


def faq_row_id(row: Mapping[str, Any], number: int) -> str:
    """Return the anchor of an FAQ row: its ``id`` column, else ``faq-<row number>`` (from 1)."""
    raw_id = row.get("id")
    return str(raw_id).strip() if raw_id not in (None, "") else f"faq-{number}"


def _faq_sections(rows: list[dict[str, Any]], where: str) -> list[Section]:
    sections: list[Section] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        question = str(row.get("question") or "").strip()
        answer = str(row.get("answer") or "").strip()
        if not question or not answer:
            logger.warning("kb.ingest.faq_row_skipped file=%s row=%d", where, number)
            continue
        faq_id = faq_row_id(row, number)
        if faq_id in seen:
            raise LoaderError(f"duplicate FAQ id {faq_id!r}")
        seen.add(faq_id)
        text = f"Q: {question}\nA: {answer}"
        sections.append(Section(text, (question,), faq_id, faq_id=faq_id, atomic=True))
    if not sections:
        raise LoaderError("no rows with both a question and an answer")
    return sections


def load_csv(path: Path) -> LoadedDocument:
    """Load an FAQ table: columns ``question,answer`` and optionally ``id``."""
    text = read_text(path)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if "question" not in fields or "answer" not in fields:
            raise LoaderError("CSV needs 'question' and 'answer' columns")
        reader.fieldnames = fields
        rows: list[dict[str, Any]] = []
        for row in reader:
            if None in row:
                raise LoaderError(f"line {reader.line_num}: more fields than columns")
            rows.append(row)
    except csv.Error as error:
        raise LoaderError(f"malformed CSV: {error}") from error
    return LoadedDocument(humanize_stem(path), "faq", _faq_sections(rows, path.name))


def load_json(path: Path) -> LoadedDocument:
    """Load JSON: a product catalog (object with ``products``) or an FAQ list."""
    try:
        raw = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise LoaderError(f"malformed JSON: {error}") from error
    if isinstance(raw, dict) and "products" in raw:
        return catalog_document(raw)
    if isinstance(raw, dict) and isinstance(raw.get("faq"), list):
        raw = raw["faq"]
    if isinstance(raw, list) and all(isinstance(item, dict) for item in raw):
        return LoadedDocument(humanize_stem(path), "faq", _faq_sections(raw, path.name))
    raise LoaderError("JSON is neither a product catalog nor a list of FAQ objects")


def catalog_document(raw: Any) -> LoadedDocument:
    """Render a parsed catalog as one atomic section per product."""
    try:
        catalog = Catalog.from_dict(raw)
    except CatalogError as error:
        raise LoaderError(f"invalid catalog: {error}") from error
    sections = [Section(p.render(), (p.name,), p.id, product_id=p.id, atomic=True) for p in catalog]
    return LoadedDocument(title="Product catalog", kind="catalog", sections=sections)


LOADERS: dict[str, Callable[[Path], LoadedDocument]] = {
    **dict.fromkeys(MARKDOWN_SUFFIXES, load_markdown),
    **dict.fromkeys(TEXT_SUFFIXES, load_text),
    **dict.fromkeys(HTML_SUFFIXES, load_html),
    ".pdf": load_pdf,
    ".csv": load_csv,
    ".json": load_json,
}


def is_supported(path: Path) -> bool:
    """Whether ingestion has a loader for this file's suffix."""
    return path.suffix.lower() in LOADERS


def load(path: Path) -> LoadedDocument:
    """Load any supported file; raise ``LoaderError`` with a reason otherwise."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoaderError(f"unsupported file type {path.suffix or '(none)'}")
    return loader(path)
