"""Extractive answers: the one to three sentences of the best chunks that answer the question.

Each sentence of the confident top chunks is scored by ``0.6 * cosine(sentence, question) +
0.2 * word overlap + 0.2 * its chunk's retrieval score relative to the best chunk``. A short
FAQ answer or section is quoted whole; otherwise the best sentence is kept with its
best-scoring neighbours from the same chunk, in document order, within ``max_chars``.
Product facts ("Price: €249") are scored and shown with the product's name. Sentences that
read like instructions to an AI (prompt injection) or talk about the document itself ("This
page explains...") are never quoted.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.messages import SourceRef
from knowledge.embeddings import Matrix, VectorEncoder
from knowledge.text import looks_like_injection, shorten, split_sentences, tokenize
from knowledge.types import Chunk

logger = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 350
MAX_SENTENCES = 3
SENTENCE_WEIGHT = 0.6
OVERLAP_WEIGHT = 0.2
PRIOR_WEIGHT = 0.2
CONTEXT_HEADINGS = True
_SENTENCE_CACHE_SIZE = 4096
_META_RE = re.compile(
    r"^this (page|document|section|guide|article|chapter) (explains|describes|covers|lists|tells)"
    r"|^(for [^.]{0,80}, )?see (also |below|above|\"[^\"]+\"\.?$)",
    re.IGNORECASE,
)
"""Sentences about the document itself ("This page explains...", "See "Warranty".")."""


@dataclass(frozen=True)
class _Sentence:
    chunk: int
    position: int
    text: str


def source_of(chunk: Chunk) -> SourceRef:
    """How a person cites a chunk: heading path and location."""
    return SourceRef(title=chunk.heading or chunk.title or chunk.source, location=chunk.location)


def dedupe_sources(chunks: list[Chunk]) -> list[SourceRef]:
    """Return the sources of ``chunks`` in order, without repeats."""
    return list(dict.fromkeys(source_of(c) for c in chunks))


def chunk_body(chunk: Chunk) -> str:
    """Return the chunk's text without the heading line that ingestion prefixed."""
    first, _, rest = chunk.text.partition("\n\n")
    return rest if rest and first.strip() in (chunk.heading or "", chunk.title) else chunk.text


def _answer_sentences(chunk: Chunk) -> list[str]:
    """Candidate sentences of a chunk (an FAQ contributes only its answer)."""
    body = chunk_body(chunk)
    if chunk.faq_id:
        _, found, answer = body.partition("A:")
        body = answer if found else body
    sentences = split_sentences(body)
    if chunk.product_id and sentences:
        sentences = sentences[1:] or sentences  # the first line only repeats the name
    return [
        s
        for s in sentences
        if re.search(r"\w", s) and not looks_like_injection(s) and not _META_RE.search(s)
    ]


def _product_name(chunk: Chunk) -> str:
    return chunk.heading.split(" › ")[-1] if chunk.heading else ""


def _in_context(chunk: Chunk, sentence: str) -> str:
    """Text embedded for a sentence: product facts ("Price: €249") carry the product's name."""
    name = _product_name(chunk) if chunk.product_id else ""
    return f"{name}: {sentence}" if name and name.lower() not in sentence.lower() else sentence


def _scored_text(chunk: Chunk, sentence: str) -> str:
    """Text embedded to score a sentence: with its product's name or its section heading.

    "Orders and invoices: kept for 7 years" only answers "how long do you keep my data?"
    together with its heading "How long we keep your data".
    """
    if chunk.product_id or not CONTEXT_HEADINGS or not chunk.heading:
        return _in_context(chunk, sentence)
    section = chunk.heading.split(" › ")[-1]
    return f"{section}: {sentence}" if section.lower() not in sentence.lower() else sentence


class ExtractiveAnswerer:
    """Picks answer sentences from retrieved chunks."""

    def __init__(
        self,
        encoder: VectorEncoder,
        max_chars: int = MAX_ANSWER_CHARS,
        max_sentences: int = MAX_SENTENCES,
    ) -> None:
        self.encoder = encoder
        self.max_chars = max_chars
        self.max_sentences = max_sentences
        self._cache: OrderedDict[str, Matrix] = OrderedDict()
        self._cache_lock = threading.Lock()

    def answer(
        self,
        question: str,
        chunks: list[Chunk],
        query_vector: Matrix | None = None,
        priors: Sequence[float] | None = None,
    ) -> tuple[str, list[Chunk]] | None:
        """Return the answer text and the chunks it quotes, or None if nothing is quotable.

        ``priors`` (default: the chunks' scores) say how relevant each chunk is as a whole;
        a sentence's score adds its chunk's prior relative to the best chunk.
        """
        sentences = [
            _Sentence(index, position, text)
            for index, chunk in enumerate(chunks)
            for position, text in enumerate(_answer_sentences(chunk))
        ]
        if not sentences:
            return None
        vector = query_vector if query_vector is not None else self.encoder.encode([question])[0]
        query = np.asarray(vector, dtype=np.float32)
        plain = self._embed([_in_context(chunks[s.chunk], s.text) for s in sentences]) @ query
        cosines = plain
        if CONTEXT_HEADINGS:
            framed = self._embed([_scored_text(chunks[s.chunk], s.text) for s in sentences])
            cosines = (plain + framed @ query) / 2
        words = set(tokenize(question))
        chunk_priors = list(priors) if priors is not None else [c.score for c in chunks]
        top_prior = max(max(chunk_priors, default=0.0), 1e-6)
        scores = []
        for sentence, cosine in zip(sentences, cosines, strict=True):
            overlap = len(words & set(tokenize(sentence.text))) / len(words) if words else 0.0
            prior = chunk_priors[sentence.chunk] / top_prior
            scores.append(
                SENTENCE_WEIGHT * float(cosine) + OVERLAP_WEIGHT * overlap + PRIOR_WEIGHT * prior
            )
        best = int(np.argmax(scores))
        chunk_index = sentences[best].chunk
        chunk = chunks[chunk_index]
        own = [i for i, s in enumerate(sentences) if s.chunk == chunk_index]
        if not chunk.product_id:  # a short FAQ answer or section is quoted whole
            whole = " ".join(sentences[i].text for i in own)
            if len(whole) <= self.max_chars:
                return whole, [chunk]
        chosen = self._grow(best, own, sentences, scores)
        text = " ".join(sentences[i].text for i in sorted(chosen))
        if chunk.product_id:
            text = _in_context(chunk, text)
        return shorten(text, self.max_chars), [chunk]

    def _grow(
        self, best: int, own: list[int], sentences: list[_Sentence], scores: list[float]
    ) -> set[int]:
        """Add neighbouring sentences that score well, while the answer stays short."""
        chosen = {best}
        length = len(sentences[best].text)
        threshold = scores[best] * 0.8
        while len(chosen) < self.max_sentences:
            positions = {sentences[i].position for i in chosen}
            neighbours = [
                i
                for i in own
                if i not in chosen
                and (
                    sentences[i].position - 1 in positions or sentences[i].position + 1 in positions
                )
            ]
            if not neighbours:
                break
            pick = max(neighbours, key=lambda i: scores[i])
            if scores[pick] < threshold or length + 1 + len(sentences[pick].text) > self.max_chars:
                break
            chosen.add(pick)
            length += 1 + len(sentences[pick].text)
        return chosen

    def _embed(self, texts: list[str]) -> Matrix:
        """Embed sentences, remembering recent ones (the same chunks come up again)."""
        with self._cache_lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self.encoder.encode(missing), strict=True))
        with self._cache_lock:
            for text in dict.fromkeys(texts):
                self._cache[text] = known[text]
                self._cache.move_to_end(text)
            while len(self._cache) > _SENTENCE_CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.stack([known[t] for t in texts])
