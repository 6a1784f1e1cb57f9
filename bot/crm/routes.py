"""Staff views of leads: the page a rep notification links to, and the same data as JSON.

``GET /admin/leads`` and ``/admin/leads/{id}`` (pages), ``GET /api/admin/leads`` and
``/api/admin/leads/{id}`` (JSON, the fields of ``concierge leads``), for the sales and admin
roles. The page shows the answers, score and reasons, consents with their wording, quotes,
CRM and notification deliveries, the lead's conversations (linked to their console pages)
and the transcript. ``POST /api/admin/leads/{id}/retry`` (and the page's Retry button)
queues the lead's dead-lettered deliveries again, as ``concierge leads retry`` does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from bot.auth.sessions import SignedIn
from bot.auth.staff import check_csrf, require_role
from bot.crm.cli import lead_json
from bot.deps import EngineDep, SettingsDep
from bot.routers.pages import PAGE_SECURITY_HEADERS
from bot.templating import render
from core.logging import sender_ref
from core.storage import session_scope
from core.storage.leads import LeadRecord, lead_record, lead_records
from core.storage.outbox import DEAD, retry_dead

logger = logging.getLogger(__name__)

SalesOrAdmin = Annotated[SignedIn, Depends(require_role("admin", "sales"))]
CsrfChecked = Annotated[SignedIn, Depends(check_csrf)]

router = APIRouter(tags=["leads"])

_PRIVATE = {**PAGE_SECURITY_HEADERS, "Cache-Control": "no-store"}


class RetryResult(BaseModel):
    """What a retry queued."""

    lead_id: str
    retried: int = Field(description="Deliveries queued for an immediate new attempt")


def _answers(lead: LeadRecord) -> list[tuple[str, Any]]:
    budget = f"{lead.currency or ''} {lead.budget:,.0f}".strip() if lead.budget else None
    return [
        ("Role", lead.role),
        ("Phone", lead.phone),
        ("Team size", lead.team_size),
        ("Budget", budget),
        ("Timeline", lead.timeline),
        ("Need", lead.need),
        ("Products asked about", ", ".join(lead.products_asked)),
        ("Marketing consent", "yes" if lead.marketing else "no"),
    ]


def _all(engine: Engine) -> list[LeadRecord]:
    with session_scope(engine) as session:
        return lead_records(session)


def _one(engine: Engine, lead_id: str) -> LeadRecord:
    with session_scope(engine) as session:
        lead = lead_record(session, lead_id)
    if lead is None:
        raise HTTPException(status_code=404, detail="no such lead")
    return lead


def _retry(engine: Engine, lead_id: str) -> int:
    with session_scope(engine) as session:
        if lead_record(session, lead_id) is None:
            raise HTTPException(status_code=404, detail="no such lead")
        count = retry_dead(session, lead_id)
    logger.info("crm.retry.requested lead=%s entries=%d", sender_ref(lead_id), count)
    return count


@router.get("/admin/leads", response_class=HTMLResponse)
async def leads_page(user: SalesOrAdmin, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """List every lead, newest first."""
    leads = await asyncio.to_thread(_all, engine)
    html = render("leads.html", company_name=settings.company_name, user=user, leads=leads)
    return HTMLResponse(html, headers=_PRIVATE)


@router.get("/admin/leads/{lead_id}", response_class=HTMLResponse)
async def lead_page(
    lead_id: str,
    user: SalesOrAdmin,
    engine: EngineDep,
    settings: SettingsDep,
    retried: Annotated[int | None, Query(ge=0, le=1000)] = None,
) -> HTMLResponse:
    """Show one lead with its deliveries, conversations and transcript."""
    lead = await asyncio.to_thread(_one, engine, lead_id)
    html = render(
        "lead.html",
        company_name=settings.company_name,
        user=user,
        lead=lead,
        answers=_answers(lead),
        dead=sum(1 for d in lead.deliveries if d.status == DEAD),
        retried=retried,
    )
    return HTMLResponse(html, headers=_PRIVATE)


@router.post("/admin/leads/{lead_id}/retry", response_class=RedirectResponse)
async def retry_form(
    lead_id: str, _user: SalesOrAdmin, _csrf: CsrfChecked, engine: EngineDep
) -> RedirectResponse:
    """Queue the lead's dead deliveries again (the page's button), then show the lead."""
    count = await asyncio.to_thread(_retry, engine, lead_id)
    return RedirectResponse(f"/admin/leads/{lead_id}?retried={count}", status_code=303)


@router.get("/api/admin/leads")
async def leads_json(_user: SalesOrAdmin, engine: EngineDep) -> list[dict[str, Any]]:
    """Every lead as ``concierge leads list --json`` prints it."""
    return [lead_json(lead) for lead in await asyncio.to_thread(_all, engine)]


@router.get("/api/admin/leads/{lead_id}")
async def lead_json_route(lead_id: str, _user: SalesOrAdmin, engine: EngineDep) -> dict[str, Any]:
    """One lead in full, as ``concierge leads show`` prints it, with its conversation pages."""
    data = lead_json(await asyncio.to_thread(_one, engine, lead_id), full=True)
    for conversation in data.get("conversations", []):
        conversation["url"] = "/console/conversations/" + quote(
            conversation["conversation_id"], safe=""
        )
    return data


@router.post(
    "/api/admin/leads/{lead_id}/retry",
    response_model=RetryResult,
    responses={
        403: {"description": "Not a sales or admin account, or no CSRF token"},
        404: {"description": "No such lead"},
    },
)
async def retry_json(
    lead_id: str, _user: SalesOrAdmin, _csrf: CsrfChecked, engine: EngineDep
) -> RetryResult:
    """Queue the lead's dead-lettered (and failing) deliveries for an immediate new attempt."""
    return RetryResult(lead_id=lead_id, retried=await asyncio.to_thread(_retry, engine, lead_id))
