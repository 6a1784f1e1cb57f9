"""Regression cases: questions the knowledge base must keep answering from a known place.

The cases live in the content folder's ``eval_cases.yml`` (not a document: ingestion does
not read ``.yml``). Each names a question and where its answer is (``expect``: a source such
as ``docs/returns.md`` or a location with its anchor, ``answers.csv#ua-1a2b3c4d``). Support
adds one each time it answers or links a queued unanswered question in the console; the
demo content ships a few. ``concierge kb eval`` asks every question the way the bot does
(``KnowledgeBase.ask``) and a case passes when the bot answers (confidence at or above the
threshold) and the expected place is among the chunks the answer is drawn from.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from knowledge.types import Answer

EVAL_CASES_FILE = "eval_cases.yml"
ANSWER_CHUNKS = 3
"""Chunks an answer is drawn from (as ``knowledge.service.ANSWER_CHUNKS``)."""
HEADER = (
    "# Regression cases of the knowledge base: `concierge kb eval` asks each question and\n"
    "# checks that the answer comes from `expect` (a source, or a source#anchor location).\n"
    "# The knowledge console adds a case for every unanswered question support resolves.\n"
)


class EvalCasesError(ValueError):
    """The cases file cannot be read; the message names the problem."""


class Asker(Protocol):
    """What the evaluation needs of the knowledge base."""

    def ask(self, question: str, *, product_id: str | None = None, k: int = 5) -> Answer:
        """Answer like the bot does."""
        ...


@dataclass(frozen=True)
class EvalCase:
    """A question and where its answer must come from."""

    question: str
    expect: str
    note: str = ""

    def matches(self, location: str, source: str) -> bool:
        """Whether a chunk at ``location`` (of ``source``) is the expected place."""
        return location == self.expect if "#" in self.expect else source == self.expect


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case."""

    question: str
    expect: str
    passed: bool
    answered: bool
    confidence: float
    rank: int | None
    """1-based rank of the expected place among the retrieved chunks (None: not retrieved)."""
    answer: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly summary."""
        return asdict(self)


def cases_path(content_dir: Path) -> Path:
    """Return the regression cases file of a content folder."""
    return Path(content_dir) / EVAL_CASES_FILE


def load_cases(path: Path) -> list[EvalCase]:
    """Read the cases (an empty list when the file does not exist)."""
    if not path.exists():
        return []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise EvalCasesError(f"cannot read {path.name}: {error}") from error
    items = raw.get("cases") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise EvalCasesError(f"{path.name} needs a top-level 'cases:' list")
    cases: list[EvalCase] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise EvalCasesError(f"{path.name}: case {number} is not a mapping")
        question = str(item.get("question") or "").strip()
        expect = str(item.get("expect") or "").strip()
        if not question or not expect:
            raise EvalCasesError(f"{path.name}: case {number} needs 'question' and 'expect'")
        cases.append(EvalCase(question, expect, str(item.get("note") or "")))
    return cases


def add_case(path: Path, case: EvalCase) -> bool:
    """Append ``case`` unless the same question already expects the same place; True if added.

    The file is rewritten through a temporary file, so a reader never sees half of it.
    Callers hold the content folder's lock.
    """
    cases = load_cases(path)
    key = (" ".join(case.question.lower().split()), case.expect)
    if any((" ".join(c.question.lower().split()), c.expect) == key for c in cases):
        return False
    cases.append(case)
    items = [
        {"question": c.question, "expect": c.expect, **({"note": c.note} if c.note else {})}
        for c in cases
    ]
    body = yaml.safe_dump({"cases": items}, allow_unicode=True, sort_keys=False, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".eval-", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(HEADER + body)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return True


def run_case(kb: Asker, case: EvalCase) -> CaseResult:
    """Ask the case's question like the bot and check where the answer comes from."""
    answer = kb.ask(case.question)
    rank = next(
        (
            index
            for index, chunk in enumerate(answer.chunks[:ANSWER_CHUNKS], start=1)
            if case.matches(chunk.location, chunk.source)
        ),
        None,
    )
    return CaseResult(
        question=case.question,
        expect=case.expect,
        passed=answer.answered and rank is not None,
        answered=answer.answered,
        confidence=round(answer.confidence, 4),
        rank=rank,
        answer=answer.text,
    )


def run_cases(kb: Asker, cases: Sequence[EvalCase]) -> list[CaseResult]:
    """Run every case in order."""
    return [run_case(kb, case) for case in cases]
