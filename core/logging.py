"""One logging set-up for every process, and the pseudonym used for conversations in logs.

Log lines carry event names as dotted keys (``crm.delivery.failed``) and never a customer's
text, email or conversation id in clear: :func:`sender_ref` gives a stable pseudonym that
lets an operator follow one conversation through the logs of every process.
"""

from __future__ import annotations

import hashlib
import logging
import logging.config
import sys
from typing import Any, TextIO

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
QUIET_LOGGERS = ("httpx", "httpcore")
"""HTTP clients whose INFO lines print whole URLs (Rasa's ``?token=``): WARNING and above only."""


def sender_ref(sender_id: str | None) -> str:
    """Return a short stable pseudonym of a conversation id (``c-3f9a1b2c4d5e``)."""
    if not sender_id:
        return "c-none"
    digest = hashlib.sha256(f"concierge-sender:{sender_id}".encode()).hexdigest()
    return f"c-{digest[:12]}"


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


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every logger's lines, uvicorn's too, to ``stream`` (stderr) at ``level``."""
    config = logging_config(level)
    if stream is not None and stream is not sys.stderr:
        config["handlers"]["stderr"]["stream"] = stream
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
