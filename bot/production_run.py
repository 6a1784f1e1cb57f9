"""``concierge run --production``: the whole assistant against the production services.

Order: start the chroma server when ``--start-chroma`` is given; check PostgreSQL (the app's
database and Rasa's tracker database), Redis, RabbitMQ and chroma, naming every one that
fails and stopping there; migrate the app database; index the content into chroma; start
``action_server_replicas`` action servers, ``rasa_replicas`` Rasa processes with
``endpoints.production.yml``, ``gateway_replicas`` gateways and the worker, each on its own
port, and watch them: a process that exits is started again (up to five times, then
everything stops), while the other replicas carry on. Production mode is chosen by
``--production``, by ``CONCIERGE_ENVIRONMENT=production``, or by setting the tracker store,
Redis and RabbitMQ.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from bot.supervisor import (
    Supervisor,
    SupervisorError,
    build_production_specs,
    chroma_spec,
    ingest_content,
    replica_urls,
    worker_spec,
)
from core.config import Settings
from core.services import ServiceCheck, check_database, check_services
from core.storage.migrate import MigrationError, upgrade


def is_production(args: argparse.Namespace, settings: Settings) -> bool:
    """Whether ``concierge run`` starts the production mode."""
    if getattr(args, "production", False) or settings.environment == "production":
        return True
    return bool(settings.tracker_store_url and settings.redis_url and settings.rabbitmq_url)


def check_production(settings: Settings, timeout: float = 3.0) -> list[ServiceCheck]:
    """Check every service of production mode (unset ones fail too); return all the checks."""
    checks = check_services(settings, timeout=timeout, require_all=True)
    service = "PostgreSQL (Rasa's trackers)"
    url = settings.tracker_store_url
    if not url:
        checks.append(ServiceCheck(service, "", "CONCIERGE_TRACKER_STORE_URL is not set"))
    else:
        # Rasa's environment has psycopg2, the app's psycopg (3): check with the app's driver.
        app_url = "postgresql+psycopg://" + url.split("://", 1)[1]
        checks.append(dataclasses.replace(check_database(app_url, timeout), service=service))
    return checks


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _print_problems(checks: list[ServiceCheck]) -> bool:
    """Print every check; return whether all passed."""
    for check in checks:
        print(("ok     " if check.ok else "FAILED ") + check.describe(), flush=True)
    failed = [check for check in checks if not check.ok]
    if failed:
        print(
            f"error: {len(failed)} of {len(checks)} production services failed; nothing started",
            file=sys.stderr,
        )
    return not failed


def run_production(args: argparse.Namespace, settings: Settings) -> int:
    """Start production mode and watch it until Ctrl-C (restarting a replica that exits)."""
    model = Path(args.model) if args.model else settings.model_dir / "concierge.tar.gz"
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    logs = settings.data_dir / "logs"
    chroma = Supervisor([], logs / "chroma")
    with contextlib.ExitStack() as stack:
        stack.callback(chroma.stop)
        try:
            if args.start_chroma:
                print("==> Starting the chroma server", flush=True)
                chroma.specs.append(chroma_spec(settings))
                chroma.start()
                chroma.wait_until_ready(timeout=60)
            print("==> Checking the production services", flush=True)
            if not _print_problems(check_production(settings)):
                return 1
            print("==> Migrating the application database", flush=True)
            upgrade(settings.sqlalchemy_url)
            if not args.no_ingest:
                print(f"==> Indexing {settings.content_dir} into chroma (incremental)", flush=True)
                ingest_content(settings)
            specs = [*build_production_specs(settings, model.resolve()), worker_spec(settings)]
            print(
                f"==> Starting {settings.action_server_replicas} action server(s), "
                f"{settings.rasa_replicas} Rasa replica(s), {settings.gateway_replicas} "
                "gateway(s) and the worker",
                flush=True,
            )
            group = stack.enter_context(Supervisor(specs, logs, echo=args.verbose))
            group.wait_until_ready(timeout=args.startup_timeout)
            gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
            rasa = ", ".join(replica_urls(settings.rasa_url, settings.rasa_replicas))
            gateways = ", ".join(replica_urls(gateway, settings.gateway_replicas))
            print(
                f"\nConcierge is up (production). Gateways: {gateways}\n"
                f"Rasa replicas: {rasa}\nLogs: {logs}. Press Ctrl-C to stop.\n",
                flush=True,
            )
            while True:  # a replica that dies is started again; the others carry on
                if args.start_chroma:
                    chroma.check_alive()
                for name in group.restart_exited():
                    print(f"==> The {name} exited; starting it again", flush=True)
                time.sleep(1.0)
        except (SupervisorError, MigrationError) as error:
            print(f"\nerror: {error}\nAll processes were stopped.", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nStopped.", flush=True)
    return 0
