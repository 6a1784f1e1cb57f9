"""Staff views of leads: the page a rep notification links to, and the same data as JSON.

``GET /admin/leads`` and ``/admin/leads/{id}`` (pages), ``GET /api/admin/leads`` and
``/api/admin/leads/{id}`` (JSON, the fields of ``concierge leads``), for the sales and admin
roles. The page shows the answers, score and reasons, consents with their wording, quotes,
deliveries and the transcript.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse
from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from sqlalchemy import Engine

from bot.auth.sessions import SignedIn
from bot.auth.staff import require_role
from bot.crm.cli import lead_json
from bot.deps import EngineDep
from core.storage import session_scope
from core.storage.leads import LeadRecord, lead_record, lead_records

SalesOrAdmin = Annotated[SignedIn, Depends(require_role("admin", "sales"))]

_PAGES = {
    "list.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Leads</title>
<meta name="referrer" content="no-referrer"></head>
<body><h1>Leads</h1>
{% if not leads %}<p>No leads yet.</p>{% else %}
<table><thead><tr><th>Lead</th><th>Grade</th><th>Score</th><th>Company</th><th>Email</th>
<th>Quotes</th><th>Deliveries</th></tr></thead><tbody>
{% for lead in leads %}<tr>
<td><a href="/admin/leads/{{ lead.id }}">{{ lead.name or lead.email }}</a></td>
<td>{{ lead.grade }}</td><td>{{ lead.score }}</td><td>{{ lead.company or "" }}</td>
<td>{{ lead.email }}</td><td>{{ lead.quotes | map(attribute="number") | join(", ") }}</td>
<td>{% for d in lead.deliveries %}{{ d.kind }}: {{ d.status }}
{%- if not loop.last %}, {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody></table>{% endif %}
</body></html>
""",
    "lead.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lead {{ lead.name or lead.email }}</title>
<meta name="referrer" content="no-referrer"></head>
<body><p><a href="/admin/leads">All leads</a></p>
<h1>{{ lead.name or lead.email }}{% if lead.company %}, {{ lead.company }}{% endif %}</h1>
<p><strong>{{ lead.grade | upper }}</strong>, score {{ lead.score }}/100</p>
<ul>{% for r in lead.reasons %}<li>{{ r.detail }} (+{{ r.points }})</li>{% endfor %}</ul>
<h2>Answers</h2><dl>
<dt>Email</dt><dd>{{ lead.email }}</dd>
{% for label, value in answers %}{% if value %}
<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endif %}{% endfor %}
</dl>
<h2>Consents</h2>
{% if not lead.consents %}<p>None asked.</p>{% endif %}
<ul>{% for c in lead.consents %}<li>{{ c.purpose }}: {{ "yes" if c.granted else "no" }} to
&ldquo;{{ c.wording }}&rdquo; ({{ c.at.isoformat() }})</li>{% endfor %}</ul>
<h2>Quotes</h2>
<ul>{% for q in lead.quotes %}<li><a href="/quotes/{{ q.token }}">{{ q.number }}</a>:
{{ q.currency }} {{ "{:,.2f}".format(q.total) }}, valid until {{ q.valid_until.isoformat() }}</li>
{% else %}<li>None.</li>{% endfor %}</ul>
<h2>Deliveries</h2>
<ul>{% for d in lead.deliveries %}<li>{{ d.kind }}: {{ d.status }} after {{ d.attempts }}
attempt(s){% if d.crm_id %}, id {{ d.crm_id }}{% endif %}{% if d.last_error %}; last error:
{{ d.last_error }}{% endif %}</li>{% endfor %}</ul>
<h2>Transcript</h2>
<p>Conversations: {% for cid, channel in lead.conversations %}{{ channel }}
{%- if not loop.last %}, {% endif %}{% endfor %}</p>
<ol>{% for speaker, text in lead.transcript %}<li><strong>{{ speaker }}</strong>: {{ text }}</li>
{% else %}<li>No transcript was kept.</li>{% endfor %}</ol>
</body></html>
""",
}


@lru_cache(maxsize=1)
def _pages() -> Environment:
    return Environment(
        loader=DictLoader(_PAGES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


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


router = APIRouter(tags=["leads"])

_PRIVATE = {"Cache-Control": "no-store"}


@router.get("/admin/leads", response_class=HTMLResponse)
async def leads_page(_user: SalesOrAdmin, engine: EngineDep) -> HTMLResponse:
    """List every lead, newest first."""
    leads = await asyncio.to_thread(_all, engine)
    html = _pages().get_template("list.html").render(leads=leads)
    return HTMLResponse(html, headers=_PRIVATE)


@router.get("/admin/leads/{lead_id}", response_class=HTMLResponse)
async def lead_page(lead_id: str, _user: SalesOrAdmin, engine: EngineDep) -> HTMLResponse:
    """Show one lead with its transcript."""
    lead = await asyncio.to_thread(_one, engine, lead_id)
    html = _pages().get_template("lead.html").render(lead=lead, answers=_answers(lead))
    return HTMLResponse(html, headers=_PRIVATE)


@router.get("/api/admin/leads")
async def leads_json(_user: SalesOrAdmin, engine: EngineDep) -> list[dict[str, Any]]:
    """Every lead as ``concierge leads list --json`` prints it."""
    return [lead_json(lead) for lead in await asyncio.to_thread(_all, engine)]


@router.get("/api/admin/leads/{lead_id}")
async def lead_json_route(lead_id: str, _user: SalesOrAdmin, engine: EngineDep) -> dict[str, Any]:
    """One lead in full, as ``concierge leads show`` prints it."""
    return lead_json(await asyncio.to_thread(_one, engine, lead_id), full=True)
