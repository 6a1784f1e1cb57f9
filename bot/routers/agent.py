"""The agent console's JSON API (``/api/agent/...``) and pages (``/console/agent...``).

For signed-in ``support`` and ``sales`` staff. The queue lists open handoffs (waiting for a
person or with one); a conversation shows its whole transcript, read from Rasa's tracker
(the bot's turns and the human ones alike). ``claim`` takes a waiting conversation (of two
agents claiming at once, one gets 200 and the other 409), ``reply`` sends the claiming
agent's message to the customer, ``handback`` gives the conversation back to the bot and
``close`` ends the handoff. State-changing calls need the session's CSRF token in
``X-CSRF-Token``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field, field_validator

from bot.auth.sessions import SignedIn
from bot.auth.staff import AgentUser, CsrfChecked
from bot.deps import RasaDep, SettingsDep, StateDep
from bot.rasa_client import RasaUnavailable
from bot.routers.errors import ApiError
from bot.routers.pages import PAGE_SECURITY_HEADERS, STATIC_DIR
from bot.services.handoff import (
    Agent,
    HandoffError,
    HandoffService,
    HandoffView,
    TransitionView,
)
from bot.templating import render

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/agent", tags=["agent console"])
pages = APIRouter(tags=["agent console"], include_in_schema=False)

MAX_REPLY_CHARS = 4000
NO_STORE = {"Cache-Control": "no-store"}


class HandoffPublic(BaseModel):
    """One handoff in the queue or a conversation."""

    id: str
    conversation_id: str
    channel: str
    state: Literal["waiting", "active", "returned", "closed"]
    reason: str
    summary: str | None = Field(description="What the customer asked")
    agent: str | None = Field(description="Email of the agent who claimed it")
    created_at: datetime
    wait_seconds: int = Field(description="Seconds since the customer asked for a person")
    lead_score: int | None = None
    lead_grade: str | None = None


class TransitionPublic(BaseModel):
    """One change of state: from, to, who and when."""

    from_state: str | None
    to_state: str
    actor: str
    at: datetime


class TranscriptEntry(BaseModel):
    """One turn of the conversation."""

    role: Literal["customer", "bot", "agent"]
    text: str
    at: datetime | None
    agent: str | None = None


class ConversationPublic(BaseModel):
    """A conversation as the console shows it."""

    conversation_id: str
    handoff: HandoffPublic | None
    transitions: list[TransitionPublic]
    transcript: list[TranscriptEntry]
    transcript_error: str | None = Field(
        default=None, description="Why the transcript could not be read (Rasa unavailable)"
    )


class ReplyCreate(BaseModel):
    """An agent's message to the customer."""

    text: str = Field(min_length=1, max_length=MAX_REPLY_CHARS)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("text must not be empty")
        return text


def get_handoff_service(state: StateDep) -> HandoffService:
    """Return the handoff service of the running gateway."""
    service = state.conversation.handoff
    if service is None:
        raise ApiError(503, "human handoff is not configured on this gateway")
    return service


HandoffDep = Annotated[HandoffService, Depends(get_handoff_service)]


def _agent(user: SignedIn) -> Agent:
    return Agent(id=user.user_id, email=user.email)


def _public(view: HandoffView, now: datetime) -> HandoffPublic:
    return HandoffPublic(
        id=view.id,
        conversation_id=view.conversation_id,
        channel=view.channel,
        state=view.state,  # type: ignore[arg-type]
        reason=view.reason,
        summary=view.summary,
        agent=view.agent_email,
        created_at=view.created_at,
        wait_seconds=view.wait_seconds(now),
        lead_score=view.lead_score,
        lead_grade=view.lead_grade,
    )


def _transcript(tracker: dict[str, Any]) -> list[TranscriptEntry]:
    entries: list[TranscriptEntry] = []
    for event in tracker.get("events") or []:
        if not isinstance(event, dict) or event.get("event") not in ("user", "bot"):
            continue
        text = event.get("text")
        if not isinstance(text, str) or not text:
            continue
        stamp = event.get("timestamp")
        at = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int | float) else None
        metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
        agent = metadata.get("agent") if isinstance(metadata, dict) else None
        if event["event"] == "user":
            entries.append(TranscriptEntry(role="customer", text=text, at=at))
        elif agent:
            entries.append(TranscriptEntry(role="agent", text=text, at=at, agent=str(agent)))
        else:
            entries.append(TranscriptEntry(role="bot", text=text, at=at))
    return entries


async def _latest(service: HandoffService, conversation_id: str) -> HandoffView:
    """Return the conversation's open handoff, or 404."""
    view = await asyncio.to_thread(service.store.open_for, conversation_id)
    if view is None:
        raise ApiError(404, "this conversation has no open handoff")
    return view


def _refused(error: HandoffError) -> HTTPException:
    return HTTPException(error.status, str(error))


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not a support or sales account, or no CSRF token"},
    404: {"description": "No open handoff in this conversation"},
    409: {"description": "Claimed by someone else, or not in a state that allows this"},
}


@router.get("/queue", response_model=list[HandoffPublic], responses=ERRORS)
async def queue(user: AgentUser, service: HandoffDep) -> list[HandoffPublic]:
    """List the conversations waiting for a person or with one, the longest waiting first."""
    now = datetime.now(UTC)
    views = await asyncio.to_thread(service.store.queue)
    return [_public(v, now) for v in views]


@router.get("/conversations/{conversation_id}", response_model=ConversationPublic, responses=ERRORS)
async def conversation(
    conversation_id: str, user: AgentUser, service: HandoffDep, rasa: RasaDep
) -> ConversationPublic:
    """Show one conversation: its open handoff, the transitions and the whole transcript."""
    view = await _latest(service, conversation_id)
    transitions: list[TransitionView] = await asyncio.to_thread(service.store.transitions, view.id)
    transcript: list[TranscriptEntry] = []
    problem = None
    try:
        transcript = _transcript(await rasa.tracker(conversation_id))
    except RasaUnavailable as error:
        logger.warning("agent.transcript.unavailable reason=%s", error)
        problem = "the transcript is unavailable: Rasa cannot be reached"
    return ConversationPublic(
        conversation_id=conversation_id,
        handoff=_public(view, datetime.now(UTC)),
        transitions=[TransitionPublic(**t.__dict__) for t in transitions],
        transcript=transcript,
        transcript_error=problem,
    )


@router.post(
    "/conversations/{conversation_id}/claim", response_model=HandoffPublic, responses=ERRORS
)
async def claim(
    conversation_id: str, user: AgentUser, _csrf: CsrfChecked, service: HandoffDep
) -> HandoffPublic:
    """Take a waiting conversation: the bot stays silent and the customer is told."""
    view = await _latest(service, conversation_id)
    try:
        claimed = await service.claim(view.id, _agent(user))
    except HandoffError as error:
        raise _refused(error) from None
    return _public(claimed, datetime.now(UTC))


@router.post(
    "/conversations/{conversation_id}/reply", response_model=HandoffPublic, responses=ERRORS
)
async def reply(
    conversation_id: str,
    body: ReplyCreate,
    user: AgentUser,
    _csrf: CsrfChecked,
    service: HandoffDep,
) -> HandoffPublic:
    """Send a message to the customer (only the agent who claimed the conversation)."""
    view = await _latest(service, conversation_id)
    try:
        await service.reply(view.id, _agent(user), body.text)
    except HandoffError as error:
        raise _refused(error) from None
    except RasaUnavailable:
        raise ApiError(503, "the message could not be recorded: Rasa is unavailable") from None
    return _public(view, datetime.now(UTC))


@router.post(
    "/conversations/{conversation_id}/handback", response_model=HandoffPublic, responses=ERRORS
)
async def handback(
    conversation_id: str, user: AgentUser, _csrf: CsrfChecked, service: HandoffDep
) -> HandoffPublic:
    """Give the conversation back to the bot, which now knows what was said."""
    view = await _latest(service, conversation_id)
    try:
        returned = await service.handback(view.id, _agent(user))
    except HandoffError as error:
        raise _refused(error) from None
    return _public(returned, datetime.now(UTC))


@router.post(
    "/conversations/{conversation_id}/close", response_model=HandoffPublic, responses=ERRORS
)
async def close(
    conversation_id: str, user: AgentUser, _csrf: CsrfChecked, service: HandoffDep
) -> HandoffPublic:
    """End the handoff (the conversation is with the bot again)."""
    view = await _latest(service, conversation_id)
    try:
        closed = await service.close(view.id, _agent(user))
    except HandoffError as error:
        raise _refused(error) from None
    return _public(closed, datetime.now(UTC))


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={**PAGE_SECURITY_HEADERS, **NO_STORE})


@pages.get("/console/agent")
def queue_page(user: AgentUser, settings: SettingsDep) -> HTMLResponse:
    """Show the queue (it refreshes itself every few seconds)."""
    return _page(render("agent_queue.html", company_name=settings.company_name, user=user))


@pages.get("/console/agent/conversations/{conversation_id}")
def conversation_page(conversation_id: str, user: AgentUser, settings: SettingsDep) -> HTMLResponse:
    """Show one conversation: transcript, claim, reply, hand back, close."""
    return _page(
        render(
            "agent_conversation.html",
            company_name=settings.company_name,
            user=user,
            conversation_id=conversation_id,
        )
    )


@pages.get("/agent.js")
def agent_js() -> FileResponse:
    """Serve the console's script."""
    return FileResponse(STATIC_DIR / "agent.js", media_type="text/javascript")
