"""The web widget's API: ``POST /api/chat`` (one conversation turn) and ``POST /api/feedback``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import ConversationDep, EngineDep, WebChannelDep
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
from core.logging import sender_ref
from core.storage import Feedback, KBAnswer, session_scope

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["chat"])


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        422: {"model": ErrorResponse, "description": "The request is not a valid message"},
        503: {"model": UnavailableResponse, "description": "Rasa is down, failing or slow"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ChatRequest.model_json_schema()}},
        }
    },
)
async def chat(
    request: Request, channel: WebChannelDep, conversation: ConversationDep
) -> JSONResponse:
    """Send the customer's message to the assistant and return its replies."""
    turn = await conversation.turn(channel, await read_json_body(request))
    body = channel.render(turn.messages, recipient_id=turn.incoming.sender_id)
    if not turn.ok:
        return JSONResponse({"error": UNAVAILABLE_ERROR, **body}, status_code=503)
    return JSONResponse(body)


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackPublic,
    responses={
        404: {"model": ErrorResponse, "description": "No such answer in this conversation"},
        422: {"model": ErrorResponse, "description": "The request is not valid feedback"},
        503: {"model": ErrorResponse, "description": "The database is unavailable"},
    },
)
def create_feedback(body: FeedbackCreate, engine: EngineDep) -> FeedbackPublic:
    """Store a thumbs up or down on an answer, with the question, answer and chunks it used."""
    try:
        with session_scope(engine) as session:
            answer = session.get(KBAnswer, body.answer_id)
            if answer is None or answer.sender_id != body.sender_id:
                raise ApiError(404, "no answer with this answer_id in this conversation")
            feedback = Feedback(
                answer_id=answer.id,
                sender_id=body.sender_id,
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
    logger.info("feedback.created rating=%s sender=%s", body.rating, sender_ref(body.sender_id))
    return FeedbackPublic(id=feedback_id)
