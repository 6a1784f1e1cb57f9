"""Data rights in the console (``admin`` only): export a person's data, erase it everywhere.

JSON API (documented in the OpenAPI at ``/docs``):

- ``POST /api/admin/privacy/export`` with ``{"email"}``: the export document;
- ``POST /api/admin/privacy/erase`` with ``{"email"}``: what would be erased (nothing is
  changed); with ``{"email", "confirm": <the same email>}``: the erasure and its report.

The page ``/admin/privacy`` does the same with forms (export downloads the JSON; erase shows
what will go and asks for the email again). Every POST needs the session's CSRF token. The
email travels in the body, never in a URL, so it stays out of access logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from bot.auth.sessions import SignedIn
from bot.auth.staff import CsrfChecked, require_role
from bot.deps import SettingsDep
from bot.routers.errors import ApiError
from bot.routers.pages import PAGE_SECURITY_HEADERS
from bot.services.privacy import (
    PrivacyError,
    crm_factory,
    erase_subject,
    export_subject,
    preview_erasure,
    stores_for,
    subject_key,
)
from bot.templating import render
from core.config import Settings

logger = logging.getLogger(__name__)

AdminOnly = Annotated[SignedIn, Depends(require_role("admin"))]
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(prefix="/api/admin/privacy", tags=["data rights"])
pages = APIRouter(tags=["data rights"], include_in_schema=False)


class SubjectIn(BaseModel):
    """The person a request is about."""

    email: str = Field(min_length=3, max_length=320, description="The person's email address")


class EraseIn(SubjectIn):
    """An erasure: without ``confirm`` (or with another value) only a preview is returned."""

    confirm: str | None = Field(
        default=None, max_length=320, description="The same email again, to erase for good"
    )


class ErasePreview(BaseModel):
    """What an erasure would remove; nothing was changed."""

    erased: bool = Field(default=False, description="Always false: this is the preview")
    found: bool
    conversations: int
    counts: dict[str, dict[str, int]] = Field(description="Rows per store and table")
    crm: list[str] = Field(description="CRMs that would be asked to delete the person")
    not_reached: list[str] = Field(
        description="Rasa stores this deployment does not lead to (nothing read or erased there)"
    )
    confirm: str = Field(description="What to do to erase")


class CRMOutcomeOut(BaseModel):
    """One CRM's answer to the erasure."""

    target: str
    lead_id: str
    status: str = Field(description="erased, not_found (already gone) or failed")
    detail: str | None


class EraseReport(BaseModel):
    """The erasure that was done, as recorded in ``privacy_requests``."""

    erased: bool = True
    request_id: str
    status: str = Field(description="done, or partial when a CRM call failed (erase again)")
    counts: dict[str, Any] = Field(description="Rows removed per store and table")
    crm: list[CRMOutcomeOut]


def _actor(user: SignedIn) -> str:
    return user.email


def _export(settings: Settings, email: str, user: SignedIn) -> dict[str, Any]:
    try:
        return export_subject(
            stores_for(settings), subject_key(settings), email, requested_by=_actor(user)
        )
    except PrivacyError as error:
        raise ApiError(400, str(error)) from error


def _preview(settings: Settings, email: str) -> dict[str, Any]:
    try:
        return preview_erasure(stores_for(settings), email)
    except PrivacyError as error:
        raise ApiError(400, str(error)) from error


def _erase(settings: Settings, email: str, user: SignedIn) -> EraseReport:
    with httpx.Client(timeout=settings.crm_timeout_seconds) as client:
        try:
            report = erase_subject(
                stores_for(settings),
                subject_key(settings),
                email,
                requested_by=_actor(user),
                adapter_for=crm_factory(settings, client),
            )
        except PrivacyError as error:
            raise ApiError(400, str(error)) from error
    return EraseReport(**report.to_json())


def _same(email: str, confirm: str | None) -> bool:
    return bool(confirm) and email.strip().lower() == (confirm or "").strip().lower()


@router.post("/export")
async def export_api(
    body: SubjectIn,
    _admin: AdminOnly,
    user: CsrfChecked,
    settings: SettingsDep,
    response: Response,
) -> dict[str, Any]:
    """Everything held about the person, as one JSON document (docs/privacy.md)."""
    response.headers.update(NO_STORE)
    return await asyncio.to_thread(_export, settings, body.email, user)


@router.post("/erase")
async def erase_api(
    body: EraseIn,
    _admin: AdminOnly,
    user: CsrfChecked,
    settings: SettingsDep,
    response: Response,
) -> ErasePreview | EraseReport:
    """Preview the erasure, or with ``confirm`` equal to the email, erase the person."""
    response.headers.update(NO_STORE)
    if not _same(body.email, body.confirm):
        preview = await asyncio.to_thread(_preview, settings, body.email)
        return ErasePreview(
            **preview, confirm="send the request again with confirm set to the same email"
        )
    return await asyncio.to_thread(_erase, settings, body.email, user)


def _page(settings: Settings, user: SignedIn, status_code: int = 200, **values: Any) -> Response:
    values.setdefault("email", "")
    values.setdefault("error", None)
    values.setdefault("preview", None)
    values.setdefault("report", None)
    html = render("privacy.html", company_name=settings.company_name, user=user, **values)
    return HTMLResponse(
        html, status_code=status_code, headers={**PAGE_SECURITY_HEADERS, **NO_STORE}
    )


EmailField = Annotated[str, Form(max_length=320)]


@pages.get("/admin/privacy", response_class=HTMLResponse)
async def privacy_page(user: AdminOnly, settings: SettingsDep) -> Response:
    """Show the data-rights page: export or erase a person's data."""
    return _page(settings, user)


@pages.post("/admin/privacy/export")
async def export_page(
    _admin: AdminOnly, user: CsrfChecked, settings: SettingsDep, email: EmailField = ""
) -> Response:
    """Download the export of the person as a JSON file."""
    try:
        document = await asyncio.to_thread(_export, settings, email, user)
    except ApiError as error:
        return _page(settings, user, 400, email=email, error=error.message)
    body = json.dumps(document, indent=2, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={
            **NO_STORE,
            "Content-Disposition": 'attachment; filename="privacy-export.json"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@pages.post("/admin/privacy/erase", response_class=HTMLResponse)
async def erase_page(
    _admin: AdminOnly,
    user: CsrfChecked,
    settings: SettingsDep,
    email: EmailField = "",
    confirm: EmailField = "",
) -> Response:
    """First show what would be erased and ask for the email again; then erase."""
    try:
        if not _same(email, confirm):
            preview = await asyncio.to_thread(_preview, settings, email)
            mismatch = "the confirmation did not match the email" if confirm else None
            return _page(settings, user, email=email, preview=preview, error=mismatch)
        report = await asyncio.to_thread(_erase, settings, email, user)
    except ApiError as error:
        return _page(settings, user, 400, email=email, error=error.message)
    return _page(settings, user, report=report.model_dump())
