"""The analytics JSON API, its CSV exports and the page, through the real app and sign-in.

Numbers are those of the seeded history (``tests/support/analytics_seed.py``), counted by
hand in ``test_analytics_report.py``; here they must come out of the API the same, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.app import create_app
from bot.routers.analytics import _report, console_script
from bot.routers.errors import ApiError
from bot.services.analytics import DateRange
from core.config import Settings
from core.storage import get_engine
from tests.support.staff import add_user, sign_in

RANGE = "?from=2026-11-02&to=2026-11-04"

ClientFor = Callable[[str | None], TestClient]


@pytest.fixture
def client_for(seeded: Engine, database_url: str, tmp_path: Path) -> Iterator[ClientFor]:
    """A signed-in client of the real app on the seeded database, per role (None: visitor)."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "catalog.json").write_text('{"currency": "EUR", "products": []}')
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", content_dir=content, database_url=database_url
    )
    for role in ("admin", "sales", "support"):
        add_user(seeded, f"{role}@example.com", role)
    app = create_app(settings)
    clients: list[TestClient] = []

    def build(role: str | None) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        if role is not None:
            sign_in(client, f"{role}@example.com")
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_json_api_gives_the_seeded_numbers(client_for: ClientFor) -> None:
    response = client_for("admin").get("/api/admin/analytics" + RANGE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"]) == ("2026-11-02", "2026-11-04")
    assert body["conversations"]["total"] == 7
    assert body["conversations"]["by_channel"] == {"rest": 1, "telegram": 2, "web": 4}
    assert body["conversations"]["per_day"][:3] == [
        {"day": "2026-11-02", "channel": "rest", "conversations": 0},
        {"day": "2026-11-02", "channel": "telegram", "conversations": 1},
        {"day": "2026-11-02", "channel": "web", "conversations": 2},
    ]
    assert body["containment"] == {
        "conversations": 7,
        "handed_to_person": 4,
        "contained": 3,
        "rate": 3 / 7,
    }
    assert body["answers"] == {
        "kb_questions": 5,
        "kb_answered": 3,
        "answer_rate": 0.6,
        "user_turns": 12,
        "fallback_turns": 2,
        "fallback_rate": 2 / 12,
    }
    assert body["thumbs"] == {"up": 2, "down": 1, "total": 3, "up_share": 2 / 3}
    assert body["handoffs"] == {
        "requested": 3,
        "claimed": 2,
        "unclaimed": 1,
        "median_wait_seconds": 60.0,
    }
    assert body["leads"] == {
        "total": 4,
        "by_grade": [
            {"grade": "hot", "leads": 1},
            {"grade": "warm", "leads": 2},
            {"grade": "cold", "leads": 1},
        ],
    }
    assert [(s["stage"], s["conversations"]) for s in body["funnel"]] == [
        ("conversation", 7),
        ("lead", 4),
        ("qualified", 3),
        ("delivered_to_crm", 2),
    ]
    assert body["response_time"] == {"replies": 11, "median_ms": 700.0}


def test_each_table_exports_as_csv(client_for: ClientFor) -> None:
    client = client_for("sales")
    expected = {
        "containment": [
            ["conversations", "handed_to_person", "contained", "containment_rate"],
            ["7", "4", "3", repr(3 / 7)],
        ],
        "answers": [
            [
                "kb_questions",
                "kb_answered",
                "answer_rate",
                "user_turns",
                "fallback_turns",
                "fallback_rate",
            ],
            ["5", "3", "0.6", "12", "2", repr(2 / 12)],
        ],
        "thumbs": [["up", "down", "total", "up_share"], ["2", "1", "3", repr(2 / 3)]],
        "handoffs": [
            ["requested", "claimed", "unclaimed", "median_wait_seconds"],
            ["3", "2", "1", "60.0"],
        ],
        "leads": [["grade", "leads"], ["hot", "1"], ["warm", "2"], ["cold", "1"]],
        "funnel": [
            ["stage", "conversations", "share"],
            ["conversation", "7", "1.0"],
            ["lead", "4", repr(4 / 7)],
            ["qualified", "3", repr(3 / 7)],
            ["delivered_to_crm", "2", repr(2 / 7)],
        ],
        "response_time": [["replies", "median_ms"], ["11", "700.0"]],
    }
    for table, table_rows in expected.items():
        response = client.get(f"/api/admin/analytics/{table}.csv" + RANGE)
        assert response.status_code == 200, (table, response.text)
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="analytics-{table}-2026-11-02-2026-11-04.csv"'
        )
        assert rows(response.text) == table_rows, table
    volume = rows(client.get("/api/admin/analytics/conversations.csv" + RANGE).text)
    assert volume[0] == ["day", "channel", "conversations"]
    assert volume[1:] == [
        ["2026-11-02", "rest", "0"],
        ["2026-11-02", "telegram", "1"],
        ["2026-11-02", "web", "2"],
        ["2026-11-03", "rest", "0"],
        ["2026-11-03", "telegram", "1"],
        ["2026-11-03", "web", "1"],
        ["2026-11-04", "rest", "1"],
        ["2026-11-04", "telegram", "0"],
        ["2026-11-04", "web", "1"],
    ]


def test_wrong_ranges_and_tables_get_a_sentence(client_for: ClientFor) -> None:
    client = client_for("support")
    reversed_range = client.get("/api/admin/analytics?from=2026-11-04&to=2026-11-02")
    assert reversed_range.status_code == 422
    assert reversed_range.json()["error"] == "'from' (2026-11-04) is after 'to' (2026-11-02)"
    too_long = client.get("/api/admin/analytics?from=2024-01-01&to=2026-11-02")
    assert too_long.status_code == 422
    assert "366 days" in too_long.json()["error"]
    not_a_date = client.get("/api/admin/analytics?from=yesterday")
    assert not_a_date.status_code == 422
    assert not_a_date.json()["error"]
    assert "Traceback" not in not_a_date.text
    unknown = client.get("/api/admin/analytics/secrets.csv" + RANGE)
    assert unknown.status_code == 404
    assert "conversations" in unknown.json()["error"]
    csv_range = client.get("/api/admin/analytics/funnel.csv?from=2026-11-04&to=2026-11-02")
    assert csv_range.status_code == 422


def test_without_a_range_the_last_thirty_days(client_for: ClientFor) -> None:
    body = client_for("admin").get("/api/admin/analytics").json()
    start, end = date.fromisoformat(body["from"]), date.fromisoformat(body["to"])
    assert (end - start).days == 29


def test_visitors_need_a_session(client_for: ClientFor) -> None:
    visitor = client_for(None)
    assert visitor.get("/api/admin/analytics" + RANGE).status_code == 401
    assert visitor.get("/api/admin/analytics/funnel.csv").status_code == 401
    page = visitor.get("/console/analytics", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/console/analytics"


def test_the_page_loads_only_its_own_script(client_for: ClientFor) -> None:
    client = client_for("support")
    page = client.get("/console/analytics")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert '<script src="/static/console/analytics.js" defer></script>' in page.text
    assert "http" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
    for table in ("conversations", "containment", "answers", "thumbs", "handoffs", "leads"):
        assert f'id="csv-{table}"' in page.text
    console = client.get("/console")
    assert 'href="/console/analytics"' in console.text


def test_the_api_is_in_the_openapi(client_for: ClientFor) -> None:
    schema = client_for(None).get("/openapi.json").json()
    assert "/api/admin/analytics" in schema["paths"]
    assert "/api/admin/analytics/{table}.csv" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/admin/analytics"]["get"]["parameters"]}
    assert {"from", "to"} <= params
    assert "AnalyticsReport" in schema["components"]["schemas"]


def test_a_database_that_cannot_be_read_is_a_503_sentence(tmp_path: Path) -> None:
    unmigrated = get_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    with pytest.raises(ApiError) as refused:
        asyncio.run(_report(unmigrated, DateRange(date(2026, 11, 2), date(2026, 11, 4))))
    assert refused.value.status_code == 503
    assert refused.value.message == "the analytics cannot be read right now; try again shortly"


def test_a_missing_build_says_how_to_make_it(tmp_path: Path) -> None:
    missing = console_script(tmp_path / "analytics.js")
    assert missing.status_code == 503
    assert b"make console" in bytes(missing.body)
    built = tmp_path / "built.js"
    built.write_text("/* built */")
    assert console_script(built).status_code == 200
