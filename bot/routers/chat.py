"""The web widget's API: ``POST /api/chat`` (one conversation turn) and ``POST /api/feedback``."""

from __future__ import annotations

import hashlib
import logging
import time

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import EngineDep, RasaDep, WebChannelDep
from bot.messages import fallback_message, normalize
from bot.rasa_client import RasaBadResponse, RasaClient, RasaTimeout, RasaUnavailable
from bot.routers.errors import ApiError, read_json_body
from bot.schemas import (
    ChatRequest,
    ChatResponse,
    ErrorResponse,
    FeedbackCreate,
    FeedbackPublic,
    UnavailableResponse,
)
from core.messages import IncomingMessage, OutgoingMessage
from core.storage import Feedback, KBAnswer, session_scope

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["chat"])

UNAVAILABLE_ERROR = "the assistant is temporarily unavailable"


def sender_ref(sender_id: str) -> str:
    """Return a short, stable pseudonym of a conversation id for log lines."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:12]


async def converse(rasa: RasaClient, incoming: IncomingMessage) -> list[OutgoingMessage]:
    """Send one customer message to Rasa and return its normalised replies.

    Raises :class:`RasaUnavailable` (or a subclass) after logging it for the operator.
    """
    started = time.perf_counter()
    who = f"channel={incoming.channel} sender={sender_ref(incoming.sender_id)}"
    try:
        entries = await rasa.send(incoming)
    except RasaUnavailable as error:
        event = "chat.rasa.unavailable"
        if isinstance(error, RasaTimeout):
            event = "chat.rasa.timeout"
        elif isinstance(error, RasaBadResponse):
            event = "chat.rasa.bad_response"
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        logger.warning("%s %s ms=%d reason=%s", event, who, elapsed_ms, error)
        raise
    messages = normalize(entries)
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    logger.info(
        "chat.turn.ok %s chars=%d messages=%d ms=%d",
        who,
        len(incoming.text),
        len(messages),
        elapsed_ms,
    )
    return messages


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
async def chat(request: Request, channel: WebChannelDep, rasa: RasaDep) -> JSONResponse:
    """Send the customer's message to the assistant and return its replies."""
    incoming = channel.parse(await read_json_body(request))
    try:
        messages = await converse(rasa, incoming)
    except RasaUnavailable:
        body = channel.render([fallback_message()], recipient_id=incoming.sender_id)
        return JSONResponse({"error": UNAVAILABLE_ERROR, **body}, status_code=503)
    return JSONResponse(channel.render(messages, recipient_id=incoming.sender_id))


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
