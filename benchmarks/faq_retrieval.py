"""FAQ retrieval with paraphrased questions: BM25, dense and the shipped hybrid side by side.

Run from the repository root in the app's environment::

    .venv/bin/python -m benchmarks.faq_retrieval --split validation
    .venv/bin/python -m benchmarks.faq_retrieval --split test

Data: ``benchmarks/data/cdc-faq`` (108 CDC entries of deepset's COVID-QA FAQ set and 244
paraphrases of their questions written by people; its README cites the source). The FAQ is
ingested through the normal path (``knowledge/demo/faq.csv`` format: one chunk per entry,
``Q: ... A: ...``, the question as heading) into a temporary chroma folder. The entries are
split in two halves by a seeded shuffle (every paraphrase of an entry falls in the same
half): settings are chosen on ``validation`` and ``test`` is reported once. A hit is the
paraphrased entry; MRR is MRR@10.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.config import KnowledgeSettings
from knowledge.retrieve import HybridRetriever, Mode
from knowledge.service import KnowledgeBase

DATA = Path(__file__).resolve().parent / "data" / "cdc-faq"
SEED = 42
K = 10


@dataclass(frozen=True)
class Query:
    """A paraphrase and the id of the FAQ entry it paraphrases."""

    text: str
    faq_id: str


def load_queries(split: str) -> list[Query]:
    """Return the paraphrases of the entries in ``split`` (``validation``, ``test``, ``all``)."""
    with (DATA / "queries.csv").open(encoding="utf-8", newline="") as handle:
        queries = [Query(row["query"], row["faq_id"]) for row in csv.DictReader(handle)]
    entries = sorted({q.faq_id for q in queries})
    random.Random(SEED).shuffle(entries)
    half = set(entries[: len(entries) // 2])
    if split == "all":
        return queries
    return [q for q in queries if (q.faq_id in half) == (split == "validation")]


def build(work: Path) -> KnowledgeBase:
    """Ingest the FAQ into a fresh knowledge base under ``work``."""
    content = work / "content"
    content.mkdir()
    with (DATA / "faq.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (content / "faq.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "question", "answer"])
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row[key] for key in ("id", "question", "answer")})
    settings = KnowledgeSettings(
        content_dir=content,
        catalog_path=content / "no-catalog.json",
        chroma_dir=work / "chroma",
        collection="faq-benchmark",
    )
    kb = KnowledgeBase(settings, progress=False)
    kb.ingest()
    return kb


@dataclass
class Scores:
    """Recall@1, Recall@5 and MRR@10 accumulated over queries."""

    n: int = 0
    r1: int = 0
    r5: int = 0
    rr: float = 0.0

    def add(self, ranked: list[str], relevant: str) -> None:
        """Score one ranking (entry ids, best first)."""
        self.n += 1
        rank = ranked.index(relevant) + 1 if relevant in ranked[:K] else None
        self.r1 += rank == 1
        self.r5 += rank is not None and rank <= 5
        self.rr += 1.0 / rank if rank else 0.0

    def row(self) -> str:
        """Markdown cells: R@1, R@5, MRR@10."""
        return f"{self.r1 / self.n:.3f} | {self.r5 / self.n:.3f} | {self.rr / self.n:.3f}"


Variant = tuple[str, Mode, Callable[[HybridRetriever], None]]


def _keep(_: HybridRetriever) -> None:
    return None


def _no_heading(retriever: HybridRetriever) -> None:
    retriever.heading_weight = 0.0


def _setting(**values: object) -> Callable[[HybridRetriever], None]:
    def adjust(retriever: HybridRetriever) -> None:
        for key, value in values.items():
            setattr(retriever, key, value)

    return adjust


def variants(diagnose: bool = False) -> list[Variant]:
    """The retrievers compared: each alone, the shipped hybrid, and it without headings.

    ``diagnose`` adds the settings tried on the validation half: how BM25 is scaled before
    fusion, the dense weight, and reciprocal rank fusion.
    """
    shown: list[Variant] = [
        ("BM25", "bm25", _keep),
        ("dense (all-MiniLM-L6-v2 in chroma)", "dense", _keep),
        ("hybrid, shipped", "hybrid", _keep),
        ("hybrid, shipped, without the heading signal", "hybrid", _no_heading),
        ("hybrid as released before (BM25 scaled by its best score)", "hybrid",
         _setting(bm25_scale="max")),
    ]  # fmt: skip
    if not diagnose:
        return shown
    tried: list[Variant] = [
        (f"hybrid, BM25 scaled by {scale}, dense weight {weight}", "hybrid",
         _setting(bm25_scale=scale, dense_weight=weight))
        for scale in ("max", "coverage") for weight in (0.5, 0.6, 0.7, 0.8, 0.9)
    ]  # fmt: skip
    tried += [
        ("hybrid, BM25 scaled by max, no heading", "hybrid",
         _setting(bm25_scale="max", heading_weight=0.0)),
        ("hybrid, BM25 scaled by coverage, no heading", "hybrid",
         _setting(bm25_scale="coverage", heading_weight=0.0)),
        ("hybrid, reciprocal rank fusion", "hybrid", _setting(fusion="rrf")),
    ]  # fmt: skip
    return shown + tried


def _entry(metadata: Mapping[str, object]) -> str:
    return str(metadata.get("faq_id") or metadata.get("anchor"))


def evaluate(kb: KnowledgeBase, queries: list[Query], diagnose: bool) -> dict[str, Scores]:
    """Rank every query with every variant; return the scores by variant name."""
    results: dict[str, Scores] = {}
    for name, mode, adjust in variants(diagnose):
        retriever = HybridRetriever(kb.store, kb.encoder)
        adjust(retriever)
        scores = Scores()
        for query in queries:
            found = retriever.search(query.text, K, mode=mode)
            ranked = [_entry(c.chunk.metadata) for c in found]
            scores.add(ranked, query.faq_id)
        results[name] = scores
    return results


def main(argv: list[str] | None = None) -> int:
    """Ingest, rank, print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faq_retrieval")
    parser.add_argument("--split", choices=["validation", "test", "all"], default="validation")
    parser.add_argument("--diagnose", action="store_true", help="also the settings tried")
    args = parser.parse_args(argv)
    queries = load_queries(args.split)
    with tempfile.TemporaryDirectory(prefix="faq-bench-") as tmp:
        kb = build(Path(tmp))
        results = evaluate(kb, queries, args.diagnose)
    entries = len({q.faq_id for q in queries})
    print(f"{args.split}: {len(queries)} paraphrases of {entries} entries, 108 entries indexed\n")
    print("| retriever | R@1 | R@5 | MRR@10 |")
    print("|---|---:|---:|---:|")
    for name, scores in results.items():
        print(f"| {name} | {scores.row()} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
