"""A small real content folder, indexed with the real model, behind the real gateway.

Each test gets its own copy of three demo documents (returns, shipping, the FAQ table), a
fresh SQLite database migrated to head, a chroma folder and a support account signed in.
The embedding model is loaded once per session.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.app import create_app
from bot.routers.knowledge_admin import get_kb
from core.config import PROJECT_ROOT, Settings
from core.storage import get_engine
from core.storage.migrate import upgrade
from knowledge.embeddings import SentenceTransformerEmbeddings
from knowledge.service import KnowledgeBase
from tests.support.postgres import temporary_database
from tests.support.staff import add_user, sign_in

DEMO = PROJECT_ROOT / "knowledge" / "demo"
DEMO_FILES = ("docs/returns.md", "docs/shipping.md", "faq.csv")


@pytest.fixture(scope="session")
def embeddings() -> SentenceTransformerEmbeddings:
    """all-MiniLM-L6-v2, loaded once."""
    model = SentenceTransformerEmbeddings()
    model.encode(["load the model"])
    return model


@dataclass
class Console:
    """The pieces a knowledge-console test works with."""

    settings: Settings
    kb: KnowledgeBase
    engine: Engine
    app: FastAPI
    client: TestClient
    csrf: str

    @property
    def content(self) -> Path:
        return self.settings.content_dir

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}


def make_content(root: Path) -> Path:
    """Copy the demo documents the tests use into ``root``."""
    for name in DEMO_FILES:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO / name, target)
    (root / "catalog.json").write_text('{"currency": "EUR", "products": []}', encoding="utf-8")
    return root


@contextmanager
def running_console(
    tmp_path: Path, embeddings: SentenceTransformerEmbeddings, database_url: str | None = None
) -> Iterator[Console]:
    """Build the gateway on a fresh content folder and database (SQLite unless given)."""
    content = make_content(tmp_path / "content")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        content_dir=content,
        llm_base_url=None,
        kb_upload_max_bytes=64 * 1024,
        database_url=database_url,
    )
    upgrade(settings.sqlalchemy_url)
    engine = get_engine(settings.sqlalchemy_url)
    add_user(engine, "sam@example.com", "support")
    add_user(engine, "rep@example.com", "sales")
    kb = KnowledgeBase(settings.knowledge, embeddings=embeddings, progress=False)
    kb.ingest()
    app = create_app(settings)
    app.dependency_overrides[get_kb] = lambda: kb
    with TestClient(app) as client:
        csrf = sign_in(client, "sam@example.com")
        yield Console(settings, kb, engine, app, client, csrf)


@pytest.fixture
def console(tmp_path: Path, embeddings: SentenceTransformerEmbeddings) -> Iterator[Console]:
    """The gateway with a signed-in support agent and an indexed content folder (SQLite)."""
    with running_console(tmp_path, embeddings) as built:
        yield built


@pytest.fixture
def pg_console(tmp_path: Path, embeddings: SentenceTransformerEmbeddings) -> Iterator[Console]:
    """The same on a throwaway PostgreSQL database (the production database)."""
    with temporary_database() as url, running_console(tmp_path, embeddings, url) as built:
        yield built
