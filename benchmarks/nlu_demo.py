"""The demo assistant's own NLU: choose the pipeline on a validation split of data/, test once.

Run it in Rasa's environment from the project root::

    .venv-rasa/bin/python -m benchmarks.nlu_demo --stage validation
    .venv-rasa/bin/python -m benchmarks.nlu_demo --stage test

``validation`` splits the NLU training data (``data/nlu``, the catalog's generated lookups
included) with ``rasa data split nlu`` (80/20 per intent, seed 42), trains every candidate
pipeline on the 80% and scores the 20%: intent accuracy and macro F1, entity F1, and the
FallbackClassifier threshold that maximises accuracy when ``out_of_scope`` and
``nlu_fallback`` count as the same answer. ``test`` trains the shipped ``config.yml`` on all
of ``data/`` and scores the held-out file ``tests/nlu/test_nlu.yml`` once, listing every
misclassified example (the error analysis in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ROOT / "tests" / "nlu" / "test_nlu.yml"
FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"

_REGEX: dict[str, Any] = {
    "name": "RegexFeaturizer", "case_sensitive": False, "use_word_boundaries": True,
}  # fmt: skip
_TOKENS: dict[str, Any] = {"name": "WhitespaceTokenizer"}
_MINILM: dict[str, Any] = {"name": "nlu_components.featurizer.MiniLMFeaturizer"}
_SYNONYMS: dict[str, Any] = {"name": "EntitySynonymMapper"}

CANDIDATES: dict[str, list[dict[str, Any]]] = {
    # The previous pipeline: char 1-4 n-grams and DIET for intents and entities.
    "diet": [
        _TOKENS, _MINILM, _REGEX,
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 40, "constrain_similarities": True,
         "random_seed": 42},
        _SYNONYMS,
    ],
    # Linear SVM intents (word 1-2 and char 2-5 n-grams, MiniLM), CRF entities.
    "linear+crf": [
        _TOKENS, _MINILM, _REGEX,
        {"name": "CountVectorsFeaturizer", "analyzer": "word", "min_ngram": 1, "max_ngram": 2},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
        {"name": "nlu_components.linear_classifier.LinearIntentClassifier"},
        {"name": "CRFEntityExtractor"},
        _SYNONYMS,
    ],
}  # fmt: skip

ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "RASA_TELEMETRY_ENABLED": "false",
}


def _rasa(*args: str) -> None:
    rasa = Path(sys.executable).parent / "rasa"
    subprocess.run(  # noqa: S603 - argv of our own
        [str(rasa), *args, "--quiet"], cwd=ROOT, env=ENV, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def split(work: Path) -> tuple[Path, Path]:
    """Split data/nlu 80/20 per intent with Rasa's own splitter (seed 42)."""
    _rasa("data", "split", "nlu", "--nlu", "data/nlu", "--training-fraction", "0.8",
          "--random-seed", "42", "--out", str(work))  # fmt: skip
    return work / "training_data.yml", work / "test_data.yml"


def train(pipeline: list[dict[str, Any]], nlu: Path, out: Path) -> tuple[Path, float]:
    """Train an NLU-only model; return its path and the wall time."""
    config = out / "config.yml"
    config.write_text(
        yaml.safe_dump({"recipe": "default.v1", "language": "en", "pipeline": pipeline}), "utf-8"
    )
    started = time.perf_counter()
    _rasa("train", "nlu", "--config", str(config), "--nlu", str(nlu), "--out", str(out),
          "--fixed-model-name", "nlu")  # fmt: skip
    return out / "nlu.tar.gz", time.perf_counter() - started


def evaluate(model: Path, nlu: Path, out: Path) -> dict[str, Any]:
    """Run ``rasa test nlu`` and read its reports (successes and errors included)."""
    _rasa("test", "nlu", "--model", str(model), "--nlu", str(nlu), "--out", str(out),
          "--successes", "--no-plot")  # fmt: skip
    intents = json.loads((out / "intent_report.json").read_text())
    entity_reports = sorted(out.glob("*Extractor_report.json")) + sorted(
        out.glob("DIETClassifier_report.json")
    )
    entities = {
        path.name.removesuffix("_report.json"): json.loads(path.read_text())
        for path in entity_reports
    }
    rows = [
        *json.loads((out / "intent_successes.json").read_text()),
        *json.loads((out / "intent_errors.json").read_text()),
    ]
    return {"intents": intents, "entities": entities, "rows": rows}


def _same(gold: str, predicted: str) -> bool:
    if gold == OUT_OF_SCOPE:
        return predicted in (OUT_OF_SCOPE, FALLBACK)
    return gold == predicted


def choose_threshold(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """Return the highest threshold with the best accuracy (fallback below it) and its accuracy."""
    best = (0.0, -1.0)
    for step in range(0, 96, 5):
        threshold = step / 100
        hits = 0
        for row in rows:
            prediction = row["intent_prediction"]
            name = prediction["name"] if prediction["confidence"] >= threshold else FALLBACK
            hits += _same(row["intent"], name)
        accuracy = hits / len(rows)
        if accuracy >= best[1] - 1e-9:  # ties: the highest threshold
            best = (threshold, accuracy)
    return best


def _entity_summary(entities: dict[str, Any]) -> dict[str, float]:
    return {
        name: round(report.get("micro avg", {}).get("f1-score", 0.0), 4)
        for name, report in entities.items()
    }


def run_validation(work: Path) -> list[dict[str, Any]]:
    """Train and score every candidate on the validation split."""
    training, validation = split(work / "split")
    results = []
    for name, pipeline in CANDIDATES.items():
        out = work / name
        out.mkdir()
        model, seconds = train(pipeline, training, out)
        scores = evaluate(model, validation, out / "results")
        threshold, thresholded = choose_threshold(scores["rows"])
        results.append({
            "stage": "validation", "pipeline": name, "examples": len(scores["rows"]),
            "intent_accuracy": round(scores["intents"]["accuracy"], 4),
            "intent_macro_f1": round(scores["intents"]["macro avg"]["f1-score"], 4),
            "entity_micro_f1": _entity_summary(scores["entities"]),
            "fallback_threshold": threshold,
            "accuracy_with_fallback": round(thresholded, 4),
            "train_seconds": round(seconds, 1),
        })  # fmt: skip
    return results


def run_test(work: Path) -> dict[str, Any]:
    """Train config.yml's pipeline on all of data/ and score the held-out file once."""
    shipped = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    out = work / "shipped"
    out.mkdir()
    model, seconds = train(shipped, ROOT / "data" / "nlu", out)
    scores = evaluate(model, HELD_OUT, out / "results")
    errors = [
        {"text": r["text"], "gold": r["intent"], "predicted": r["intent_prediction"]["name"],
         "confidence": round(r["intent_prediction"]["confidence"], 3)}
        for r in scores["rows"] if r["intent"] != r["intent_prediction"]["name"]
    ]  # fmt: skip
    return {
        "stage": "test", "pipeline": "config.yml", "examples": len(scores["rows"]),
        "intent_accuracy": round(scores["intents"]["accuracy"], 4),
        "intent_macro_f1": round(scores["intents"]["macro avg"]["f1-score"], 4),
        "entity_micro_f1": _entity_summary(scores["entities"]),
        "train_seconds": round(seconds, 1), "errors": errors,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run one stage; print one JSON line per result."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nlu_demo")
    parser.add_argument("--stage", choices=["validation", "test"], required=True)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nlu-demo-") as tmp:
        work = Path(tmp)
        results = run_validation(work) if args.stage == "validation" else [run_test(work)]
    for result in results:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
