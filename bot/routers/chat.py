"""The web widget's API: ``POST /api/chat`` (one conversation turn) and ``POST /api/feedback``.

A message without a token starts a conversation; the reply carries its ``conversation_id``
and a signed ``token``, renewed in every reply. Every later message, and feedback, sends
``Authorization: Bearer <token>``; a missing, forged or expired token is a 401 and never
reaches another conversation.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.auth.bearer import Unauthorized
from bot.deps import (
    ConversationDep,
    ConversationTokensDep,
    EngineDep,
    RequiredConversationDep,
    TokenConversationDep,
    WebChannelDep,
)
from bot.routers.errors import ApiError, read_json_body
from bot.schemas import (
    ChatRequest,
    ChatResponse,
    ErrorResponse,
    FeedbackCreate,
    FeedbackPublic,
    UnavailableResponse,
)
from bot.services.conversation import UNAVAILABLE_ERROR
from channels.base import InvalidMessage
from core.logging import sender_ref
from core.storage import Feedback, KBAnswer, session_scope

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["chat"])

CLAIM_FIELDS = ("conversation_id", "sender_id")
"""Body fields that name a conversation: only a check against the token, never a grant."""


def new_conversation_id() -> str:
    """Return the id of a new web conversation (a random UUID)."""
    return str(uuid.uuid4())


def resolve_conversation(body: dict[str, Any], granted: str | None) -> str:
    """Return the conversation this message belongs to: the token's, or a new one.

    A body that names a conversation (``conversation_id``, or the older ``sender_id``) must
    name the token's; naming one without a token is a 401, not a new conversation.
    """
    claimed = next((body[name] for name in CLAIM_FIELDS if body.get(name) is not None), None)
    if granted is None:
        if claimed is not None:
            raise Unauthorized(
                "continuing a conversation needs its token: send 'Authorization: Bearer "
                "<token>' (or leave out conversation_id to start a new conversation)",
                error="invalid_request",
            )
        return new_conversation_id()
    if claimed is not None and claimed != granted:
        raise Unauthorized("the conversation token belongs to another conversation")
    return granted


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        401: {"model": ErrorResponse, "description": "The token is missing, forged or expired"},
        422: {"model": ErrorResponse, "description": "The request is not a valid message"},
        503: {"model": UnavailableResponse, "description": "Rasa is down, failing or slow"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ChatRequest.model_json_schema()}},
        },
    },
)
async def chat(
    request: Request,
    channel: WebChannelDep,
    conversation: ConversationDep,
    tokens: ConversationTokensDep,
    granted: TokenConversationDep,
) -> JSONResponse:
    """Send the customer's message to the assistant; return its replies and a renewed token."""
    body = await read_json_body(request)
    if not isinstance(body, dict):
        raise InvalidMessage("the request body must be a JSON object")
    conversation_id = resolve_conversation(body, granted)
    payload = {k: v for k, v in body.items() if k not in CLAIM_FIELDS}
    turn = await conversation.turn(channel, {**payload, "sender_id": conversation_id})
    if granted is None:
        logger.info("chat.conversation.started sender=%s", sender_ref(conversation_id))
    issued = tokens.issue(conversation_id)
    rendered = channel.render(turn.messages, recipient_id=conversation_id)
    reply = {
        "conversation_id": conversation_id,
        "token": issued.token,
        "token_expires_at": issued.expires_at.isoformat(),
        "messages": rendered["messages"],
    }
    if not turn.ok:
        return JSONResponse({"error": UNAVAILABLE_ERROR, **reply}, status_code=503)
    return JSONResponse(reply)


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackPublic,
    responses={
        401: {"model": ErrorResponse, "description": "The conversation token is missing or bad"},
        404: {"model": ErrorResponse, "description": "No such answer in this conversation"},
        422: {"model": ErrorResponse, "description": "The request is not valid feedback"},
        503: {"model": ErrorResponse, "description": "The database is unavailable"},
    },
)
def create_feedback(
    body: FeedbackCreate, engine: EngineDep, conversation_id: RequiredConversationDep
) -> FeedbackPublic:
    """Store a thumbs up or down on an answer of the token's conversation, with its context."""
    try:
        with session_scope(engine) as session:
            answer = session.get(KBAnswer, body.answer_id)
            if answer is None or answer.sender_id != conversation_id:
                raise ApiError(404, "no answer with this answer_id in this conversation")
            feedback = Feedback(
                answer_id=answer.id,
                sender_id=conversation_id,
                rating=body.rating,
                comment=body.comment,
                question=answer.question,
                answer=answer.answer,
                chunk_ids=list(answer.chunk_ids or []),
            )
            session.add(feedback)
            session.flush()
            feedback_id = feedback.id
    except SQLAlchemyError as error:
        logger.error("feedback.db.failed error=%s", type(error).__name__)
        raise ApiError(503, "feedback cannot be saved right now; please try again later") from error
    logger.info("feedback.created rating=%s sender=%s", body.rating, sender_ref(conversation_id))
    return FeedbackPublic(id=feedback_id)
