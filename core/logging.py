"""One logging set-up for every process, and the pseudonym used for conversations in logs.

Log lines carry event names as dotted keys (``crm.delivery.failed``) and never a customer's
text, email or conversation id in clear: :func:`sender_ref` gives a stable pseudonym that
lets an operator follow one conversation through the logs of every process.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import logging.config
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from core.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
QUIET_LOGGERS = ("httpx", "httpcore")
"""HTTP clients whose INFO lines print whole URLs (Rasa's ``?token=``): WARNING and above only."""


_DEFAULT_KEY = b"concierge-sender"
_pseudonym_key = _DEFAULT_KEY
"""Set once per process by :func:`configure_logging`; the default only serves tests."""


def sender_ref(sender_id: str | None) -> str:
    """Return a short stable pseudonym of a conversation id (``c-3f9a1b2c4d5e``).

    It is a keyed hash (HMAC-SHA256 with the deployment's pseudonym key), so someone who
    reads the logs cannot test guesses (an email used as an id) against it.
    """
    if not sender_id:
        return "c-none"
    digest = hmac.new(_pseudonym_key, sender_id.encode(), hashlib.sha256).hexdigest()
    return f"c-{digest[:12]}"


def load_pseudonym_key(settings: Settings) -> bytes:
    """Return ``CONCIERGE_LOG_PSEUDONYM_KEY``, or the key kept in the data directory.

    Every process of one deployment shares the data directory, so they all log the same
    pseudonym for a conversation; the file is created once, readable by its owner only.
    """
    if settings.log_pseudonym_key is not None:
        return settings.log_pseudonym_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secrets" / "log-pseudonym.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """Return the ``dictConfig`` every process uses (uvicorn's loggers included)."""
    level = level.upper()
    loggers: dict[str, Any] = {
        name: {"level": level, "handlers": [], "propagate": True} for name in UVICORN_LOGGERS
    }
    loggers.update({name: {"level": "WARNING", "propagate": True} for name in QUIET_LOGGERS})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            **{
                name: {"level": level, "handlers": [], "propagate": True}
                for name in UVICORN_LOGGERS
            },
            **{name: {"level": "WARNING", "propagate": True} for name in QUIET_LOGGERS},
        },
    }


def configure_logging(
    level: str = "INFO", stream: TextIO | None = None, pseudonym_key: bytes | None = None
) -> None:
    """Send every logger's lines, uvicorn's too, to ``stream`` (stderr) at ``level``.

    ``pseudonym_key`` (from :func:`load_pseudonym_key`) keys :func:`sender_ref`.
    """
    global _pseudonym_key
    if pseudonym_key:
        _pseudonym_key = pseudonym_key
    config = logging_config(level)
    if stream is not None and stream is not sys.stderr:
        config["handlers"]["stderr"]["stream"] = stream
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
