"""Several processes on one index: an embedded chroma folder, and a chroma server (CHROMA_HOST)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT, Settings
from knowledge.service import KnowledgeBase
from tests.support.chroma_server import chroma_server
from tests.support.embeddings import HashingEmbeddings

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "knowledge"

INGEST_ELSEWHERE = """
import sys
from pathlib import Path
from core.config import Settings
from tests.support.embeddings import HashingEmbeddings
from knowledge.service import KnowledgeBase
settings = Settings(data_dir=Path(sys.argv[1]), content_dir=Path(sys.argv[2]))
kb = KnowledgeBase(settings.knowledge, embeddings=HashingEmbeddings(), progress=False)
print(kb.ingest().chunks_added)
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(FIXTURES / "content", target)
    return target


def test_a_running_process_sees_what_another_process_ingested(
    tmp_path: Path, content: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", content_dir=content)
    server_side = KnowledgeBase(settings.knowledge, embeddings=HashingEmbeddings(), progress=False)
    server_side.ingest()
    assert server_side.retrieve("zeppelin landing pad")[0].source != "docs/zeppelin.md"

    zeppelin = "# Zeppelin\n\nThe zeppelin landing pad is on the roof.\n"
    (content / "docs" / "zeppelin.md").write_text(zeppelin)
    done = subprocess.run(
        [sys.executable, "-c", INGEST_ELSEWHERE, str(settings.data_dir), str(content)],
        cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"

    server_side.retriever.invalidate()  # what the periodic revision check does
    dense = server_side.retriever.search("zeppelin landing pad", 1, mode="dense")
    assert dense[0].chunk.metadata["source"] == "docs/zeppelin.md"
    assert server_side.retrieve("zeppelin landing pad")[0].source == "docs/zeppelin.md"


@pytest.fixture
def chroma_server_port(tmp_path: Path) -> Iterator[int]:
    """A real chroma server on a folder of this test."""
    with chroma_server(tmp_path / "server") as port:
        yield port


def test_chroma_server_through_chroma_host(
    chroma_server_port: int, tmp_path: Path, content: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", content_dir=content, chroma_host="127.0.0.1",
        chroma_port=chroma_server_port, answer_threshold=0.0,
    )  # fmt: skip
    kb = KnowledgeBase(settings.knowledge, embeddings=HashingEmbeddings(), progress=False)
    report = kb.ingest()
    assert report.chunks_added > 0
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded locally
    answer = kb.ask("Can I pay with PayPal?")
    assert answer.sources[0].location == "faq.csv#pay-methods"

    other = KnowledgeBase(settings.knowledge, embeddings=HashingEmbeddings(), progress=False)
    assert other.stats().chunks == kb.stats().chunks
    assert other.ingest().chunks_embedded == 0
    assert other.remove("faq.csv") == 3
    kb.retriever.invalidate()
    assert all(c.source != "faq.csv" for c in kb.retrieve("Can I pay with PayPal?"))
