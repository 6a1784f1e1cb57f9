"""Markdown for ingestion and for the ``/sources`` pages: one parser, one heading-anchor rule.

Ingestion cuts a document into sections at the headings :func:`parse_document` finds and
cites them as ``path#anchor``; the gateway renders the same tokens and writes the same
anchors as ``id=`` attributes, so a citation always lands on its heading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.normalize_url import normalizeLink
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from knowledge.text import slugify, split_front_matter

LINK_SCHEMES = ("http:", "https:", "mailto:")
"""The only link targets rendered as links; anything else stays text."""
FALLBACK_ANCHOR = "section"
"""Anchor of a heading without letters or digits."""


class SafeMarkdown(MarkdownIt):
    """CommonMark with tables; raw HTML stays text, no images, only web and mail links."""

    def __init__(self) -> None:
        super().__init__("commonmark", {"html": False})
        self.enable("table").disable("image")
        self.core.ruler.push("heading_anchors", _assign_heading_anchors)

    def validateLink(self, url: str) -> bool:
        """Accept only http(s) and mailto targets (no relative, script or data links)."""
        return url.strip().lower().startswith(LINK_SCHEMES)

    def normalizeLink(self, url: str) -> str:
        """Percent-encode like markdown-it, but leave quotes to the HTML escaper (``&quot;``)."""
        return normalizeLink(url).replace("%22", '"')


def heading_anchors(headings: Iterable[str]) -> list[str]:
    """Anchor ids of a document's headings in order: the slug, ``-1``, ``-2`` for repeats."""
    counts: dict[str, int] = {}
    anchors: list[str] = []
    for heading in headings:
        slug = slugify(heading) or FALLBACK_ANCHOR
        count = counts.get(slug, 0)
        counts[slug] = count + 1
        anchors.append(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _assign_heading_anchors(state: StateCore) -> None:
    """Core rule: give every heading its ``id`` (the anchor citations use)."""
    opens = [i for i, token in enumerate(state.tokens) if token.type == "heading_open"]
    texts = [state.tokens[i + 1].content for i in opens]
    for index, anchor in zip(opens, heading_anchors(texts), strict=True):
        state.tokens[index].attrSet("id", anchor)


@lru_cache(maxsize=1)
def get_parser() -> SafeMarkdown:
    """Return the shared Markdown parser (built on first use)."""
    return SafeMarkdown()


@dataclass(frozen=True)
class Heading:
    """One heading of a parsed document, where it is and the anchor it is cited by."""

    level: int
    text: str
    anchor: str
    start: int
    """First source line of the heading (0-based, in the body after the front matter)."""
    end: int
    """Line after the heading."""


@dataclass(frozen=True)
class MarkdownDocument:
    """A parsed Markdown document: title, body lines, tokens and headings."""

    title: str
    lines: list[str]
    tokens: list[Token]
    headings: list[Heading] = field(default_factory=list)
    title_heading: Heading | None = None
    """The level-1 heading that opens the document (the title; its text has no anchor)."""


def parse_document(text: str, fallback_title: str) -> MarkdownDocument:
    """Parse Markdown; the title is the front matter's, else the opening ``#`` heading's."""
    front_title, body = split_front_matter(text, fallback_title)
    tokens = get_parser().parse(body)
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headings = [
        Heading(
            level=int(token.tag[1]),
            text=tokens[index + 1].content,
            anchor=str(token.attrGet("id")),
            start=token.map[0],
            end=token.map[1],
        )
        for index, token in enumerate(tokens)
        if token.type == "heading_open" and token.map is not None
    ]
    opening = headings[0] if headings else None
    if opening is None or opening.level != 1 or any(s.strip() for s in lines[: opening.start]):
        opening = None
    title = front_title
    if opening is not None and front_title == fallback_title:
        title = opening.text
    return MarkdownDocument(title, lines, tokens, headings, opening)
