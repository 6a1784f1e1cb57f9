"""``concierge users create|list|disable``: staff accounts from the command line.

The first administrator is made this way. A password is never a command-line argument (it
would show in the process list and the shell history): it is asked twice at a prompt, or
read from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from bot.auth.accounts import AccountError, create_user, disable_user, list_users
from bot.auth.passwords import WeakPassword
from core.config import Settings
from core.storage import get_engine, session_scope
from core.storage.accounts import ROLES
from core.storage.migrate import schema_problem


def _engine_or_error(settings: Settings) -> Engine | None:
    engine = get_engine(settings.sqlalchemy_url)
    problem = schema_problem(engine)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return None
    return engine


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        print("error: the two passwords differ", file=sys.stderr)
        return None
    return first


def _cmd_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create a staff account with a password read from a prompt or standard input."""
    engine = _engine_or_error(settings)
    if engine is None:
        return 1
    password = _read_password(args)
    if password is None:
        return 1
    try:
        with session_scope(engine) as session:
            user = create_user(session, args.email, password, args.role)
            email, role = user.email, user.role
    except (AccountError, WeakPassword) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"created {role} account {email}")
    return 0


def _cmd_list(_args: argparse.Namespace, settings: Settings) -> int:
    """Print every staff account: email, role, state, created."""
    engine = _engine_or_error(settings)
    if engine is None:
        return 1
    with session_scope(engine) as session:
        users = list_users(session)
        rows = [
            (u.email, u.role, "disabled" if u.disabled else "active", f"{u.created_at:%Y-%m-%d}")
            for u in users
        ]
    if not rows:
        print("no staff accounts yet: concierge users create EMAIL --role admin")
        return 0
    width = max(len(r[0]) for r in rows)
    for email, role, state, created in rows:
        print(f"{email:<{width}}  {role:<7}  {state:<8}  {created}")
    return 0


def _cmd_disable(args: argparse.Namespace, settings: Settings) -> int:
    """Disable an account and end its open sessions."""
    engine = _engine_or_error(settings)
    if engine is None:
        return 1
    try:
        with session_scope(engine) as session:
            ended = disable_user(session, args.email, now=datetime.now(UTC))
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"disabled {args.email.strip().lower()}; {ended} open session(s) ended")
    return 0


def register(commands: Any) -> None:
    """Add ``concierge users ...`` to the command's subparsers."""
    users = commands.add_parser("users", help="staff accounts (admin, support, sales)")
    sub = users.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    create = sub.add_parser("create", help="create an account (asks for the password)")
    create.add_argument("email", help="the person's email address (their sign-in name)")
    create.add_argument("--role", required=True, choices=ROLES, help="what they may do")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=_cmd_create)
    listing = sub.add_parser("list", help="list every account")
    listing.set_defaults(handler=_cmd_list)
    disable = sub.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("email", help="the account's email address")
    disable.set_defaults(handler=_cmd_disable)
