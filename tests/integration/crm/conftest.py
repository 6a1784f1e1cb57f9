"""Databases and leads for the delivery tests: SQLite and PostgreSQL, real captures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.config import PROJECT_ROOT, Settings
from core.scoring import load_scoring_rules
from core.storage import get_engine, session_scope
from core.storage.leads import ConsentAnswer, LeadDetails, LeadRecord, capture_lead, lead_record
from core.storage.migrate import upgrade
from core.storage.quotes import QuoteDraft, QuoteLine, save_quote
from tests.support.postgres import temporary_database

RULES = load_scoring_rules(PROJECT_ROOT / "knowledge" / "demo" / "scoring.yml")
CONTACT_WORDING = "May our sales team contact you about this?"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of each engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'concierge.db'}"
        upgrade(url)
        yield get_engine(url)
    else:
        with temporary_database() as url:
            upgrade(url)
            yield get_engine(url)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'concierge.db'}"
    upgrade(url)
    return get_engine(url)


def details(index: int = 1, **values: object) -> LeadDetails:
    base: dict[str, object] = {
        "conversation_id": f"conv-{index}",
        "channel": "web",
        "email": f"buyer{index}@example.com",
        "name": f"Dana Buyer{index}",
        "company": "Acme Offices",
        "role": "Office Manager",
        "team_size": 40,
        "budget": Decimal("5000"),
        "currency": "EUR",
        "timeline": "this month",
        "need": "coffee for the office",
        "products_asked": ("batch-brewer",),
        "consents": (ConsentAnswer("contact", True, CONTACT_WORDING, datetime.now(UTC)),),
        "transcript": (("customer", "we are 40 people"), ("bot", "here are three machines")),
    }
    base.update(values)
    return LeadDetails(**base)  # type: ignore[arg-type]


def quote(conversation_id: str) -> QuoteDraft:
    line = QuoteLine(
        "KB-900", "Batch brewer", 2, Decimal("1249.00"), Decimal("0"), Decimal("2498.00")
    )
    return QuoteDraft(
        conversation_id=conversation_id,
        channel="web",
        currency="EUR",
        country="DE",
        lines=(line,),
        subtotal=Decimal("2498.00"),
        discount_total=Decimal("0.00"),
        tax_rate=Decimal("0.19"),
        tax=Decimal("474.62"),
        shipping=Decimal("0.00"),
        total=Decimal("2972.62"),
        valid_until=datetime.now(UTC).date(),
    )


CaptureFn = Callable[..., LeadRecord]


@pytest.fixture
def capture() -> Callable[..., LeadRecord]:
    """Capture a lead (with a quote) the way the actions do and return its stored record."""

    def run(engine: Engine, settings: Settings, index: int = 1, **values: object) -> LeadRecord:
        with session_scope(engine) as session:
            save_quote(session, quote(f"conv-{index}"))
        with session_scope(engine) as session:
            captured = capture_lead(session, details(index, **values), settings, RULES)
        with session_scope(engine) as session:
            record = lead_record(session, captured.lead_id)
        assert record is not None
        return record

    return run
