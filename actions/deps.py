"""Cached getters for what the actions need; rasa-sdk builds actions with no arguments.

Tests override these with ``monkeypatch.setattr(deps, "get_knowledge_base", ...)`` or by
clearing the caches after changing the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine

from core.config import Settings, get_settings
from core.scoring import ScoringRules, load_scoring_rules
from core.storage import get_engine
from knowledge.catalog import Catalog
from knowledge.catalog import get_catalog as _load_catalog
from knowledge.pricing import PRICING_FILE, PricingRules, get_pricing
from knowledge.recommend import Recommender
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


def get_pricing_rules() -> PricingRules:
    """Return the pricing rules of the content folder (``pricing.yml``)."""
    return get_pricing(settings().content_dir / PRICING_FILE)


@lru_cache(maxsize=4)
def _recommender(catalog: Catalog) -> Recommender:
    return Recommender(catalog, get_knowledge_base().encoder)


def get_recommender() -> Recommender:
    """Return the recommender of the catalog, with the knowledge base's sentence embeddings."""
    return _recommender(get_catalog())


@lru_cache(maxsize=4)
def _scoring_rules(path: Path) -> ScoringRules:
    return load_scoring_rules(path)


def get_scoring_rules() -> ScoringRules:
    """Return the lead scoring rules named by the settings."""
    return _scoring_rules(settings().resolved_scoring_rules_path)
