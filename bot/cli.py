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

from bot.settings import Settings
from bot.supervisor import Supervisor, SupervisorError, build_specs, ingest_content

logger = logging.getLogger(__name__)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into one clean stop of the whole group."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest the content, start the three processes, wait for them and watch them."""
    model = Path(args.model) if args.model else settings.model_dir / "concierge.tar.gz"
    try:
        if not args.no_ingest:
            print(f"==> Indexing {settings.content_dir} (incremental)", flush=True)
            ingest_content(settings)
        specs = build_specs(settings, model.resolve())
    except SupervisorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    supervisor = Supervisor(specs, settings.data_dir / "logs", echo=args.verbose)
    # SIGINT too: a launcher may start us with it ignored (a `&` job), which would disable
    # Python's KeyboardInterrupt.
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    print("==> Starting the Rasa server, the action server and the gateway", flush=True)
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


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``concierge`` command."""
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
    run.set_defaults(handler=_cmd_run)
    register_kb(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``concierge`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"error: invalid configuration:\n{error}", file=sys.stderr)
        return 2
    code: int = args.handler(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
