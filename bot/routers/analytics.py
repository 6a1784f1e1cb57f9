"""The analytics page (``/console/analytics``), its JSON API and the CSV export of each table.

``GET /api/admin/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD`` returns every number of the page
for whole UTC days, both ends included (the last 30 days by default);
``GET /api/admin/analytics/{table}.csv`` exports one of its tables for the same range. For
the admin, sales and support roles: the numbers are aggregates, no customer is named.
The page's script (``/static/console/analytics.js``, Chart.js bundled from the npm registry by
``make console``) is served from this origin; nothing is loaded from elsewhere.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.auth.sessions import SignedIn
from bot.auth.staff import require_role
from bot.deps import EngineDep, SettingsDep
from bot.routers.errors import ApiError
from bot.routers.pages import PAGE_SECURITY_HEADERS, STATIC_DIR
from bot.services.analytics import (
    TABLES,
    AnalyticsReport,
    DateRange,
    RangeError,
    Table,
    analytics_report,
    report_table,
)
from bot.templating import render
from core.storage import session_scope

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/admin/analytics", tags=["analytics"])
pages = APIRouter(tags=["analytics"], include_in_schema=False)

ANALYTICS_ROLES = ("admin", "sales", "support")
AnalyticsUser = Annotated[SignedIn, Depends(require_role(*ANALYTICS_ROLES))]
CONSOLE_SCRIPT = STATIC_DIR / "console" / "analytics.js"
NO_STORE = {"Cache-Control": "no-store"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is a formula to a spreadsheet: it gets a leading quote."""

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not an admin, sales or support account"},
    404: {"description": "No such table"},
    422: {"description": "A date is not YYYY-MM-DD, 'from' is after 'to', or over 366 days"},
    503: {"description": "The database cannot be read right now"},
}

FromQuery = Annotated[
    date | None,
    Query(alias="from", description="First day (UTC), YYYY-MM-DD; default: 29 days before 'to'"),
]
ToQuery = Annotated[
    date | None,
    Query(alias="to", description="Last day (UTC), YYYY-MM-DD, included; default: today"),
]


def _period(start: date | None, end: date | None) -> DateRange:
    try:
        return DateRange.checked(start, end, today=datetime.now(UTC).date())
    except RangeError as error:
        raise ApiError(422, str(error)) from None


def _read(engine: Engine, period: DateRange) -> AnalyticsReport:
    with session_scope(engine) as session:
        return analytics_report(session, period)


async def _report(engine: Engine, period: DateRange) -> AnalyticsReport:
    try:
        return await asyncio.to_thread(_read, engine, period)
    except SQLAlchemyError as error:
        logger.error("analytics.report.db_failed error=%s", type(error).__name__)
        raise ApiError(503, "the analytics cannot be read right now; try again shortly") from None


@router.get("", response_model=AnalyticsReport, responses=ERRORS)
async def analytics(
    _user: AnalyticsUser, engine: EngineDep, start: FromQuery = None, end: ToQuery = None
) -> AnalyticsReport:
    """Return every number of the analytics page for a range of whole UTC days."""
    return await _report(engine, _period(start, end))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


def table_csv(found: Table) -> str:
    """Return ``found`` as CSV text: a header line, then one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(found.header)
    writer.writerows([_cell(value) for value in row] for row in found.rows)
    return buffer.getvalue()


@router.get(
    "/{table}.csv",
    responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "The table as CSV"}},
    response_class=Response,
)
async def analytics_csv(
    table: str,
    _user: AnalyticsUser,
    engine: EngineDep,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    """Export one table of the page as CSV, for the same range as the JSON.

    Tables: ``conversations``, ``containment``, ``answers``, ``thumbs``, ``handoffs``,
    ``leads``, ``funnel``, ``response_time``.
    """
    if table not in TABLES:
        raise ApiError(404, f"no table {table!r}: choose one of {', '.join(TABLES)}")
    period = _period(start, end)
    found = report_table(await _report(engine, period), table)
    filename = f"analytics-{table}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(
        table_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


@pages.get("/console/analytics", response_class=HTMLResponse)
def analytics_page(user: AnalyticsUser, settings: SettingsDep) -> HTMLResponse:
    """Show the analytics page (its script reads the JSON API and draws the charts)."""
    today = datetime.now(UTC).date()
    period = DateRange.checked(None, None, today)
    page = render(
        "analytics.html",
        company_name=settings.company_name,
        user=user,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
    )
    return HTMLResponse(page, headers={**PAGE_SECURITY_HEADERS, **NO_STORE})


def console_script(path: Path = CONSOLE_SCRIPT) -> Response:
    """Serve a built console script, or say how to build it when it is missing."""
    if not path.is_file():
        logger.error("analytics.script.missing path=%s", path.name)
        return Response(
            "/* the console's scripts are not built: run `make console` */",
            status_code=503,
            media_type="text/javascript; charset=utf-8",
        )
    return FileResponse(
        path, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@pages.get("/static/console/analytics.js")
def analytics_js() -> Response:
    """Serve the analytics page's script (Chart.js bundled in)."""
    return console_script()
