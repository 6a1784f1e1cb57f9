"""Run the rasa-sdk action server with a start-up step that warms the knowledge base.

``python -m actions.server --port 5055``. The warm-up runs in the worker before it accepts
requests, so the server's ``/health`` answers only once the first question can be answered
quickly (the embedding model, the BM25 index and the database are ready).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from typing import Any, cast

from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.worker.loader import AppLoader
from sanic.worker.manager import WorkerManager

from actions import deps
from core.logging import configure_logging, load_pseudonym_key
from core.storage.migrate import schema_problem
from knowledge.pricing import check_pricing

logger = logging.getLogger(__name__)

WORKER_STARTUP_SECONDS = 180
"""How long the worker may take to warm up before Sanic gives up on it (Sanic's default is
30 s, which loading the embedding model and the index can exceed on a busy 2-core machine)."""


async def _warm_up(app: Sanic[Any, Any]) -> None:
    """Check the database schema and the pricing rules, load the knowledge base, then serve."""
    problem = schema_problem(deps.get_database())
    if problem:
        logger.error("actions.db.not_ready reason=%s", problem)
    deps.get_knowledge_base().warm_up()
    catalog = deps.get_catalog()
    # a wrong pricing file stops the server here, naming the line to fix
    check_pricing(deps.settings().content_dir, catalog.currency)
    deps.get_recommender().warm_up()
    logger.info("actions.warm_up.done")


def create_app() -> Sanic[Any, Any]:
    """Build the action server app (module-level so Sanic's loader can rebuild it in workers)."""
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app_for_serve(executor, cors_origins="", endpoints="")
    app.register_listener(_warm_up, "before_server_start")
    return cast("Sanic[Any, Any]", app)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the custom actions on ``--port`` (host from ``SANIC_HOST``, default 127.0.0.1)."""
    parser = argparse.ArgumentParser(description="Concierge action server")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    settings = deps.settings()
    configure_logging(settings.log_level, pseudonym_key=load_pseudonym_key(settings))
    # Sanic counts the worker's start-up acknowledgement in tenths of a second.
    WorkerManager.THRESHOLD = WORKER_STARTUP_SECONDS * 10
    loader = AppLoader(factory=create_app)
    app = loader.load()
    app.prepare(host=os.environ.get("SANIC_HOST", "127.0.0.1"), port=args.port, workers=1)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
