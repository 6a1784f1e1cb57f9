"""Build the configured connectors: ``CONCIERGE_CHANNELS=web,rest`` becomes ``{name: Channel}``.

A connector is one module, ``channels/<name>.py``, that defines ``CONNECTOR``: a class whose
``from_credentials(config)`` returns the connector (like Rasa's channels). Adding one means
adding that module and its name to the setting; nothing here changes.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from channels.base import Channel
from core.config import Settings

CONNECTOR_ATTRIBUTE = "CONNECTOR"
"""The module attribute that names a connector's class."""
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_NOT_CONNECTORS = frozenset({"base", "registry"})


class UnknownChannel(ValueError):
    """A configured channel name that no connector module provides."""


def load_connector(name: str) -> Any:
    """Return the ``CONNECTOR`` class of ``channels/<name>.py`` or raise :class:`UnknownChannel`."""
    if not _NAME.fullmatch(name) or name in _NOT_CONNECTORS:
        raise UnknownChannel(f"{name!r} is not a channel name")
    try:
        module = importlib.import_module(f"channels.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"channels.{name}":
            raise
        raise UnknownChannel(f"no connector module channels/{name}.py") from None
    connector = getattr(module, CONNECTOR_ATTRIBUTE, None)
    if connector is None or not callable(getattr(connector, "from_credentials", None)):
        raise UnknownChannel(f"channels/{name}.py defines no {CONNECTOR_ATTRIBUTE} class")
    return connector


def build_channels(
    names: Sequence[str], credentials: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Channel]:
    """Build each named connector from its configuration block (``credentials[name]``)."""
    credentials = credentials or {}
    registry: dict[str, Channel] = {}
    for raw in names:
        name = raw.strip().lower()
        if not name or name in registry:
            continue
        channel = load_connector(name).from_credentials(credentials.get(name) or {})
        if not isinstance(channel, Channel) or channel.name != name:
            raise UnknownChannel(f"channels/{name}.py did not build a {name!r} connector")
        registry[name] = channel
    return registry


def channel_credentials(settings: Settings) -> dict[str, dict[str, Any]]:
    """Return each connector's configuration block, read from the settings."""
    token = settings.telegram_token
    return {
        "telegram": {
            "token": token.get_secret_value() if token is not None else "",
            "api_url": settings.telegram_api_url,
            "public_url": settings.base_url,
            "agent_chat_id": settings.telegram_agent_chat_id,
        }
    }
