"""Print the intent and entity scores of a `rasa test nlu` results folder as Markdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def summary(results: Path) -> str:
    """Return a Markdown table: intent accuracy, entity micro F1, and macro/weighted F1."""
    lines = ["| report | accuracy / micro F1 | macro F1 | weighted F1 |", "|---|---|---|---|"]
    extractors = sorted(
        p.name for p in results.glob("*_report.json") if p.name != "intent_report.json"
    )
    for name in ("intent_report.json", *extractors):
        path = results / name
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        micro = report.get("micro avg", {}).get("f1-score")
        accuracy = report["accuracy"] if name.startswith("intent") else micro or 0.0
        macro = report["macro avg"]["f1-score"]
        weighted = report["weighted avg"]["f1-score"]
        extractor = name.removesuffix("_report.json")
        label = "intents" if name.startswith("intent") else f"entities ({extractor})"
        lines.append(f"| {label} | {accuracy:.3f} | {macro:.3f} | {weighted:.3f} |")
    return "\n".join(lines)


def main() -> int:
    """Entry point: ``python -m benchmarks.nlu_report RESULTS_DIR``."""
    if len(sys.argv) != 2:
        print("usage: python -m benchmarks.nlu_report RESULTS_DIR", file=sys.stderr)
        return 2
    print(summary(Path(sys.argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
