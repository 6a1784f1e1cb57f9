"""The ``kb`` commands as a user runs them: separate processes on a temporary data directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from tests.support.bad_files import BAD_FILES

pytestmark = pytest.mark.slow

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "knowledge"


def _kb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge.cli", "kb", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    content = root / "content"
    shutil.copytree(FIXTURES / "content", content)
    (content / "docs" / "broken.pdf").write_bytes(BAD_FILES["broken.pdf"])
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONCIERGE_")}
    environment.update(
        CONCIERGE_DATA_DIR=str(root / "data"),
        CONCIERGE_CONTENT_DIR=str(content),
        PYTHONPATH=str(PROJECT_ROOT),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    environment.pop("CHROMA_HOST", None)
    return environment


def test_ingest_then_query_json_and_batch(env: dict[str, str], tmp_path: Path) -> None:
    ingest = _kb(env, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    assert "Indexed 9 files" in ingest.stdout
    assert "Skipped 1 files:" in ingest.stdout and "broken.pdf" in ingest.stdout

    query = _kb(env, "query", "Can I pay with PayPal?", "--json", "--k", "3")
    assert query.returncode == 0, query.stderr
    payload = json.loads(query.stdout)  # stdout holds exactly one JSON document
    assert set(payload) == {"answer", "confidence", "sources", "chunks"}
    assert "PayPal" in payload["answer"]
    assert payload["sources"][0]["location"] == "faq.csv#pay-methods"
    assert len(payload["chunks"]) == 3
    assert {"id", "text", "source", "faq_id", "score"} <= set(payload["chunks"][0])

    questions = tmp_path / "questions.txt"
    questions.write_text("Can I pay with PayPal?\nWhat's the capital of Peru?\n")
    batch = _kb(env, "query", "--batch", str(questions), "--json")
    assert batch.returncode == 0, batch.stderr
    rows = [json.loads(line) for line in batch.stdout.splitlines()]
    assert len(rows) == 2
    assert rows[0]["answer"] and rows[1]["answer"] is None
    assert rows[1]["sources"] == []

    stats = _kb(env, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["documents"] == 8


def test_missing_path_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    result = _kb(env, "ingest", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
