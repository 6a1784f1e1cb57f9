"""The demo content indexed once per session with the real model and a real chroma folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT, Settings
from knowledge.embeddings import SentenceTransformerEmbeddings
from knowledge.service import KnowledgeBase

DEMO_CONTENT = PROJECT_ROOT / "knowledge" / "demo"


@pytest.fixture(scope="session")
def embeddings() -> SentenceTransformerEmbeddings:
    """all-MiniLM-L6-v2, loaded once for the whole session."""
    model = SentenceTransformerEmbeddings()
    model.encode(["load the model"])
    return model


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose data directory is a fresh temporary folder."""
    data_dir: Path = tmp_path_factory.mktemp("kb-demo-data")
    return Settings(data_dir=data_dir, content_dir=DEMO_CONTENT, llm_base_url=None)


@pytest.fixture(scope="session")
def demo_kb(
    demo_settings: Settings, embeddings: SentenceTransformerEmbeddings
) -> Iterator[KnowledgeBase]:
    """The demo content ingested into a persistent chroma folder, warmed up."""
    if not (DEMO_CONTENT / "catalog.json").exists():
        pytest.fail(f"demo content missing in {DEMO_CONTENT}")
    kb = KnowledgeBase(demo_settings.knowledge, embeddings=embeddings, progress=False)
    kb.ingest()
    kb.warm_up()
    yield kb
