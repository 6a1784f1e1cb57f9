"""``concierge leads list|show|retry``: the operator's view of leads and their deliveries."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.config import Settings
from core.storage import get_engine, session_scope
from core.storage.leads import LeadRecord, lead_record, lead_records
from core.storage.migrate import schema_problem
from core.storage.outbox import retry_dead


def _iso(record: Any) -> str:
    return str(record.isoformat().replace("+00:00", "Z"))


def lead_json(lead: LeadRecord, *, full: bool = False) -> dict[str, Any]:
    """Return the fields ``leads list --json`` prints for a lead (more with ``full``)."""
    data: dict[str, Any] = {
        "id": lead.id,
        "name": lead.name,
        "email": lead.email,
        "company": lead.company,
        "score": lead.score,
        "grade": lead.grade,
        "reasons": [{"rule": r.rule, "points": r.points, "detail": r.detail} for r in lead.reasons],
        "consents": [
            {"purpose": c.purpose, "granted": c.granted, "wording": c.wording, "at": _iso(c.at)}
            for c in lead.consents
        ],
        "quotes": [q.number for q in lead.quotes],
        "deliveries": [
            {
                "adapter": d.kind,
                "status": d.status,
                "attempts": d.attempts,
                "crm_id": d.crm_id,
                "last_error": d.last_error,
            }
            for d in lead.deliveries
        ],
    }
    if full:
        data.update(
            {
                "role": lead.role,
                "phone": lead.phone,
                "team_size": lead.team_size,
                "budget": str(lead.budget) if lead.budget is not None else None,
                "currency": lead.currency,
                "timeline": lead.timeline,
                "need": lead.need,
                "products_asked": list(lead.products_asked),
                "contactable": lead.contactable,
                "marketing": lead.marketing,
                "conversations": [
                    {"conversation_id": c, "channel": ch} for c, ch in lead.conversations
                ],
                "transcript": [{"speaker": s, "text": t} for s, t in lead.transcript],
                "created_at": _iso(lead.created_at),
                "updated_at": _iso(lead.updated_at),
            }
        )
        for delivery, status in zip(data["deliveries"], lead.deliveries, strict=True):
            delivery["next_attempt_at"] = _iso(status.next_attempt_at)
            delivery["delivered_at"] = _iso(status.delivered_at) if status.delivered_at else None
    return data


def _line(lead: LeadRecord) -> str:
    deliveries = ", ".join(f"{d.kind} {d.status} ({d.attempts})" for d in lead.deliveries)
    who = lead.name or "-"
    company = lead.company or "-"
    quotes = ", ".join(q.number for q in lead.quotes) or "-"
    return (
        f"{lead.id}  {lead.grade:<4} {lead.score:>3}  {who} <{lead.email}> {company}  "
        f"quotes: {quotes}  deliveries: {deliveries or '-'}"
    )


def _ready(settings: Settings) -> bool:
    problem = schema_problem(get_engine(settings.sqlalchemy_url))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return False
    return True


def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print every lead, newest first."""
    if not _ready(settings):
        return 1
    with session_scope(get_engine(settings.sqlalchemy_url)) as session:
        leads = lead_records(session)
    if args.json:
        print(json.dumps([lead_json(lead) for lead in leads], indent=2, ensure_ascii=False))
    elif not leads:
        print("no leads yet")
    else:
        for lead in leads:
            print(_line(lead))
    return 0


def _cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print one lead with everything it carries (JSON)."""
    if not _ready(settings):
        return 1
    with session_scope(get_engine(settings.sqlalchemy_url)) as session:
        lead = lead_record(session, args.id)
    if lead is None:
        print(f"error: no lead {args.id}", file=sys.stderr)
        return 1
    print(json.dumps(lead_json(lead, full=True), indent=2, ensure_ascii=False))
    return 0


def _cmd_retry(args: argparse.Namespace, settings: Settings) -> int:
    """Send a lead's dead (or waiting) deliveries to the worker again, at once."""
    if not _ready(settings):
        return 1
    with session_scope(get_engine(settings.sqlalchemy_url)) as session:
        if lead_record(session, args.id) is None:
            print(f"error: no lead {args.id}", file=sys.stderr)
            return 1
        count = retry_dead(session, args.id)
    print(f"{count} deliver{'y' if count == 1 else 'ies'} of lead {args.id} queued again")
    return 0


def register(commands: Any) -> None:
    """Add ``concierge leads ...`` to the command's subparsers."""
    leads = commands.add_parser("leads", help="leads and their CRM deliveries")
    sub = leads.add_subparsers(dest="leads_command", required=True, metavar="SUBCOMMAND")
    listing = sub.add_parser("list", help="every lead with score, consents, quotes, deliveries")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_cmd_list)
    show = sub.add_parser("show", help="one lead in full (JSON)")
    show.add_argument("id", help="the lead id")
    show.set_defaults(handler=_cmd_show)
    retry = sub.add_parser("retry", help="deliver a lead's dead deliveries again")
    retry.add_argument("id", help="the lead id")
    retry.set_defaults(handler=_cmd_retry)
