"""The knowledge console's pages (``/console/knowledge``, ``/console/unanswered``) and script.

The pages are shells rendered for the signed-in person; ``/knowledge.js`` fills them from the
JSON API in ``bot/routers/knowledge_admin.py`` (the same calls any integration can make).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from bot.deps import SettingsDep
from bot.routers.knowledge_admin import KnowledgeStaff
from bot.routers.pages import PAGE_SECURITY_HEADERS, STATIC_DIR
from bot.templating import render
from knowledge.loaders import SUPPORTED_SUFFIXES

pages = APIRouter(tags=["knowledge console"], include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={**PAGE_SECURITY_HEADERS, **NO_STORE})


@pages.get("/console/knowledge")
def knowledge_page(user: KnowledgeStaff, settings: SettingsDep) -> HTMLResponse:
    """Documents: upload, list, preview, replace, delete, re-index; try a question."""
    return _page(
        render(
            "knowledge_sources.html",
            company_name=settings.company_name,
            user=user,
            accept=",".join(SUPPORTED_SUFFIXES),
            max_mb=round(settings.kb_upload_max_bytes / (1024 * 1024), 1),
            max_files=settings.kb_upload_max_files,
        )
    )


@pages.get("/console/unanswered")
def unanswered_page(user: KnowledgeStaff, settings: SettingsDep) -> HTMLResponse:
    """Show the grouped queue of unanswered questions; answer, link or dismiss each group."""
    return _page(render("unanswered_queue.html", company_name=settings.company_name, user=user))


@pages.get("/knowledge.js")
def knowledge_js() -> FileResponse:
    """Serve the knowledge console's script."""
    return FileResponse(STATIC_DIR / "knowledge.js", media_type="text/javascript")
