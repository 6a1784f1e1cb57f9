"""``concierge privacy export|erase EMAIL``: a person's data as JSON, or erased everywhere."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from bot.services.privacy import (
    PrivacyError,
    crm_factory,
    erase_subject,
    export_subject,
    preview_erasure,
    stores_for,
    subject_key,
)
from core.config import Settings
from core.storage import get_engine
from core.storage.migrate import schema_problem

CLI_ACTOR = "cli"


def _ready(settings: Settings) -> bool:
    problem = schema_problem(get_engine(settings.sqlalchemy_url))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return False
    return True


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Print (or write to ``--out``) everything held about the person, as JSON."""
    if not _ready(settings):
        return 1
    try:
        document = export_subject(
            stores_for(settings), subject_key(settings), args.email, requested_by=CLI_ACTOR
        )
    except PrivacyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if args.out:
        out = Path(args.out)
        try:
            out.write_text(text, encoding="utf-8")
            out.chmod(0o600)
        except OSError as error:
            print(f"error: cannot write {out}: {error.strerror}", file=sys.stderr)
            return 1
        found = "found" if document["found"] else "not found (the file says so)"
        print(f"export written to {out}: the person was {found}")
    else:
        sys.stdout.write(text)
    return 0


def _summary(counts: dict[str, Any]) -> str:
    parts = []
    for store, tables in counts.items():
        if isinstance(tables, dict):
            rows = ", ".join(f"{t} {n}" for t, n in sorted(tables.items()) if n)
            parts.append(f"{store}: {rows or 'nothing'}")
    return "; ".join(parts)


def _cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    """Erase the person everywhere after a confirmation (``--yes`` skips it)."""
    if not _ready(settings):
        return 1
    stores = stores_for(settings)
    try:
        preview = preview_erasure(stores, args.email)
    except PrivacyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"{'found' if preview['found'] else 'nothing found'}: "
        f"{preview['conversations']} conversation(s); {_summary(preview['counts'])}"
        + (f"; CRM: {', '.join(preview['crm'])}" if preview["crm"] else "")
    )
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: not erased; add --yes to erase without a question", file=sys.stderr)
            return 1
        typed = input("Type the email again to erase all of this for good: ").strip().lower()
        if typed != args.email.strip().lower():
            print("not erased: the email did not match")
            return 1
    with httpx.Client(timeout=settings.crm_timeout_seconds) as client:
        try:
            report = erase_subject(
                stores,
                subject_key(settings),
                args.email,
                requested_by=CLI_ACTOR,
                adapter_for=crm_factory(settings, client),
            )
        except PrivacyError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(f"erased ({report.status}), recorded as privacy request {report.request_id}")
    print(_summary(report.counts))
    for outcome in report.crm:
        detail = f": {outcome.detail}" if outcome.detail else ""
        print(f"CRM {outcome.target}: {outcome.status}{detail}")
    for store in report.counts.get("not_reached") or []:
        print(
            f"warning: {store} was not reached (no database configured or found): "
            "erase there by hand (docs/privacy.md)",
            file=sys.stderr,
        )
    if report.crm_failed:
        print(
            "warning: a CRM still holds the person; run `concierge privacy erase` for the same "
            "email again later to retry it",
            file=sys.stderr,
        )
        return 3
    return 0


def register(commands: Any) -> None:
    """Add ``concierge privacy ...`` to the command's subparsers."""
    privacy = commands.add_parser("privacy", help="data rights: export or erase a person's data")
    sub = privacy.add_subparsers(dest="privacy_command", required=True, metavar="SUBCOMMAND")
    export = sub.add_parser("export", help="everything held about a person, as JSON")
    export.add_argument("email", help="the person's email address")
    export.add_argument("--out", help="write the JSON to this file (mode 600) instead of stdout")
    export.set_defaults(handler=_cmd_export)
    erase = sub.add_parser("erase", help="erase a person everywhere (databases, Rasa, the CRM)")
    erase.add_argument("email", help="the person's email address")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(handler=_cmd_erase)
