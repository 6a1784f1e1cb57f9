"""The ``concierge`` command: run the assistant and manage its knowledge base."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from bot.production_run import is_production, run_production
from bot.supervisor import (
    Supervisor,
    SupervisorError,
    build_specs,
    ingest_content,
    worker_spec,
)
from core.config import Settings
from core.logging import configure_logging
from core.storage import get_engine
from core.storage.migrate import MigrationError, current_revision, head_revision, upgrade

logger = logging.getLogger(__name__)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into one clean stop of the whole group."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest the content, start the four processes, wait for them and watch them."""
    if is_production(args, settings):
        return run_production(args, settings)
    model = Path(args.model) if args.model else settings.model_dir / "concierge.tar.gz"
    try:
        upgrade(settings.sqlalchemy_url)
        if not args.no_ingest:
            print(f"==> Indexing {settings.content_dir} (incremental)", flush=True)
            ingest_content(settings)
        specs = [*build_specs(settings, model.resolve()), worker_spec(settings)]
    except (SupervisorError, MigrationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    supervisor = Supervisor(specs, settings.data_dir / "logs", echo=args.verbose)
    # SIGINT too: a launcher may start us with it ignored (a `&` job), which would disable
    # Python's KeyboardInterrupt.
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    print("==> Starting the Rasa server, the action server, the gateway and the worker", flush=True)
    try:
        with supervisor:
            supervisor.wait_until_ready(timeout=args.startup_timeout)
            print(
                f"\nConcierge is up. Open {settings.base_url}/ to chat with the demo assistant.\n"
                f"Logs: {settings.data_dir / 'logs'}. Press Ctrl-C to stop.\n",
                flush=True,
            )
            supervisor.watch()
    except SupervisorError as error:
        print(f"\nerror: {error}\nAll processes were stopped.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)
    return 0


def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Create or upgrade the application tables (adopting a database made by ``create_all``)."""
    try:
        revision = upgrade(settings.sqlalchemy_url, args.revision)
    except MigrationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"database at revision {revision}", flush=True)
    return 0


def _cmd_db_current(_args: argparse.Namespace, settings: Settings) -> int:
    """Print the database's revision and the newest one; exit 1 when it is behind."""
    current = current_revision(get_engine(settings.sqlalchemy_url))
    head = head_revision()
    print(f"current {current or 'none'}, head {head}")
    return 0 if current == head else 1


def _cmd_check_services(args: argparse.Namespace, settings: Settings) -> int:
    """Check the configured production services; exit 1 naming each one that fails."""
    from core.services import check_services

    checks = check_services(settings, timeout=args.timeout, require_all=args.production)
    if not checks:
        print("no production service is configured (embedded defaults: SQLite, chroma folder)")
        return 0
    for check in checks:
        print(("ok     " if check.ok else "FAILED ") + check.describe(), flush=True)
    failed = [check for check in checks if not check.ok]
    if failed:
        print(f"error: {len(failed)} of {len(checks)} services failed", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``concierge`` command."""
    from bot.auth.cli import register as register_users
    from bot.crm.cli import register as register_leads
    from bot.privacy_cli import register as register_privacy
    from bot.telegram_cli import register as register_telegram
    from bot.workers.outbox import register as register_worker
    from knowledge.cli import register as register_kb

    parser = argparse.ArgumentParser(
        prog="concierge", description="Concierge: a self-hosted sales and support assistant."
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="start the whole assistant (what `make run` does)")
    run.add_argument("--model", help="trained Rasa model (default: <data dir>/models/...)")
    run.add_argument("--no-ingest", action="store_true", help="skip indexing the content")
    run.add_argument("--verbose", action="store_true", help="echo every process's log")
    run.add_argument("--startup-timeout", type=float, default=300.0, help="seconds to wait")
    run.add_argument(
        "--production",
        action="store_true",
        help="production mode: PostgreSQL, Redis, RabbitMQ, chroma server, replicas",
    )
    run.add_argument(
        "--start-chroma", action="store_true", help="production: start the chroma server too"
    )
    run.set_defaults(handler=_cmd_run)
    check = commands.add_parser(
        "check-services", help="check PostgreSQL, Redis, RabbitMQ and chroma answer (production)"
    )
    check.add_argument(
        "--production", action="store_true", help="also fail for a production service not set"
    )
    check.add_argument("--timeout", type=float, default=3.0, help="seconds per service (3)")
    check.set_defaults(handler=_cmd_check_services)
    register_kb(commands)
    register_worker(commands)
    register_leads(commands)
    register_users(commands)
    register_telegram(commands)
    register_privacy(commands)
    db = commands.add_parser("db", help="the application database (migrations)")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    db_upgrade = db_commands.add_parser("upgrade", help="migrate the database to the newest schema")
    db_upgrade.add_argument("revision", nargs="?", default="head", help="target (default head)")
    db_upgrade.set_defaults(handler=_cmd_db_upgrade)
    db_current = db_commands.add_parser("current", help="print the schema revision and the head")
    db_current.set_defaults(handler=_cmd_db_current)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``concierge`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"error: invalid configuration:\n{error}", file=sys.stderr)
        return 2
    scoped = settings.knowledge if getattr(args, "settings_scope", "") == "knowledge" else settings
    code: int = args.handler(args, scoped)
    return code


if __name__ == "__main__":
    sys.exit(main())
