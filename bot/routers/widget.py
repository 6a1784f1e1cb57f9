"""``GET /api/widget/config``: the widget's texts from the company's settings.

The widget asks for them when it loads, so a company's name, greeting and support address
reach every site that embeds it without editing the script tag; ``data-*`` attributes on the
tag still override them.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from bot.deps import SettingsDep
from bot.messages import fallback_text

router = APIRouter(tags=["widget"])


class WidgetConfig(BaseModel):
    """What the widget shows before the first reply, and when the assistant is unreachable."""

    title: str
    subtitle: str
    fallback: str
    support_email: str
    locale: str


@router.get("/api/widget/config", response_model=WidgetConfig)
async def widget_config(settings: SettingsDep) -> WidgetConfig:
    """Return the title, subtitle, fallback text, support address and locale."""
    company = settings.company
    return WidgetConfig(
        title=company.name,
        subtitle=settings.widget_subtitle,
        fallback=fallback_text(company),
        support_email=company.support_email,
        locale=settings.locale,
    )
