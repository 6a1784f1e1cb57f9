"""Fast knowledge-base fixtures: in-memory chroma and deterministic hashing embeddings."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT, Settings
from knowledge.service import KnowledgeBase
from knowledge.store import make_ephemeral_client
from tests.support.bad_files import write_bad_files
from tests.support.embeddings import CountingEmbeddings

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "knowledge"
CONTENT = FIXTURES / "content"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A private copy of the fixture content (tests change files in it)."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, content: Path) -> Settings:
    """Settings pointing at the copied content, a temporary data dir and a fresh collection."""
    return Settings(
        data_dir=tmp_path / "data",
        content_dir=content,
        kb_collection=f"test-{uuid.uuid4().hex[:12]}",
        llm_base_url=None,
    )


@pytest.fixture
def bad_dir(tmp_path: Path) -> Path:
    """A folder of files that cannot be ingested, plus one good file."""
    return write_bad_files(tmp_path / "bad")


@pytest.fixture
def fake_embeddings() -> CountingEmbeddings:
    return CountingEmbeddings()


@pytest.fixture
def kb(settings: Settings, fake_embeddings: CountingEmbeddings) -> KnowledgeBase:
    """A knowledge base on in-memory chroma with hashing embeddings (no model)."""
    return KnowledgeBase(
        settings.knowledge,
        client=make_ephemeral_client(),
        embeddings=fake_embeddings,
        progress=False,
    )
