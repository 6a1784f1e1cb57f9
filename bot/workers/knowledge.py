"""The worker's loop for knowledge-base jobs: run what the gateway queued but did not run.

The gateway runs a job right after the request in a background task; a job it did not get
to (the gateway restarted, or another replica queued it) stays ``queued`` and this loop,
started by ``concierge worker``, claims it within ``CONCIERGE_KB_JOBS_POLL_SECONDS``. A job
is claimed by a conditional update, so it runs once whoever is first. The knowledge base
(and its embedding model) is loaded only when there is a job.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.services.knowledge_jobs import KnowledgeJobs
from core.config import Settings
from core.storage import get_engine
from knowledge.service import get_knowledge_base

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=1)
"""A job still running after this long lost its process (a re-index of thousands of files
takes minutes); it is marked failed so that the console says so."""


class KnowledgeJobWorker:
    """Polls ``kb_jobs`` and runs queued jobs one at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._jobs: KnowledgeJobs | None = None

    def jobs(self) -> KnowledgeJobs:
        """Return the job service (built on first use, so idle workers load no model)."""
        if self._jobs is None:
            self._jobs = KnowledgeJobs(
                get_engine(self.settings.sqlalchemy_url),
                get_knowledge_base(self.settings.knowledge),
                self.settings.data_dir,
            )
        return self._jobs

    def tick(self) -> int:
        """Run every queued job once; return how many ran here."""
        from sqlalchemy import select

        from core.storage import session_scope
        from core.storage.knowledge_console import JOB_QUEUED, JOB_RUNNING, KBJob
        from core.storage.models import utcnow

        with session_scope(get_engine(self.settings.sqlalchemy_url)) as session:
            waiting = session.scalar(select(KBJob.id).where(KBJob.status == JOB_QUEUED).limit(1))
            stale = session.scalar(
                select(KBJob.id)
                .where(KBJob.status == JOB_RUNNING, KBJob.started_at < utcnow() - STALE_AFTER)
                .limit(1)
            )
        if stale:
            self.jobs().fail_stale(STALE_AFTER)
        return self.jobs().run_queued() if waiting else 0

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; a failing poll is logged and retried."""
        logger.info("kb.jobs.worker.started poll=%.1fs", self.settings.kb_jobs_poll_seconds)
        while not stop.is_set():
            try:
                self.tick()
            except SQLAlchemyError as error:
                logger.warning("kb.jobs.worker.poll_failed error=%s", type(error).__name__)
            except Exception:  # the delivery loop beside it must keep running
                logger.exception("kb.jobs.worker.failed")
            stop.wait(self.settings.kb_jobs_poll_seconds)


def start_knowledge_jobs(settings: Settings, stop: threading.Event) -> threading.Thread:
    """Start the loop in a daemon thread of the worker process."""
    thread = threading.Thread(
        target=KnowledgeJobWorker(settings).run, args=(stop,), daemon=True, name="kb-jobs"
    )
    thread.start()
    return thread
