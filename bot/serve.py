"""Start the gateway under uvicorn with the project's logging (what ``concierge run`` starts).

``python -m bot.serve --host 127.0.0.1 --port 8000``. Logging is set up by
:func:`core.logging.configure_logging` before uvicorn starts, and uvicorn is told to leave
it alone (``log_config=None``), so the gateway's own INFO lines (``gateway.started`` ...)
reach stderr, which the supervisor writes to ``<data dir>/logs/gateway.log``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError

from bot.app import create_app
from core.config import Settings
from core.logging import configure_logging, load_pseudonym_key


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    """Return the argument parser (defaults from ``CONCIERGE_GATEWAY_HOST``/``_PORT``)."""
    parser = argparse.ArgumentParser(prog="python -m bot.serve", description=__doc__)
    parser.add_argument("--host", default=settings.gateway_host if settings else "127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.gateway_port if settings else 8000)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Read the settings, set up logging and serve the gateway until stopped."""
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"error: invalid configuration:\n{error}", file=sys.stderr)
        return 2
    args = build_parser(settings).parse_args(argv)
    # Quiets httpx (its lines quote ``?token=``) and keys the conversation pseudonyms.
    configure_logging(settings.log_level, pseudonym_key=load_pseudonym_key(settings))
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        # The client address is read from X-Forwarded-For by bot/middleware/client_address.py,
        # and only from CONCIERGE_TRUSTED_PROXIES; uvicorn must not rewrite it first.
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
