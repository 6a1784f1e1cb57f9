"""Cached getters for what the actions need; rasa-sdk builds actions with no arguments.

Tests override these with ``monkeypatch.setattr(deps, "get_knowledge_base", ...)`` or by
clearing the caches after changing the environment.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from bot.db import get_engine, init_db
from bot.settings import Settings, get_settings
from knowledge.catalog import Catalog
from knowledge.catalog import get_catalog as _load_catalog
from knowledge.service import KnowledgeBase
from knowledge.service import get_knowledge_base as _load_knowledge_base


def settings() -> Settings:
    """Return the process settings."""
    return get_settings()


def get_knowledge_base() -> KnowledgeBase:
    """Return the process-wide knowledge base."""
    return _load_knowledge_base(settings())


def get_catalog() -> Catalog:
    """Return the product catalog."""
    return _load_catalog(settings())


def get_database() -> Engine:
    """Return the application database engine."""
    return get_engine(settings().sqlalchemy_url)


@lru_cache(maxsize=1)
def prepare_database() -> None:
    """Create the application tables once per process."""
    init_db(get_database())
