"""Conversations for staff: the list and one conversation, as JSON and as console pages.

``GET /api/admin/conversations`` (search, channel, outcome, dates, pages) and
``GET /api/admin/conversations/{id}`` (transcript, feedback, handoff history, lead); the
pages ``/console/conversations`` and ``/console/conversations/{id}`` render the same data.
Everything is read from the app's ``app_events`` copy of Rasa's events (the worker's feed)
and the app tables, never from Rasa's tracker store. ``support`` and ``admin`` see every
conversation, ``sales`` those with a lead; for ``support`` emails, phone numbers and known
names are masked in every field (:mod:`bot.services.masking`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from bot.auth.sessions import SignedIn
from bot.auth.staff import require_role
from bot.deps import EngineDep, SettingsDep
from bot.routers.errors import ApiError
from bot.routers.pages import PAGE_SECURITY_HEADERS
from bot.services.masking import Masker, looks_like_contact_data, sees_contact_data
from bot.templating import render
from core.config import Settings
from core.storage import session_scope
from core.storage.conversation_log import (
    OUTCOMES,
    ConversationDetail,
    ConversationFilter,
    ConversationSummary,
    Outcome,
    channels,
    conversation_detail,
    known_names,
    list_conversations,
)

router = APIRouter(prefix="/api/admin/conversations", tags=["conversations"])
pages = APIRouter(tags=["conversations"], include_in_schema=False)

ConversationReader = Annotated[SignedIn, Depends(require_role("admin", "support", "sales"))]
"""Support and admin read every conversation; sales those with a lead."""

MAX_QUERY_CHARS = 200
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
NO_STORE = {"Cache-Control": "no-store"}
OUTCOME_LABELS: dict[str, str] = {
    "resolved_by_bot": "resolved by the bot",
    "handed_off": "handed off",
    "lead": "lead",
}


class ConversationListItem(BaseModel):
    """One conversation in the list."""

    conversation_id: str
    channel: str | None = Field(description="The channel of its latest customer message")
    started_at: datetime
    last_at: datetime = Field(description="Its latest event")
    customer_messages: int
    first_message: str | None = Field(description="The customer's first message (masked)")
    outcome: Outcome = Field(description="lead, else handed_off, else resolved_by_bot")
    handed_off: bool
    lead_id: str | None


class ConversationPage(BaseModel):
    """One page of the list, with the total that matched."""

    total: int
    page: int
    per_page: int
    masked: bool = Field(description="Whether contact data is masked for your role")
    items: list[ConversationListItem]


class TurnPublic(BaseModel):
    """One message of the transcript."""

    role: Literal["customer", "bot", "agent"]
    text: str
    at: datetime
    intent: str | None = Field(default=None, description="The customer message's intent")
    confidence: float | None = None
    agent: str | None = Field(default=None, description="The agent who wrote it")


class FeedbackPublic(BaseModel):
    """The customer's rating of one answer."""

    rating: str = Field(description="up or down")
    comment: str | None
    question: str
    answer: str | None
    at: datetime


class TransitionPublic(BaseModel):
    """One change of a handoff's state."""

    from_state: str | None
    to_state: str
    actor: str
    at: datetime


class HandoffHistory(BaseModel):
    """One handoff of the conversation, with every change of its state."""

    id: str
    state: str
    reason: str
    summary: str | None
    agent_email: str | None
    created_at: datetime
    transitions: list[TransitionPublic]


class LeadLink(BaseModel):
    """The lead captured in the conversation."""

    id: str
    grade: str
    score: int
    name: str | None
    email: str | None
    url: str | None = Field(description="The lead's page, for roles that may open it")


class ConversationPublic(BaseModel):
    """One conversation in full."""

    conversation: ConversationListItem
    masked: bool
    transcript: list[TurnPublic]
    feedback: list[FeedbackPublic]
    handoffs: list[HandoffHistory]
    lead: LeadLink | None


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not an admin, support or sales account"},
    404: {"description": "No such conversation (or, for sales, none with a lead)"},
    422: {"description": "A search parameter is not valid"},
}


def _masker(user: SignedIn, settings: Settings, names: list[str]) -> Masker:
    return Masker.for_role(user.role, names, keep=(settings.support_email, settings.sales_email))


def _item(summary: ConversationSummary, masker: Masker) -> ConversationListItem:
    return ConversationListItem(
        conversation_id=summary.conversation_id,
        channel=summary.channel,
        started_at=summary.started_at,
        last_at=summary.last_at,
        customer_messages=summary.customer_messages,
        first_message=masker.text(summary.first_message),
        outcome=summary.outcome,
        handed_off=summary.handed_off,
        lead_id=summary.lead_id,
    )


def _filter(
    user: SignedIn,
    q: str | None,
    channel: str | None,
    outcome: str | None,
    since: date | None,
    until: date | None,
) -> ConversationFilter:
    text = (q or "").strip() or None
    if text is not None and len(text) > MAX_QUERY_CHARS:
        raise ApiError(422, f"the search text is longer than {MAX_QUERY_CHARS} characters")
    if text is not None and not sees_contact_data(user.role) and looks_like_contact_data(text):
        raise ApiError(422, "searching by email or phone number needs the sales or admin role")
    if outcome is not None and outcome not in OUTCOMES:
        raise ApiError(422, f"outcome must be one of {', '.join(OUTCOMES)}")
    if since is not None and until is not None and until < since:
        raise ApiError(422, "until must not be before since")
    return ConversationFilter(
        text=text,
        channel=(channel or "").strip() or None,
        outcome=outcome,
        since=datetime.combine(since, time.min, UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None,
        leads_only=user.role == "sales",
    )


def _list(
    engine: Engine,
    user: SignedIn,
    settings: Settings,
    where: ConversationFilter,
    page: int,
    per_page: int,
) -> ConversationPage:
    with session_scope(engine) as session:
        total, summaries = list_conversations(
            session, where, offset=(page - 1) * per_page, limit=per_page
        )
        names = known_names(session, [s.conversation_id for s in summaries])
    items = [_item(s, _masker(user, settings, names[s.conversation_id])) for s in summaries]
    return ConversationPage(
        total=total,
        page=page,
        per_page=per_page,
        masked=not sees_contact_data(user.role),
        items=items,
    )


def _public(detail: ConversationDetail, user: SignedIn, settings: Settings) -> ConversationPublic:
    masker = _masker(user, settings, list(detail.names))
    lead = detail.lead
    return ConversationPublic(
        conversation=_item(detail.summary, masker),
        masked=masker.enabled,
        transcript=[
            TurnPublic(
                role=turn.role,
                text=masker.text(turn.text) or "",
                at=turn.at,
                intent=turn.intent,
                confidence=turn.confidence,
                agent=turn.agent,
            )
            for turn in detail.transcript
        ],
        feedback=[
            FeedbackPublic(
                rating=item.rating,
                comment=masker.text(item.comment),
                question=masker.text(item.question) or "",
                answer=masker.text(item.answer),
                at=item.at,
            )
            for item in detail.feedback
        ],
        handoffs=[
            HandoffHistory(
                id=h.id,
                state=h.state,
                reason=h.reason,
                summary=masker.text(h.summary),
                agent_email=h.agent_email,
                created_at=h.created_at,
                transitions=[TransitionPublic(**t.__dict__) for t in h.transitions],
            )
            for h in detail.handoffs
        ],
        lead=None
        if lead is None
        else LeadLink(
            id=lead.id,
            grade=lead.grade,
            score=lead.score,
            name=masker.name(lead.name),
            email=masker.email(lead.email),
            url=f"/admin/leads/{lead.id}" if sees_contact_data(user.role) else None,
        ),
    )


def _detail(
    engine: Engine, conversation_id: str, user: SignedIn, settings: Settings
) -> ConversationPublic:
    with session_scope(engine) as session:
        detail = conversation_detail(session, conversation_id)
    if detail is None or (user.role == "sales" and detail.summary.lead_id is None):
        raise ApiError(404, "no such conversation")
    return _public(detail, user, settings)


PageNumber = Annotated[int, Query(ge=1, le=100_000, description="1-based page number")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Conversations per page")]


@router.get("", response_model=ConversationPage, responses=ERRORS)
async def list_json(
    user: ConversationReader,
    engine: EngineDep,
    settings: SettingsDep,
    q: Annotated[
        str | None, Query(description="Part of the conversation id or of any message in it")
    ] = None,
    channel: Annotated[str | None, Query(description="web, rest, telegram...")] = None,
    outcome: Annotated[Outcome | None, Query(description="The conversation's outcome")] = None,
    since: Annotated[
        date | None, Query(description="Last activity on or after (YYYY-MM-DD)")
    ] = None,
    until: Annotated[
        date | None, Query(description="Last activity on or before (YYYY-MM-DD)")
    ] = None,
    page: PageNumber = 1,
    per_page: PerPage = DEFAULT_PER_PAGE,
) -> ConversationPage:
    """List conversations, the latest activity first (sales: only those with a lead)."""
    where = _filter(user, q, channel, outcome, since, until)
    return await asyncio.to_thread(_list, engine, user, settings, where, page, per_page)


@router.get("/{conversation_id}", response_model=ConversationPublic, responses=ERRORS)
async def detail_json(
    conversation_id: str, user: ConversationReader, engine: EngineDep, settings: SettingsDep
) -> ConversationPublic:
    """Show one conversation: transcript, channel, outcome, feedback, handoffs and its lead."""
    return await asyncio.to_thread(_detail, engine, conversation_id, user, settings)


# --- pages ---------------------------------------------------------------------------------


def _page(html: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        html, status_code=status_code, headers={**PAGE_SECURITY_HEADERS, **NO_STORE}
    )


def _date(value: str | None, label: str) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(422, f"{label} must be a date like 2026-12-02") from None


def _int(value: str | None, default: int, label: str, highest: int) -> int:
    if not value or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(422, f"{label} must be a whole number") from None
    if not 1 <= number <= highest:
        raise ApiError(422, f"{label} must be between 1 and {highest}")
    return number


def _list_page_data(
    engine: Engine, user: SignedIn, settings: Settings, params: dict[str, str]
) -> dict[str, Any]:
    where = _filter(
        user,
        params.get("q"),
        params.get("channel"),
        params.get("outcome") or None,
        _date(params.get("since"), "since"),
        _date(params.get("until"), "until"),
    )
    page = _int(params.get("page"), 1, "page", 100_000)
    per_page = _int(params.get("per_page"), DEFAULT_PER_PAGE, "per_page", MAX_PER_PAGE)
    result = _list(engine, user, settings, where, page, per_page)
    with session_scope(engine) as session:
        known = channels(session)
    return {"result": result, "channels": known}


@pages.get("/console/conversations")
async def list_page(
    user: ConversationReader,
    engine: EngineDep,
    settings: SettingsDep,
    q: str | None = None,
    channel: str | None = None,
    outcome: str | None = None,
    since: str | None = None,
    until: str | None = None,
    page: str | None = None,
    per_page: str | None = None,
) -> HTMLResponse:
    """Show the conversations with the search form (a GET form: the URL can be shared)."""
    params = {
        key: value
        for key, value in {
            "q": q, "channel": channel, "outcome": outcome, "since": since, "until": until,
            "page": page, "per_page": per_page,
        }.items()
        if value
    }  # fmt: skip
    error = None
    data: dict[str, Any] = {"result": None, "channels": []}
    try:
        data = await asyncio.to_thread(_list_page_data, engine, user, settings, params)
    except ApiError as problem:
        error = problem.message
    result: ConversationPage | None = data["result"]

    def page_url(number: int) -> str:
        return "/console/conversations?" + urlencode({**params, "page": str(number)})

    pages_total = max(1, -(-result.total // result.per_page)) if result else 1
    html = render(
        "conversations.html",
        company_name=settings.company_name,
        user=user,
        params=params,
        result=result,
        channels=data["channels"],
        outcomes=OUTCOME_LABELS,
        error=error,
        pages_total=pages_total,
        page_url=page_url,
    )
    return _page(html, 422 if error else 200)


@pages.get("/console/conversations/{conversation_id}")
async def detail_page(
    conversation_id: str, user: ConversationReader, engine: EngineDep, settings: SettingsDep
) -> HTMLResponse:
    """Show one conversation: transcript, feedback, handoff history, its lead."""
    try:
        conversation = await asyncio.to_thread(_detail, engine, conversation_id, user, settings)
    except ApiError as problem:
        html = render(
            "conversation_missing.html",
            company_name=settings.company_name,
            user=user,
            message=problem.message,
        )
        return _page(html, problem.status_code)
    html = render(
        "conversation.html",
        company_name=settings.company_name,
        user=user,
        c=conversation,
        outcomes=OUTCOME_LABELS,
    )
    return _page(html)
