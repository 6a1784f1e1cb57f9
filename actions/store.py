"""What the actions record in the application database.

Writes run in a worker thread and never crash a conversation: a failed write is logged
(without personal data) and reported to the caller, which decides what to tell the customer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from actions import deps
from core.storage import ContactRequest, HandoffRequest, KBAnswer, new_id, session_scope
from knowledge.types import Answer

logger = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3


async def _write(event: str, row: Any) -> bool:
    """Insert ``row``; retry briefly, since SQLite may be busy. Return whether it was stored."""

    def insert() -> None:
        with session_scope(deps.get_database()) as session:
            session.merge(row)

    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            await asyncio.to_thread(insert)
            return True
        except SQLAlchemyError as error:
            logger.warning("%s.failed attempt=%d error=%s", event, attempt, type(error).__name__)
            await asyncio.sleep(0.2 * attempt)
    logger.error("%s.dropped after %d attempts", event, WRITE_ATTEMPTS)
    return False


async def record_answer(sender_id: str, channel: str, answer: Answer) -> str:
    """Store what the knowledge base answered (or declined); return the answer id."""
    answer_id = new_id()
    row = KBAnswer(
        id=answer_id,
        sender_id=sender_id,
        channel=channel,
        question=answer.question,
        answer=answer.text,
        confidence=float(answer.confidence),
        chunk_ids=[chunk.id for chunk in answer.chunks],
        sources=[source.to_dict() for source in answer.sources],
    )
    await _write("actions.answer.record", row)
    return answer_id


async def record_handoff(
    sender_id: str, channel: str, reason: str, last_message: str | None, email: str | None
) -> bool:
    """Store a request for a person."""
    row = HandoffRequest(
        id=new_id(),
        sender_id=sender_id,
        channel=channel,
        reason=reason,
        last_message=last_message,
        email=email,
    )
    return await _write("actions.handoff.record", row)


async def record_contact(sender_id: str, email: str, topic: str, details: dict[str, Any]) -> bool:
    """Store an email left for a follow-up (a sales lead or a support request)."""
    row = ContactRequest(
        id=new_id(), sender_id=sender_id, email=email, topic=topic, details=details
    )
    return await _write("actions.contact.record", row)
