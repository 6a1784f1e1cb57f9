"""Leads, quotes and the outbox on real engines (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.config import PROJECT_ROOT, Settings
from core.scoring import load_scoring_rules
from core.storage import get_engine, session_scope
from core.storage.leads import (
    ConsentAnswer,
    LeadDetails,
    LeadError,
    capture_lead,
    lead_record,
    lead_records,
)
from core.storage.migrate import upgrade
from core.storage.models import Consent, Contact, Lead, OutboxEntry
from core.storage.outbox import claim, record_failure, record_success
from core.storage.quotes import (
    QuoteDraft,
    QuoteLine,
    find_quote_by_token,
    quotes_for_conversation,
    save_quote,
)

RULES = load_scoring_rules(PROJECT_ROOT / "knowledge" / "demo" / "scoring.yml")
ASKED = "Would you like our sales team to contact you about this?"
MARKETING = "May we also send you our newsletter?"
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def draft(conversation_id: str = "conv-1", quantity: int = 2) -> QuoteDraft:
    line = QuoteLine(
        sku="KB-900",
        name="Batch brewer",
        quantity=quantity,
        unit_price=Decimal("1249.00"),
        discount_rate=Decimal("0.05"),
        line_total=Decimal("1249.00") * quantity * Decimal("0.95"),
    )
    subtotal = line.line_total
    tax = (subtotal * Decimal("0.21")).quantize(Decimal("0.01"))
    return QuoteDraft(
        conversation_id=conversation_id,
        channel="web",
        currency="EUR",
        country="NL",
        lines=(line,),
        subtotal=subtotal,
        discount_total=Decimal("124.90"),
        tax_rate=Decimal("0.21"),
        tax=tax,
        shipping=Decimal("0.00"),
        total=subtotal + tax,
        valid_until=date(2026, 12, 31),
        notes=("Free shipping over EUR 500",),
    )


def hot_details(conversation_id: str = "conv-1", **values: object) -> LeadDetails:
    base: dict[str, object] = {
        "conversation_id": conversation_id,
        "channel": "web",
        "email": "Ana.Perez@Example.com ",
        "name": "Ana Pérez",
        "company": "Perez & Co",
        "role": "Head of Operations",
        "team_size": 40,
        "budget": Decimal("12000"),
        "currency": "EUR",
        "timeline": "this month",
        "need": "coffee for a 40-person office",
        "products_asked": ("batch-brewer",),
        "consents": (
            ConsentAnswer("contact", True, ASKED, AT),
            ConsentAnswer("marketing", False, MARKETING, AT),
        ),
        "transcript": (("customer", "we need coffee"), ("bot", "here are three options")),
    }
    base.update(values)
    return LeadDetails(**base)  # type: ignore[arg-type]


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    upgrade(database_url)
    return get_engine(database_url)


def test_quotes_get_unique_numbers_and_are_found_by_token(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        first = save_quote(session, draft())
        second = save_quote(session, draft(quantity=3))
    year = datetime.now(UTC).year
    assert first.number == f"Q-{year}-000001"
    assert second.number == f"Q-{year}-000002"
    assert first.token != second.token and len(first.token) >= 32
    with session_scope(engine) as session:
        found = find_quote_by_token(session, first.token)
        assert found is not None
        assert found.lines == draft().lines
        assert found.total == draft().total and isinstance(found.total, Decimal)
        assert found.created_at.tzinfo is not None
        assert find_quote_by_token(session, "not-a-token") is None
        assert [q.number for q in quotes_for_conversation(session, "conv-1")] == [
            first.number,
            second.number,
        ]


def test_concurrent_quotes_never_share_a_number(engine) -> None:  # type: ignore[no-untyped-def]
    def one(index: int) -> str:
        with session_scope(engine) as session:
            return save_quote(session, draft(conversation_id=f"c{index}")).number

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(one, range(20)))
    assert len(set(numbers)) == 20


def test_a_hot_contactable_lead_is_stored_scored_and_owes_its_deliveries(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        quote = save_quote(session, draft())
    config = settings(
        notify_channels="telegram",
        notify_telegram_bot_token="123:abc",
        notify_telegram_chat_id="-100",
    )
    with session_scope(engine) as session:
        captured = capture_lead(session, hot_details(), config, RULES)
    assert captured.created and captured.contactable
    assert captured.grade == "hot" and captured.score >= 70
    assert captured.enqueued == ("crm:builtin", "notify:telegram")
    with session_scope(engine) as session:
        record = lead_record(session, captured.lead_id)
    assert record is not None
    assert record.email == "Ana.Perez@Example.com"
    assert [q.number for q in record.quotes] == [quote.number]
    assert [(c.purpose, c.granted, c.wording) for c in record.consents] == [
        ("contact", True, ASKED),
        ("marketing", False, MARKETING),
    ]
    assert record.consents[0].at == AT
    assert not record.marketing
    assert {r.rule for r in record.reasons} >= {"budget", "authority", "timeline", "quotes"}
    assert sum(r.points for r in record.reasons) == record.score
    assert [(d.kind, d.status, d.attempts) for d in record.deliveries] == [
        ("crm:builtin", "pending", 0),
        ("notify:telegram", "pending", 0),
    ]
    assert record.transcript[0] == ("customer", "we need coffee")


def test_the_same_email_elsewhere_updates_the_one_contact_and_lead(engine) -> None:  # type: ignore[no-untyped-def]
    config = settings()
    with session_scope(engine) as session:
        first = capture_lead(session, hot_details(team_size=40), config, RULES)
    with session_scope(engine) as session:
        second = capture_lead(
            session,
            LeadDetails(
                conversation_id="tg-77",
                channel="telegram",
                email="ana.perez@example.com",
                team_size=60,
                products_asked=("espresso-pro",),
            ),
            config,
            RULES,
        )
    assert not second.created
    assert (second.lead_id, second.contact_id) == (first.lead_id, first.contact_id)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert session.scalar(select(func.count()).select_from(Lead)) == 1
        record = lead_record(session, first.lead_id)
    assert record is not None
    assert record.team_size == 60
    assert record.company == "Perez & Co"  # kept: the second conversation did not say
    assert record.products_asked == ("batch-brewer", "espresso-pro")
    assert record.conversations == (("conv-1", "web"), ("tg-77", "telegram"))
    assert record.contactable  # consent from the first conversation still stands


def test_a_later_refusal_makes_the_lead_not_contactable(engine) -> None:  # type: ignore[no-untyped-def]
    config = settings(crm="webhook", crm_webhook_url="http://127.0.0.1:9/x", crm_webhook_secret="s")
    with session_scope(engine) as session:
        first = capture_lead(session, hot_details(), config, RULES)
    assert first.enqueued == ("crm:webhook",)
    later = AT + timedelta(days=1)
    with session_scope(engine) as session:
        second = capture_lead(
            session,
            hot_details(consents=(ConsentAnswer("contact", False, ASKED, later),)),
            config,
            RULES,
        )
    assert not second.contactable
    assert second.enqueued == ()  # an outside CRM gets no lead that may not be contacted
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Consent)) == 3


def test_without_contact_consent_only_the_builtin_crm_holds_the_lead(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        captured = capture_lead(session, hot_details(consents=()), settings(), RULES)
    assert not captured.contactable
    assert captured.enqueued == ("crm:builtin",)


def test_a_change_after_delivery_is_delivered_again_with_a_new_key(engine) -> None:  # type: ignore[no-untyped-def]
    config = settings()
    with session_scope(engine) as session:
        captured = capture_lead(session, hot_details(), config, RULES)
    with session_scope(engine) as session:
        (entry,) = claim(session, limit=10, lease_seconds=30)
    first_key = entry.idempotency_key
    with session_scope(engine) as session:
        assert record_success(session, entry, captured.lead_id, entry_started()) == "delivered"
    with session_scope(engine) as session:
        again = capture_lead(session, hot_details(team_size=80), config, RULES)
    assert again.enqueued == ("crm:builtin",)
    with session_scope(engine) as session:
        (entry,) = claim(session, limit=10, lease_seconds=30)
    assert entry.revision == 2 and entry.idempotency_key != first_key


def test_a_change_during_delivery_sends_it_back_to_pending(engine) -> None:  # type: ignore[no-untyped-def]
    config = settings()
    with session_scope(engine) as session:
        capture_lead(session, hot_details(), config, RULES)
    with session_scope(engine) as session:
        (entry,) = claim(session, limit=10, lease_seconds=30)
    with session_scope(engine) as session:
        capture_lead(session, hot_details(team_size=80), config, RULES)
    with session_scope(engine) as session:
        assert record_success(session, entry, "x", entry_started()) == "pending"
        row = session.get(OutboxEntry, entry.id)
        assert row is not None and row.status == "pending" and row.revision == 2


def test_a_claim_is_won_once_and_an_expired_lease_is_claimed_again(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        capture_lead(session, hot_details(), settings(), RULES)
    with session_scope(engine) as session:
        (first,) = claim(session, limit=10, lease_seconds=30)
    with session_scope(engine) as session:
        assert claim(session, limit=10, lease_seconds=30) == []
    later = datetime.now(UTC) + timedelta(seconds=31)
    with session_scope(engine) as session:
        (second,) = claim(session, limit=10, lease_seconds=30, now=later)
    assert second.id == first.id and second.attempts == 2
    with session_scope(engine) as session:
        # The first claim is gone: its late outcome does not count.
        assert record_success(session, first, "late", entry_started()) == "lost"
        assert (
            record_failure(
                session, second, error="HTTP 503", started_at=entry_started(), retry_at=None
            )
            == "dead"
        )
    with session_scope(engine) as session:
        (record,) = lead_records(session)
    assert [(d.status, d.attempts, d.last_error) for d in record.deliveries] == [
        ("dead", 2, "HTTP 503")
    ]


def test_concurrent_claims_never_share_an_entry(engine) -> None:  # type: ignore[no-untyped-def]
    config = settings()
    for index in range(30):
        with session_scope(engine) as session:
            capture_lead(
                session,
                LeadDetails(
                    conversation_id=f"c{index}", channel="web", email=f"p{index}@x.example"
                ),
                config,
                RULES,
            )

    def worker(_: int) -> list[str]:
        won: list[str] = []
        while True:
            with session_scope(engine) as session:
                batch = claim(session, limit=3, lease_seconds=60)
            if not batch:
                return won
            won += [entry.id for entry in batch]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(worker, range(4)))
    claimed = [entry_id for batch in results for entry_id in batch]
    assert len(claimed) == 30 and len(set(claimed)) == 30


def test_an_invalid_email_or_consent_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LeadError, match="email"), session_scope(engine) as session:
        capture_lead(session, hot_details(email="not-an-email"), settings(), RULES)
    bad = (ConsentAnswer("sell-data", True, "May we?", AT),)
    with pytest.raises(LeadError, match="purpose"), session_scope(engine) as session:
        capture_lead(session, hot_details(consents=bad), settings(), RULES)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


def entry_started() -> datetime:
    return datetime.now(UTC)
