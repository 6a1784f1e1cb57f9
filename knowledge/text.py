"""Text helpers shared by ingestion, retrieval and answering: tokens, slugs, sentences."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_STOPWORD_TEXT = """
    a about above after again all am an and any are as at be been before being below between
    both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours yourself yourselves s t d ll m re ve y
    please hi hello hey thanks thank also get got let us im ive id dont cant wont whats
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""English function words (and chat filler) that carry no topic for BM25."""

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9€$£])")
_INJECTION_RE = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your)\b"
    r".{0,20}\b(instructions?|prompts?|rules?|messages?)\b"
    r"|\b(system prompt|you are now|act as|new instructions?|jailbreak)\b",
    re.IGNORECASE | re.DOTALL,
)


def normalize(text: str) -> str:
    """Return ``text`` in Unicode NFKC with accents folded and lower-cased (for matching)."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", folded).lower()


_VOWEL_RE = re.compile(r"[aeiouy]")


def stem(token: str) -> str:
    """Strip common English inflections so "emails"/"email" and "backflushing"/"backflush" meet.

    A small, conservative suffix stripper (plural ``-s``/``-es``/``-ies``, ``-ing``, ``-ed``,
    a final ``-e`` and the doubled consonant they leave). It only needs to map the forms of a
    word onto the same key, not to produce real words.
    """
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("ies") and len(token) > 4:
        token = token[:-3] + "y"
    elif token.endswith("sses"):
        token = token[:-2]
    elif token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    for suffix in ("ing", "ed"):
        base = token[: -len(suffix)]
        if token.endswith(suffix) and len(base) >= 3 and _VOWEL_RE.search(base):
            token = base
            if len(token) > 3 and token[-1] == token[-2] and token[-1] not in "lsz":
                token = token[:-1]
            break
    if token.endswith("e") and len(token) > 4:
        token = token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Split ``text`` into stemmed lowercase alphanumeric tokens without stopwords (for BM25)."""
    return [stem(t) for t in _TOKEN_RE.findall(normalize(text)) if t not in STOPWORDS]


def slugify(heading: str) -> str:
    """Return the GitHub-style anchor of a heading (``international-shipping``)."""
    text = normalize(heading).strip()
    text = re.sub(r"[^\w\- ]+", "", text)
    return re.sub(r"\s", "-", text)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences and list items (line breaks separate sentences too)."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*•").strip()
        line = re.sub(r"^(#+|\d{1,2}[.)])\s+", "", line)
        if not line:
            continue
        sentences.extend(s.strip() for s in _SENTENCE_END_RE.split(line) if s.strip())
    return sentences


def looks_like_injection(text: str) -> bool:
    """Whether ``text`` reads like an instruction aimed at an AI assistant (prompt injection)."""
    return bool(_INJECTION_RE.search(text))


def sha256_hex(data: bytes | str, length: int = 64) -> str:
    """Return the SHA-256 of ``data`` (UTF-8 for text) as hex, optionally shortened."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:length]


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` at a word boundary so it fits in ``limit`` characters, adding an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def split_front_matter(text: str, fallback_title: str) -> tuple[str, str]:
    """Return ``(title, body)``: the front matter's ``title:`` (else the fallback), the rest."""
    front = _FRONT_MATTER_RE.match(text)
    if not front:
        return fallback_title, text
    title = fallback_title
    for line in front.group(1).splitlines():
        if line.lower().startswith("title:"):
            title = line.split(":", 1)[1].strip().strip("\"'") or title
    return title, text[front.end() :]
