"""Retrieval quality on ePQA, ingestion throughput and query latency of the knowledge base.

Run from the repository root::

    .venv/bin/python benchmarks/retrieval.py [--data PATH] [--sizes 10000 100000]

1. Quality: every distinct ePQA candidate passage is indexed as a chunk of its product (title
   as heading, ASIN as ``product_id``) in a temporary data directory through the normal
   ingestion path. Each question with at least one passage labelled 2 ("fully answers") is
   asked scoped to its product (``product_id`` filter) and unscoped over all products; the
   table gives Recall@1, Recall@5 and MRR@10 of a label-2 passage for BM25 alone, dense
   alone, the shipped hybrid (weighted score fusion) and reciprocal rank fusion.
2. Ingestion: chunks per second of ``Indexer.index_documents`` (split, embed, write to
   chroma) against the bare ``SentenceTransformer.encode`` on exactly the same chunk texts.
3. Latency: ``HybridRetriever.retrieve`` (query embedding + chroma + BM25 + fusion, no
   answer composition) at 10,000 and 100,000 chunks, unscoped and scoped. The large stores
   are synthesised from the ePQA passages: texts are the passages with shuffled words and
   vectors are the passages' embeddings plus small Gaussian noise (re-normalised), written
   directly with ``ChunkStore.upsert``, so no 100,000-text embedding run is needed.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import math
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from knowledge.embeddings import SentenceTransformerEmbeddings  # noqa: E402
from knowledge.ingest import Indexer  # noqa: E402
from knowledge.loaders import LoadedDocument, Section  # noqa: E402
from knowledge.retrieve import HybridRetriever, Mode  # noqa: E402
from knowledge.splitting import split_document  # noqa: E402
from knowledge.store import ChunkStore, Metadata  # noqa: E402

DEFAULT_DATA = REPO_ROOT / ".." / "shared" / "benchmarks" / "data" / "epqa" / "dev.csv"
K = 10


@dataclass
class Question:
    """One ePQA question with its product and the passages that fully answer it."""

    qid: str
    text: str
    asin: str
    relevant: set[str] = field(default_factory=set)


@dataclass
class Corpus:
    """Products with their distinct passages, and the questions."""

    titles: dict[str, str]
    passages: dict[str, list[str]]
    """ASIN -> distinct passages (position = anchor ``p<i>``)."""
    questions: list[Question]
    excluded: int


def load_epqa(path: Path) -> Corpus:
    """Read ePQA ``dev.csv`` into products, passages and questions with label-2 passages."""
    titles: dict[str, str] = {}
    passages: dict[str, list[str]] = defaultdict(list)
    index: dict[tuple[str, str], str] = {}
    questions: dict[str, Question] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            asin, text = row["ASIN"], " ".join(row["candidate"].split())
            titles.setdefault(asin, row["title"])
            key = (asin, text)
            if key not in index:
                index[key] = f"epqa/{asin}#p{len(passages[asin])}"
                passages[asin].append(text)
            question = questions.setdefault(row["qid"], Question(row["qid"], row["question"], asin))
            if row["label"] == "2":
                question.relevant.add(index[key])
    usable = [q for q in questions.values() if q.relevant]
    return Corpus(titles, dict(passages), usable, len(questions) - len(usable))


def documents(corpus: Corpus) -> list[tuple[str, LoadedDocument]]:
    """One document per product: title as heading, one atomic section per passage."""
    return [
        (
            f"epqa/{asin}",
            LoadedDocument(
                title=corpus.titles[asin],
                kind="epqa",
                sections=[
                    Section(text, anchor=f"p{i}", product_id=asin, atomic=True)
                    for i, text in enumerate(texts)
                ],
            ),
        )
        for asin, texts in corpus.passages.items()
    ]


@dataclass
class Scores:
    """Recall@1, Recall@5 and MRR@10 accumulators."""

    r1: float = 0.0
    r5: float = 0.0
    mrr: float = 0.0
    n: int = 0

    def add(self, ranked: Sequence[str], relevant: set[str]) -> None:
        """Score one ranked list of locations."""
        self.n += 1
        for rank, location in enumerate(ranked[:K], start=1):
            if location in relevant:
                self.mrr += 1.0 / rank
                self.r1 += rank == 1
                self.r5 += rank <= 5
                break

    def row(self) -> tuple[float, float, float]:
        """Return (R@1, R@5, MRR) as fractions."""
        return (self.r1 / self.n, self.r5 / self.n, self.mrr / self.n) if self.n else (0, 0, 0)


Setting = dict[str, object]
VARIANTS: list[tuple[str, Mode, Setting]] = [
    ("BM25", "bm25", {}),
    ("dense", "dense", {}),
    ("hybrid (weighted, shipped)", "hybrid", {}),
    ("hybrid (weighted, shipped) without the heading signal", "hybrid", {"heading_weight": 0.0}),
    ("hybrid (RRF)", "hybrid", {"fusion": "rrf"}),
]
DIAGNOSE: list[tuple[str, Mode, Setting]] = [
    (f"hybrid, BM25 scaled by {scale}, dense weight {weight}", "hybrid",
     {"bm25_scale": scale, "dense_weight": weight})
    for scale in ("max", "coverage") for weight in (0.7, 0.8)
]  # fmt: skip


def evaluate(
    retriever: HybridRetriever,
    questions: list[Question],
    embeddings: SentenceTransformerEmbeddings,
    diagnose: bool = False,
) -> dict[tuple[str, str], Scores]:
    """Score every retriever variant, scoped and unscoped."""
    variants = VARIANTS + (DIAGNOSE if diagnose else [])
    results: dict[tuple[str, str], Scores] = defaultdict(Scores)
    vectors = embeddings.encode([q.text for q in questions])
    keys = {key for _, _, setting in variants for key in setting}
    shipped = {key: getattr(retriever, key) for key in keys}
    for name, mode, setting in variants:
        for key, value in {**shipped, **setting}.items():
            setattr(retriever, key, value)
        for question, vector in zip(questions, vectors, strict=True):
            for scope, product in (("scoped", question.asin), ("unscoped", None)):
                found = retriever.search(
                    question.text, K, product_id=product, mode=mode, query_vector=vector
                )
                ranked = [str(c.chunk.metadata.get("location")) for c in found]
                results[(name, scope)].add(ranked, question.relevant)
    for key, value in shipped.items():
        setattr(retriever, key, value)
    return results


def random_baseline(corpus: Corpus) -> tuple[Scores, Scores]:
    """Expected R@1, R@5 and MRR@10 of a random ranking of each pool (scoped, unscoped).

    A pool of n passages with r relevant ones puts the first relevant one at rank i with
    probability C(n-i, r-1) / C(n, r); the expectations are exact, not sampled.
    """
    total = sum(len(p) for p in corpus.passages.values())
    out = (Scores(), Scores())
    for question in corpus.questions:
        pools = (len(corpus.passages[question.asin]), total)
        for scores, n in zip(out, pools, strict=True):
            r = len(question.relevant)
            first = [math.comb(n - i, r - 1) / math.comb(n, r) for i in range(1, min(n, K) + 1)]
            scores.n += 1
            scores.r1 += first[0]
            scores.r5 += sum(first[:5])
            scores.mrr += sum(p / i for i, p in enumerate(first, start=1))
    return out


def build_index(
    corpus: Corpus, embeddings: SentenceTransformerEmbeddings, data_dir: Path
) -> ChunkStore:
    """Index every passage into a persistent chroma folder (the quality benchmark's store)."""
    store = ChunkStore(persistent_client(data_dir / "epqa"), "epqa", embeddings)
    Indexer(store, embeddings, data_dir, progress=False).index_documents(documents(corpus))
    return store


def persistent_client(path: Path) -> Any:
    """Return an embedded chroma client under ``path`` (no telemetry)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


def ingestion_throughput(
    corpus: Corpus,
    embeddings: SentenceTransformerEmbeddings,
    data_dir: Path,
    chunks: int,
    rounds: int,
) -> dict[str, float]:
    """Compare ``Indexer.index_documents`` with bare ``model.encode`` on the same chunk texts.

    The machine may be shared, so bare and ingestion runs alternate for ``rounds`` rounds;
    the wall-clock ratio uses the best run of each, and the CPU-time ratio (insensitive to
    other processes) the median.
    """
    docs: list[tuple[str, LoadedDocument]] = []
    texts: list[str] = []
    for source, doc in documents(corpus):
        drafts = split_document(doc, source)
        docs.append((source, doc))
        texts.extend(d.text for d in drafts)
        if len(texts) >= chunks:
            break
    model = embeddings.model
    model.encode(texts[:256], batch_size=64)  # warm up
    bare_wall, bare_cpu, ingest_wall, ingest_cpu = [], [], [], []
    for round_ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        bare_wall.append(time.perf_counter() - wall)
        bare_cpu.append(time.process_time() - cpu)
        store = ChunkStore(persistent_client(data_dir / f"ingest-{round_}"), "ingest", embeddings)
        indexer = Indexer(store, embeddings, data_dir, progress=False)
        wall, cpu = time.perf_counter(), time.process_time()
        report = indexer.index_documents(docs)
        ingest_wall.append(time.perf_counter() - wall)
        ingest_cpu.append(time.process_time() - cpu)
        assert report.chunks_embedded == len(texts)
    n = len(texts)
    return {
        "chunks": float(n),
        "bare_per_s": n / min(bare_wall),
        "ingest_per_s": n / min(ingest_wall),
        "ratio": min(bare_wall) / min(ingest_wall),
        "cpu_ratio": statistics.median(bare_cpu) / statistics.median(ingest_cpu),
    }


def synthetic_store(
    size: int, base: ChunkStore, data_dir: Path, seed: int = 7
) -> tuple[ChunkStore, dict[str, float]]:
    """Write ``size`` perturbed copies of the base passages with precomputed vectors."""
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    base_chunks = list(base.iter_chunks())
    vectors = base.vectors([c.id for c in base_chunks])
    client = persistent_client(data_dir / f"synthetic-{size}")
    store = ChunkStore(client, f"synthetic-{size}", base.embeddings)
    started = time.perf_counter()
    for start in range(0, size, 5000):
        ids, texts, metas, rows = [], [], [], []
        for i in range(start, min(size, start + 5000)):
            chunk = base_chunks[i % len(base_chunks)]
            copy = i // len(base_chunks)
            words = chunk.text.split()
            if copy:
                rng.shuffle(words)
            vector = vectors[chunk.id] + noise.normal(0, 0.02, vectors[chunk.id].shape)
            ids.append(f"s{i}")
            texts.append(" ".join(words))
            meta: Metadata = dict(chunk.metadata)
            meta["product_id"] = f"{meta.get('product_id')}-{copy}"
            meta["location"] = f"{meta.get('location')}-{copy}"
            metas.append(meta)
            rows.append(vector / np.linalg.norm(vector))
        store.upsert(ids, texts, metas, np.asarray(rows, dtype=np.float32))
    return store, {"write_s": time.perf_counter() - started}


def latency(
    store: ChunkStore,
    embeddings: SentenceTransformerEmbeddings,
    questions: list[Question],
    queries: int,
) -> dict[str, float]:
    """p50/p95 of ``retrieve`` (including the query embedding), unscoped and scoped."""
    retriever = HybridRetriever(store, embeddings)
    started = time.perf_counter()
    retriever.warm_up()
    build = time.perf_counter() - started
    sample = questions[:queries]
    out: dict[str, float] = {"warm_up_s": build}
    for scope in ("unscoped", "scoped"):
        timings, cpu = [], []
        for question in sample:
            product = f"{question.asin}-0" if scope == "scoped" else None
            started, cpu_started = time.perf_counter(), time.process_time()
            retriever.retrieve(question.text, 5, product_id=product)
            timings.append(1000 * (time.perf_counter() - started))
            cpu.append(1000 * (time.process_time() - cpu_started))
        timings.sort()
        cpu.sort()
        out[f"{scope}_p50"] = statistics.median(timings)
        out[f"{scope}_p95"] = timings[int(0.95 * (len(timings) - 1))]
        out[f"{scope}_cpu_p95"] = cpu[int(0.95 * (len(cpu) - 1))]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="ePQA dev.csv")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300, help="queries per latency run")
    parser.add_argument("--throughput-chunks", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating throughput rounds")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--diagnose", action="store_true", help="also the fusion settings tried")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # tables appear as they are measured
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if not args.data.exists():
        print(f"error: {args.data} not found (use --data)", file=sys.stderr)
        return 2
    corpus = load_epqa(args.data)
    embeddings = SentenceTransformerEmbeddings()
    print(
        f"ePQA dev: {len(corpus.questions)} questions with a label-2 passage "
        f"({corpus.excluded} without one excluded), "
        f"{sum(len(p) for p in corpus.passages.values())} distinct passages, "
        f"{len(corpus.passages)} products.\n"
    )
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        store = build_index(corpus, embeddings, Path(tmp))
        results: dict[tuple[str, str], Scores] = {}
        if not args.skip_quality:
            retriever = HybridRetriever(store, embeddings)
            retriever.warm_up()
            results = evaluate(retriever, corpus.questions, embeddings, args.diagnose)
            scoped, unscoped = random_baseline(corpus)
            results[("random ranking (expected)", "scoped")] = scoped
            results[("random ranking (expected)", "unscoped")] = unscoped
            print_quality(results)
        ingest: dict[str, float] = {}
        if not args.skip_throughput:
            ingest = ingestion_throughput(
                corpus, embeddings, Path(tmp), args.throughput_chunks, args.rounds
            )
            print(
                f"\n| ingestion ({ingest['chunks']:.0f} chunks, best of {args.rounds}) | chunks/s "
                f"| wall-clock ratio | CPU-time ratio |\n|---|---:|---:|---:|"
            )
            print(f"| bare `model.encode` (batch 64) | {ingest['bare_per_s']:.0f} | 1.00 | 1.00 |")
            print(
                f"| `Indexer.index_documents` (split + embed + chroma) | "
                f"{ingest['ingest_per_s']:.0f} | {ingest['ratio']:.2f} | "
                f"{ingest['cpu_ratio']:.2f} |"
            )
        sizes: dict[int, dict[str, float]] = {}
        for size in args.sizes:
            synthetic, written = synthetic_store(size, store, Path(tmp))
            sizes[size] = {
                **written,
                **latency(synthetic, embeddings, corpus.questions, args.queries),
            }
        if sizes:
            print_latency(sizes, args.queries)
        print_acceptance(results, ingest, sizes)
    return 0


def print_quality(results: dict[tuple[str, str], Scores]) -> None:
    """Print the quality table."""
    names = list(dict.fromkeys(name for name, _ in results))
    print("| retriever | scoped R@1 | scoped R@5 | scoped MRR | unscoped R@1 | unscoped R@5 "
          "| unscoped MRR |\n|---|---:|---:|---:|---:|---:|---:|")  # fmt: skip
    for name in names:
        cells = [*results[(name, "scoped")].row(), *results[(name, "unscoped")].row()]
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")


def print_latency(sizes: dict[int, dict[str, float]], queries: int) -> None:
    """Print the latency table."""
    print(
        "\n| chunks | warm-up s | unscoped p50 ms | unscoped p95 ms | unscoped CPU p95 ms "
        "| scoped p50 ms | scoped p95 ms | scoped CPU p95 ms |"
        "\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for size, row in sizes.items():
        print(
            f"| {size:,} | {row['warm_up_s']:.1f} | {row['unscoped_p50']:.1f} | "
            f"{row['unscoped_p95']:.1f} | {row['unscoped_cpu_p95']:.1f} | "
            f"{row['scoped_p50']:.1f} | {row['scoped_p95']:.1f} | {row['scoped_cpu_p95']:.1f} |"
        )
    print(
        f"\n({queries} queries each; `retrieve(k=5)` including the query embedding; wall-clock "
        "and process CPU time, which other processes on a shared machine do not inflate.)"
    )


def print_acceptance(
    results: dict[tuple[str, str], Scores],
    ingest: dict[str, float],
    sizes: dict[int, dict[str, Any]],
) -> None:
    """Print the acceptance checks."""
    print("\nAcceptance:")
    for scope in ("scoped", "unscoped") if results else ():
        fused = results[("hybrid (weighted, shipped)", scope)].row()[2]
        best = max(results[("BM25", scope)].row()[2], results[("dense", scope)].row()[2])
        print(f"- {scope}: fused MRR {fused:.3f} >= max(BM25, dense) {best:.3f}: "
              f"{'PASS' if fused >= best else 'FAIL'}")  # fmt: skip
    if 10_000 in sizes:
        p95 = sizes[10_000]["unscoped_p95"]
        print(f"- p95 at 10k chunks {p95:.1f} ms <= 50 ms: {'PASS' if p95 <= 50 else 'FAIL'}")
    if ingest:
        ratio = ingest["ratio"]
        verdict = "PASS" if ratio >= 0.8 else "FAIL"
        print(f"- ingestion {ratio:.2f} of bare encode >= 0.80: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
