"""The application database: tables, engines, units of work and migrations.

SQLite under the data directory by default, PostgreSQL with ``CONCIERGE_DATABASE_URL``.
Nothing connects at import time; the schema is created and upgraded only by the migrations
(``concierge db upgrade``), never by ``create_all``.
"""

from core.storage.accounts import LoginAttempt, StaffSession, StaffUser
from core.storage.app_events import AppEvent, EventFeedCursor
from core.storage.engine import get_engine, ping
from core.storage.events import ConversationEvent
from core.storage.handoff import Handoff, HandoffThread, HandoffTransition
from core.storage.knowledge_console import KBJob, UnansweredQuestion
from core.storage.models import Base, ContactRequest, Feedback, HandoffRequest, KBAnswer, new_id
from core.storage.privacy import PrivacyRequest
from core.storage.telegram import TelegramUpdate
from core.storage.unit_of_work import UnitOfWork, session_scope, unit_of_work

__all__ = [
    "AppEvent",
    "Base",
    "ContactRequest",
    "ConversationEvent",
    "EventFeedCursor",
    "Feedback",
    "Handoff",
    "HandoffRequest",
    "HandoffThread",
    "HandoffTransition",
    "KBAnswer",
    "KBJob",
    "LoginAttempt",
    "PrivacyRequest",
    "StaffSession",
    "StaffUser",
    "TelegramUpdate",
    "UnansweredQuestion",
    "UnitOfWork",
    "get_engine",
    "new_id",
    "ping",
    "session_scope",
    "unit_of_work",
]
