"""Cached getters for what the actions need; rasa-sdk builds actions with no arguments.

Tests override these with ``monkeypatch.setattr(deps, "get_knowledge_base", ...)`` or by
clearing the caches after changing the environment.
"""

from __future__ import annotations

from sqlalchemy import Engine

from core.config import Settings, get_settings
from core.storage import get_engine
from knowledge.catalog import Catalog
from knowledge.catalog import get_catalog as _load_catalog
from knowledge.service import KnowledgeBase
from knowledge.service import get_knowledge_base as _load_knowledge_base


def settings() -> Settings:
    """Return the process settings."""
    return get_settings()


def get_knowledge_base() -> KnowledgeBase:
    """Return the process-wide knowledge base."""
    return _load_knowledge_base(settings().knowledge)


def get_catalog() -> Catalog:
    """Return the product catalog."""
    return _load_catalog(settings().knowledge)


def get_database() -> Engine:
    """Return the application database engine."""
    return get_engine(settings().sqlalchemy_url)
