"""Fit the confidence model and pick the answer threshold from labelled questions.

Usage::

    python -m knowledge.calibrate [--questions tests/fixtures/knowledge/calibration_questions.jsonl]

Each line of the questions file is ``{"question": str, "sources": [str, ...]}``; ``sources``
lists the documents that answer it (empty: the content cannot answer it). The script indexes
the content folder into a temporary data directory, retrieves the top chunks of every
question, fits ``knowledge.confidence.ConfidenceModel`` by L2-regularised logistic regression
on (cosine, coverage, product match) with label "chunk comes from an answering document", and
picks the threshold on the answer confidence (best chunk of the top three) that separates
answerable from unanswerable questions best. It prints the distributions, a 5-fold
cross-validated accuracy and the constants to paste into ``knowledge/confidence.py``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config import PROJECT_ROOT, Settings
from knowledge.confidence import ConfidenceModel
from knowledge.retrieve import Candidate
from knowledge.service import ANSWER_CHUNKS, KnowledgeBase

DEFAULT_QUESTIONS = (
    PROJECT_ROOT / "tests" / "fixtures" / "knowledge" / "calibration_questions.jsonl"
)
TOP_K = 5


@dataclass(frozen=True)
class Observation:
    """One labelled question with its retrieved candidates."""

    question: str
    sources: list[str]
    candidates: list[Candidate]

    @property
    def answerable(self) -> bool:
        """Whether some document answers the question."""
        return bool(self.sources)


def features(candidate: Candidate) -> list[float]:
    """Return the model's inputs for one candidate (with a leading 1 for the bias)."""
    return [
        1.0,
        candidate.cosine,
        candidate.coverage,
        float(candidate.product_match),
        candidate.novelty,
    ]


def fit_logistic(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], l2: float = 0.05) -> list[float]:
    """Return L2-regularised logistic regression weights (Newton's method; bias unpenalised)."""
    weights = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ weights)))
        gradient = x.T @ (p - y) + penalty @ weights
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(weights)), gradient)
        weights -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return [float(w) for w in weights]


def to_model(weights: Sequence[float]) -> ConfidenceModel:
    """Return the confidence model of fitted weights."""
    return ConfidenceModel(
        bias=round(weights[0], 3),
        w_cosine=round(weights[1], 3),
        w_coverage=round(weights[2], 3),
        w_product=round(weights[3], 3),
        w_novelty=round(weights[4], 3),
    )


def answer_confidence(model: ConfidenceModel, observation: Observation) -> float:
    """Return the answer confidence of a question under ``model`` (best of the top chunks)."""
    return max(
        (
            model.score(c.cosine, c.coverage, c.product_match, c.novelty)
            for c in observation.candidates[:ANSWER_CHUNKS]
        ),
        default=0.0,
    )


def fit(observations: Sequence[Observation]) -> ConfidenceModel:
    """Fit the confidence model on every candidate of ``observations``."""
    rows, labels = [], []
    for observation in observations:
        for candidate in observation.candidates:
            rows.append(features(candidate))
            source = str(candidate.chunk.metadata.get("source", ""))
            labels.append(1.0 if source in observation.sources else 0.0)
    return to_model(fit_logistic(np.asarray(rows), np.asarray(labels)))


def pick_threshold(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Return the threshold with the fewest errors; ties go to the middle of the widest gap."""
    values = sorted({0.0, 1.0, *positives, *negatives})
    best: tuple[int, float, float] | None = None
    for low, high in itertools.pairwise(values):
        threshold = (low + high) / 2
        errors = sum(p < threshold for p in positives) + sum(n >= threshold for n in negatives)
        key = (errors, -(high - low), threshold)
        if best is None or key < best:
            best = key
    return round(best[2], 3) if best else 0.5


def cross_validate(observations: Sequence[Observation], folds: int = 5) -> float:
    """Return the k-fold accuracy of fit + threshold on held-out questions."""
    correct = 0
    for fold in range(folds):
        train = [o for i, o in enumerate(observations) if i % folds != fold]
        test = [o for i, o in enumerate(observations) if i % folds == fold]
        model = fit(train)
        threshold = pick_threshold(
            [answer_confidence(model, o) for o in train if o.answerable],
            [answer_confidence(model, o) for o in train if not o.answerable],
        )
        correct += sum((answer_confidence(model, o) >= threshold) == o.answerable for o in test)
    return correct / len(observations)


def describe(values: Sequence[float]) -> str:
    """Return min / p10 / median / p90 / max of ``values``."""
    if not values:
        return "-"
    ordered = sorted(values)
    p10 = ordered[int(0.1 * (len(ordered) - 1))]
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"{ordered[0]:.3f} / {p10:.3f} / {statistics.median(ordered):.3f} / "
        f"{p90:.3f} / {ordered[-1]:.3f}"
    )


def collect(kb: KnowledgeBase, questions: list[dict[str, Any]]) -> list[Observation]:
    """Retrieve the top candidates of every question."""
    return [
        Observation(q["question"], list(q["sources"]), kb.retriever.search(q["question"], TOP_K))
        for q in questions
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the calibration and print a Markdown report."""
    parser = argparse.ArgumentParser(prog="python -m knowledge.calibrate")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--content", type=Path, default=None, help="content folder")
    args = parser.parse_args(argv)
    questions = [
        json.loads(line)
        for line in args.questions.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    with tempfile.TemporaryDirectory(prefix="kb-calibrate-") as data_dir:
        settings = Settings(data_dir=Path(data_dir))
        if args.content:
            settings = settings.model_copy(update={"content_dir": args.content})
        kb = KnowledgeBase(settings.knowledge, progress=False)
        kb.ingest()
        observations = collect(kb, questions)
    model = fit(observations)
    positives = [answer_confidence(model, o) for o in observations if o.answerable]
    negatives = [answer_confidence(model, o) for o in observations if not o.answerable]
    threshold = pick_threshold(positives, negatives)
    top1 = [
        str(o.candidates[0].chunk.metadata.get("source")) in o.sources
        for o in observations
        if o.answerable and o.candidates
    ]
    answered_right = sum(
        1
        for o in observations
        if o.answerable
        and answer_confidence(model, o) >= threshold
        and str(o.candidates[0].chunk.metadata.get("source")) in o.sources
    )
    out = sys.stdout
    print(f"questions: {len(positives)} answerable, {len(negatives)} unanswerable", file=out)
    print(f"top-1 chunk from an answering document: {sum(top1)}/{len(top1)}", file=out)
    print(f"fitted: {model}", file=out)
    print("\n| answer confidence | min / p10 / median / p90 / max |\n|---|---|", file=out)
    print(f"| answerable | {describe(positives)} |", file=out)
    print(f"| unanswerable | {describe(negatives)} |", file=out)
    print(f"\nthreshold: {threshold}", file=out)
    print(
        f"answerable answered: {sum(p >= threshold for p in positives)}/{len(positives)} "
        f"(top chunk from a right document: {answered_right}); "
        f"unanswerable declined: {sum(n < threshold for n in negatives)}/{len(negatives)}",
        file=out,
    )
    print(f"5-fold cross-validated decision accuracy: {cross_validate(observations):.3f}", file=out)
    for observation, value in sorted(
        ((o, answer_confidence(model, o)) for o in observations), key=lambda pair: pair[1]
    ):
        flag = "A" if observation.answerable else "-"
        ok = "" if (value >= threshold) == observation.answerable else "  <-- wrong side"
        print(f"  {value:.3f} {flag} {observation.question}{ok}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
