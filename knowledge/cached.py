"""Cached getters keyed by the settings' values, for processes that build objects lazily.

rasa-sdk builds actions with no arguments, so actions reach the knowledge base and the catalog
through cached getters. ``Settings`` is a pydantic model and not hashable, so the cache key is
a JSON rendering of its values (secrets included as digests); tests call ``cache_clear()``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pydantic import SecretStr

from bot.settings import Settings, get_settings
from knowledge.text import sha256_hex

T = TypeVar("T")


def settings_key(settings: Settings) -> str:
    """Return a stable, hashable rendering of ``settings`` (secret values as digests)."""

    def encode(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return "sha256:" + sha256_hex(value.get_secret_value(), 16)
        return str(value)

    return json.dumps(settings.model_dump(), default=encode, sort_keys=True)


class SettingsCachedGetter(Generic[T]):
    """A getter ``(settings=None) -> T`` that builds one object per distinct settings value."""

    def __init__(self, factory: Callable[[Settings], T], maxsize: int = 4) -> None:
        self._factory = factory
        self._settings_by_key: dict[str, Settings] = {}
        self._build = lru_cache(maxsize=maxsize)(self._build_for_key)
        self._lock = threading.Lock()
        self.__doc__ = factory.__doc__
        self.__name__ = getattr(factory, "__name__", "getter")

    def _build_for_key(self, key: str) -> T:
        return self._factory(self._settings_by_key.pop(key))

    def __call__(self, settings: Settings | None = None) -> T:
        """Return the cached object for ``settings`` (default: ``get_settings()``)."""
        settings = settings if settings is not None else get_settings()
        key = settings_key(settings)
        with self._lock:
            self._settings_by_key[key] = settings
            try:
                return self._build(key)
            finally:
                self._settings_by_key.pop(key, None)

    def cache_clear(self) -> None:
        """Forget every cached object (tests call this after changing settings)."""
        with self._lock:
            self._build.cache_clear()


def per_settings(factory: Callable[[Settings], T]) -> SettingsCachedGetter[T]:
    """Decorate a factory taking ``Settings`` into a cached ``(settings=None)`` getter."""
    return SettingsCachedGetter(factory)
