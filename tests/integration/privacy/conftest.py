"""One person seeded in every store, through the real code paths, on SQLite and PostgreSQL.

The lead is captured with ``capture_lead`` and delivered by the real outbox worker to a CRM
stand-in; the quote is priced and saved; Rasa's tracker store and SQL event broker are
written by Rasa's own classes (``rasa_writer.py`` under Rasa's interpreter). A second
customer is seeded too, so a test can tell an erasure from a wipe.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, MetaData, String, Table, Text, cast, inspect, or_, select
from sqlalchemy.types import JSON

from bot.crm import crm_adapter
from bot.workers.outbox import OutboxWorker, RetryPolicy
from core.config import PROJECT_ROOT, Settings
from core.scoring import load_scoring_rules
from core.storage import get_engine, session_scope
from core.storage.events import ConversationEvent
from core.storage.handoff import Handoff, HandoffTransition
from core.storage.leads import ConsentAnswer, LeadDetails, capture_lead
from core.storage.migrate import upgrade
from core.storage.models import ContactRequest, Feedback, HandoffRequest, KBAnswer, new_id
from core.storage.quotes import QuoteDraft, QuoteLine, save_quote
from tests.support.postgres import temporary_database
from tests.support.staff import add_user

RULES = load_scoring_rules(PROJECT_ROOT / "knowledge" / "demo" / "scoring.yml")
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
WRITER = Path(__file__).with_name("rasa_writer.py")
KEY = b"test-subject-key"

EMAIL = "Mara.Quist@Brightwater-Labs.example"
NAME = "Mara Quist"
PHONE = "+49 151 5550 1234"
CHAT = "web-7f3a-mara"
"""The conversation in which the lead was captured."""
OTHER_CHAT = "telegram-881234"
"""A second conversation of hers, linked to nothing: only its text names her."""
SOMEONE_ELSE = "web-0000-otto"
OTTO_EMAIL = "otto@elsewhere.example"
NEEDLES = (EMAIL, EMAIL.lower(), NAME, "Quist", PHONE)


@dataclass
class World:
    """The databases and settings of one seeded deployment."""

    settings: Settings
    app_url: str
    tracker_path: Path
    broker_path: Path

    @property
    def engine(self) -> Engine:
        return get_engine(self.app_url)


def make_settings(data_dir: Path, app_url: str, **crm: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, database_url=app_url, **crm
    )


def _write_rasa(tracker: Path, broker: Path) -> None:
    spec = {
        "tracker": str(tracker),
        "broker": str(broker),
        "conversations": {
            CHAT: [
                ["user", "we need coffee for 40 people"],
                ["bot", "What is your work email?"],
                ["user", EMAIL],
                ["email", EMAIL],
                ["person_name", NAME],
                ["user", f"you can call me on {PHONE}"],
            ],
            OTHER_CHAT: [["user", f"hi, it's me again ({EMAIL.lower()}), any news?"]],
            SOMEONE_ELSE: [["user", "do you ship to Norway?"], ["email", OTTO_EMAIL]],
        },
    }
    done = subprocess.run(
        [str(RASA_PYTHON), str(WRITER), json.dumps(spec)],
        capture_output=True, text=True, timeout=180, check=False,
        env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def _insert(engine: Engine, table: str, **values: Any) -> None:
    """Insert into a table by name (other features' tables, whatever their model module)."""
    with engine.begin() as connection:
        reflected = Table(table, MetaData(), autoload_with=connection)
        connection.execute(reflected.insert().values(**values))


def capture(
    engine: Engine, settings: Settings, conversation: str, email: str, name: str, phone: str
) -> str:
    """Price and save a quote, then capture the lead of ``conversation`` (the real paths)."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        save_quote(
            session,
            QuoteDraft(
                conversation_id=conversation, channel="web", currency="EUR", country="DE",
                lines=(QuoteLine("kb-500", "Kestrel Batch 500", 2, Decimal("890"), Decimal("0"),
                                 Decimal("1780")),),
                subtotal=Decimal("1780"), discount_total=Decimal("0"), tax_rate=Decimal("0.19"),
                tax=Decimal("338.20"), shipping=Decimal("0"), total=Decimal("2118.20"),
                valid_until=date.today() + timedelta(days=30),
            ),
        )  # fmt: skip
        captured = capture_lead(
            session,
            LeadDetails(
                conversation_id=conversation, channel="web", email=email, name=name,
                company="Brightwater Labs", role="Office Manager", phone=phone, team_size=40,
                budget=Decimal("5000"), currency="EUR", timeline="this month",
                need=f"coffee for 40; ask {name}",
                consents=(
                    ConsentAnswer("contact", True, "May our sales team contact you?", now),
                    ConsentAnswer("marketing", True, "May we send you offers?", now),
                ),
                transcript=(("customer", f"I'm {name}, {email}"), ("bot", "Thanks!")),
            ),
            settings,
            RULES,
        )  # fmt: skip
    return captured.lead_id


def deliver(engine: Engine, settings: Settings) -> dict[str, int]:
    """Run the real outbox worker until nothing is due."""
    with httpx.Client(timeout=5) as client:
        targets = {f"crm:{settings.crm}": crm_adapter(settings, client)}
        worker = OutboxWorker(engine, targets, RetryPolicy(max_attempts=3, base_seconds=0.01))
        return worker.drain(timeout=30)


def seed_everywhere(world: World) -> str:
    """Seed Mara in every store (and Otto beside her); return her lead id."""
    engine = world.engine
    lead_id = capture(engine, world.settings, CHAT, EMAIL, NAME, PHONE)
    capture(engine, world.settings, SOMEONE_ELSE, OTTO_EMAIL, "Otto Normal", "+43 660 0000")
    deliver(engine, world.settings)
    answer_id = new_id()
    with session_scope(engine) as session:
        session.add(
            KBAnswer(
                id=answer_id, sender_id=CHAT, question=f"I'm {NAME}: do you ship to Bonn?",
                answer="Yes, in 3-5 days.",
            )
        )  # fmt: skip
        session.flush()
        session.add(
            Feedback(
                answer_id=answer_id, sender_id=CHAT, rating="down",
                comment=f"call {PHONE} instead", question="do you ship to Bonn?", answer="Yes",
            )
        )  # fmt: skip
        session.add(
            HandoffRequest(
                sender_id=CHAT, reason="customer_request", last_message="a person please",
                email=EMAIL,
            )
        )  # fmt: skip
        session.add(
            ContactRequest(
                sender_id=OTHER_CHAT, email=EMAIL.upper(), topic="support",
                details={"question": "where is my order"},
            )
        )  # fmt: skip
        handoff = Handoff(
            conversation_id=CHAT, channel="web", state="closed", reason="customer_request",
            summary=f"{NAME} wants a call on {PHONE}",
        )  # fmt: skip
        session.add(handoff)
        session.flush()
        session.add(HandoffTransition(handoff_id=handoff.id, to_state="waiting", actor="customer"))
        session.add(
            ConversationEvent(
                conversation_id=CHAT, kind="message",
                payload={"messages": [{"text": f"Hello {NAME}, an agent is here"}]},
            )
        )  # fmt: skip
        session.add(KBAnswer(sender_id=SOMEONE_ELSE, question="do you ship to Norway?"))
    tables = set(inspect(engine).get_table_names())
    now = datetime.now(UTC)
    if "app_events" in tables:
        _insert(
            engine, "app_events", event_key=new_id(), conversation_id=OTHER_CHAT,
            channel="telegram", type="user", name="inform",
            text=f"hi, it's me again ({EMAIL.lower()})", confidence=0.9, timestamp=now,
            data={"text": EMAIL}, recorded_at=now,
        )  # fmt: skip
        _insert(
            engine, "app_events", event_key=new_id(), conversation_id=SOMEONE_ELSE,
            channel="web", type="user", name="ask_policy", text="do you ship to Norway?",
            confidence=0.9, timestamp=now, data={}, recorded_at=now,
        )  # fmt: skip
    if "unanswered_questions" in tables:
        _insert(
            engine, "unanswered_questions", id=new_id(), conversation_id=CHAT, channel="web",
            question=f"can {NAME} pay by invoice?", reason="no_answer", origin_id=answer_id,
            status="open", created_at=now,
        )  # fmt: skip
    _write_rasa(world.tracker_path, world.broker_path)
    return lead_id


@pytest.fixture(params=["sqlite", "postgresql"])
def app_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated application database of each engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concierge.db'}"
        upgrade(url)
        yield url
        get_engine(url).dispose()
    else:
        with temporary_database() as url:
            upgrade(url)
            yield url


def find_needles(url: str, needles: tuple[str, ...] = NEEDLES) -> list[str]:
    """Search every text and JSON column of every table of a database for the needles."""
    engine = get_engine(url)
    found: list[str] = []
    with engine.connect() as connection:
        metadata = MetaData()
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if isinstance(column.type, String | Text | JSON)
                or column.type.__class__.__name__ in ("JSON", "JSONB", "TEXT", "VARCHAR")
            ]
            if not columns:
                continue
            for needle in needles:
                pattern = f"%{needle}%"
                condition = or_(*(cast(column, Text).ilike(pattern) for column in columns))
                for row in connection.execute(select(table).where(condition)).mappings():
                    hits = [
                        name for name, value in row.items() if needle.lower() in str(value).lower()
                    ]
                    found.append(f"{table.name}.{','.join(hits)} holds {needle!r}")
    return found


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def world(tmp_path: Path) -> World:
    """A deployment's data directory with Mara seeded everywhere, an admin and a sales rep."""
    data = tmp_path / "data"
    content = tmp_path / "content"
    content.mkdir()
    (content / "catalog.json").write_text('{"currency": "EUR", "products": []}')
    settings = Settings(_env_file=None, data_dir=data, content_dir=content)  # type: ignore[call-arg]
    upgrade(settings.sqlalchemy_url)
    world = World(
        settings=settings,
        app_url=settings.sqlalchemy_url,
        tracker_path=data / "rasa-tracker.db",
        broker_path=data / "rasa-events.db",
    )
    seed_everywhere(world)
    engine = get_engine(settings.sqlalchemy_url)
    add_user(engine, "admin@example.com", "admin")
    add_user(engine, "sales@example.com", "sales")
    return world
