"""The analytics report against a known history, on SQLite and PostgreSQL: every number exact.

The expected numbers are counted by hand from the table in ``tests/support/analytics_seed.py``
(conversations c0 to c8 over D0 to D4; the range is D1 to D3).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from bot.services.analytics import (
    TABLES,
    AnalyticsReport,
    DateRange,
    RangeError,
    analytics_report,
    report_table,
)
from core.storage import get_engine, session_scope
from tests.support.analytics_seed import D0, D1, D2, D3, D4, RANGE_FROM, RANGE_TO


def report(engine: Engine, start: date, end: date) -> AnalyticsReport:
    with session_scope(engine) as session:
        return analytics_report(session, DateRange(start, end))


def test_the_seeded_range(seeded: Engine) -> None:
    found = report(seeded, RANGE_FROM, RANGE_TO)
    assert (found.from_, found.to) == (D1, D3)

    # c1..c7 start in the range (c0 started on D0, c8 on D4)
    volume = found.conversations
    assert volume.total == 7
    assert volume.channels == ["rest", "telegram", "web"]
    assert volume.by_channel == {"rest": 1, "telegram": 2, "web": 4}
    assert [(d.day, d.channel, d.conversations) for d in volume.per_day] == [
        (D1, "rest", 0), (D1, "telegram", 1), (D1, "web", 2),  # c3; c1, c2
        (D2, "rest", 0), (D2, "telegram", 1), (D2, "web", 1),  # c4; c5
        (D3, "rest", 1), (D3, "telegram", 0), (D3, "web", 1),  # c6; c7
    ]  # fmt: skip

    # a person: c2, c4, c7 (handoffs), c5 (a request outside hours); contained: c1, c3, c6
    assert found.containment.model_dump() == {
        "conversations": 7,
        "handed_to_person": 4,
        "contained": 3,
        "rate": 3 / 7,
    }

    # knowledge base: a1 a3 a4 answered, a2 a6 "I don't know" (a0 on D0, a8 on D4 outside)
    # turns: c0 1, c1 2, c2 1 (its message to the person is not a bot turn), c3 1, c4 2,
    # c5 1, c6 2, c7 2 = 12; fallbacks: c1's second (two-stage), c4's second (default)
    assert found.answers.model_dump() == {
        "kb_questions": 5,
        "kb_answered": 3,
        "answer_rate": 3 / 5,
        "user_turns": 12,
        "fallback_turns": 2,
        "fallback_rate": 2 / 12,
    }

    # thumbs: up on a1 (D1) and a3 (D2 00:00:10), down on a4; c8's down is on D4
    assert found.thumbs.model_dump() == {"up": 2, "down": 1, "total": 3, "up_share": 2 / 3}

    # handoffs h2 (taken after 90 s), h4 (30 s), h7 (never); h8 is on D4
    assert found.handoffs.model_dump() == {
        "requested": 3,
        "claimed": 2,
        "unclaimed": 1,
        "median_wait_seconds": 60.0,
    }

    # leads: c3 cold, c4 hot, c6 warm, c7 warm (c8's hot lead is on D4)
    assert found.leads.total == 4
    assert [(g.grade, g.leads) for g in found.leads.by_grade] == [
        ("hot", 1),
        ("warm", 2),
        ("cold", 1),
    ]

    # funnel: 7 conversations; leads c3 c4 c6 c7; qualified c4 c6 c7; CRM: c4, c7 (c6's CRM
    # delivery died, only its notification went out; c3 is delivered but cold)
    assert [(s.stage, s.conversations, s.share) for s in found.funnel] == [
        ("conversation", 7, 1.0),
        ("lead", 4, 4 / 7),
        ("qualified", 3, 3 / 7),
        ("delivered_to_crm", 2, 2 / 7),
    ]

    # first bot reply after each message: 900 (c0), 800 and 1200 (c1), 400 (c2), 600 (c3),
    # 1000 and 2000 (c4), 500 (c5), 700 (c6; its second message has no reply), 300 and 600
    # (c7, across midnight): 11 replies, sorted 300 400 500 600 600 [700] 800 900 1000 1200 2000
    assert found.response_time.model_dump() == {"replies": 11, "median_ms": 700.0}


def test_one_day_outside_the_first_range(seeded: Engine) -> None:
    found = report(seeded, D4, D4)
    assert found.conversations.by_channel == {"web": 1}  # c8
    assert found.containment.rate == 0.0  # c8 has a handoff
    # c7's reply at D4 00:00:00.3 answers a D3 message: not a D4 turn
    assert (found.answers.user_turns, found.answers.fallback_turns) == (1, 0)
    assert found.answers.fallback_rate == 0.0
    assert (found.answers.kb_questions, found.answers.answer_rate) == (1, 1.0)
    assert (found.thumbs.up, found.thumbs.down, found.thumbs.up_share) == (0, 1, 0.0)
    assert (found.handoffs.requested, found.handoffs.median_wait_seconds) == (1, 10.0)
    assert [s.conversations for s in found.funnel] == [1, 1, 1, 1]
    assert found.response_time.model_dump() == {"replies": 1, "median_ms": 5000.0}


def test_the_day_before_counts_only_its_own(seeded: Engine) -> None:
    found = report(seeded, D0, D0)
    assert found.conversations.total == 1  # c0
    assert found.containment.contained == 1
    assert found.answers.user_turns == 1  # c0's first message; its D1 one is not on D0
    assert found.response_time.median_ms == 500.0
    assert found.handoffs.median_wait_seconds is None
    assert found.thumbs.up_share is None
    assert found.leads.total == 0


def test_an_empty_range_has_no_rates(seeded: Engine) -> None:
    found = report(seeded, D4 + timedelta(days=30), D4 + timedelta(days=31))
    assert found.conversations.total == 0
    assert found.conversations.per_day == []
    assert found.containment.rate is None
    assert found.answers.answer_rate is None and found.answers.fallback_rate is None
    assert [s.share for s in found.funnel] == [None, None, None, None]
    assert found.response_time.median_ms is None


def test_every_table_comes_from_the_report(seeded: Engine) -> None:
    found = report(seeded, RANGE_FROM, RANGE_TO)
    assert report_table(found, "funnel").rows == [
        ("conversation", 7, 1.0),
        ("lead", 4, 4 / 7),
        ("qualified", 3, 3 / 7),
        ("delivered_to_crm", 2, 2 / 7),
    ]
    assert report_table(found, "leads").rows == [("hot", 1), ("warm", 2), ("cold", 1)]
    assert len(report_table(found, "conversations").rows) == 9
    assert [report_table(found, name).name for name in TABLES] == list(TABLES)
    with pytest.raises(KeyError):
        report_table(found, "nothing")


def test_ranges_are_checked() -> None:
    today = date(2026, 11, 30)
    assert DateRange.checked(None, None, today) == DateRange(date(2026, 11, 1), today)
    assert DateRange.checked(D0, None, today) == DateRange(D0, D0 + timedelta(days=29))
    assert DateRange.checked(D1, None, today) == DateRange(D1, today)  # never past today
    assert DateRange.checked(None, D3, today) == DateRange(D3 - timedelta(days=29), D3)
    with pytest.raises(RangeError, match="after"):
        DateRange.checked(D3, D1, today)
    with pytest.raises(RangeError, match="366"):
        DateRange.checked(date(2025, 1, 1), date(2026, 1, 2), today)


def test_an_empty_database(database_url: str) -> None:
    found = report(get_engine(database_url), D1, D3)
    assert found.conversations.total == 0
    assert [g.leads for g in found.leads.by_grade] == [0, 0, 0]
    assert found.handoffs.requested == 0
