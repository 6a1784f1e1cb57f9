"""The widget's public routes: its texts from the company's settings, and its bundle.

``GET /api/widget/config`` answers what the widget shows before the first reply (title,
subtitle, greeting, the fallback sentence, the support address, the locale) and which other
origins' images it may show. The texts come from the settings, else from the content
folder's optional ``widget.yml`` (``subtitle``, ``greeting``, ``fallback``); ``data-*``
attributes on the script tag still override them in the browser.

``GET /api/widget/bundle/concierge.<hash>.js`` serves the versioned bundle the loader
(``/widget.js``) names: its name changes with its content, so it is cached for a year.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel

from bot.deps import SettingsDep
from bot.messages import fallback_text
from bot.routers.errors import ApiError
from core.config import Settings

logger = logging.getLogger(__name__)

router = APIRouter(tags=["widget"])

BUNDLE_DIR = Path(__file__).resolve().parent.parent / "static" / "widget"
BUNDLE_NAME = re.compile(r"^concierge\.[0-9a-f]{12}\.js$")
IMMUTABLE = "public, max-age=31536000, immutable"
HTTPS_ORIGIN = re.compile(r"^https://[a-z0-9.-]+(:[0-9]{1,5})?$")
CONTENT_FILE = "widget.yml"
CONTENT_KEYS = ("subtitle", "greeting", "fallback")
MAX_TEXT = 500


class WidgetConfig(BaseModel):
    """What the widget shows before the first reply, and when the assistant is unreachable."""

    title: str
    subtitle: str
    greeting: str
    fallback: str
    support_email: str
    locale: str
    image_origins: list[str]


def content_texts(content_dir: Path) -> dict[str, str]:
    """Return the texts of ``content_dir/widget.yml`` (missing or invalid: none, logged)."""
    path = content_dir / CONTENT_FILE
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as error:
        logger.warning("widget.content.unreadable path=%s error=%s", path, type(error).__name__)
        return {}
    if not isinstance(data, dict):
        logger.warning("widget.content.not_a_mapping path=%s", path)
        return {}
    texts: dict[str, str] = {}
    for key in CONTENT_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            texts[key] = value.strip()[:MAX_TEXT]
        elif value is not None:
            logger.warning("widget.content.ignored path=%s key=%s", path, key)
    return texts


def image_origins(settings: Settings) -> list[str]:
    """Return the allowed image origins that are plain ``https://host[:port]`` (others logged)."""
    allowed: list[str] = []
    for value in settings.widget_image_origins:
        origin = value.strip().rstrip("/").lower()
        if HTTPS_ORIGIN.match(origin):
            allowed.append(origin)
        else:
            logger.warning("widget.image_origin.ignored value_length=%d", len(value))
    return allowed


def widget_config_for(settings: Settings) -> WidgetConfig:
    """Build the widget's config from ``settings`` and the content folder."""
    company = settings.company
    content = content_texts(settings.content_dir)
    subtitle = settings.widget_subtitle
    if "widget_subtitle" not in settings.model_fields_set and "subtitle" in content:
        subtitle = content["subtitle"]
    english = settings.locale.split("-")[0] == "en"
    # Outside English the widget words the fallback itself (its translation, this address).
    fallback = content.get("fallback") or (fallback_text(company) if english else "")
    return WidgetConfig(
        title=company.name,
        subtitle=subtitle,
        greeting=settings.widget_greeting.strip() or content.get("greeting", ""),
        fallback=fallback,
        support_email=company.support_email,
        locale=settings.locale,
        image_origins=image_origins(settings),
    )


@router.get("/api/widget/config", response_model=WidgetConfig)
async def widget_config(settings: SettingsDep) -> WidgetConfig:
    """Return the title, subtitle, greeting, fallback text, support address and locale."""
    return widget_config_for(settings)


@router.get("/api/widget/bundle/{name}", include_in_schema=False)
def widget_bundle(name: str) -> FileResponse:
    """Serve a version of the widget's bundle (named by its content hash, cached for a year)."""
    path = BUNDLE_DIR / name
    if not BUNDLE_NAME.match(name) or not path.is_file():
        raise ApiError(404, "no such widget bundle: load /widget.js")
    return FileResponse(
        path,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": IMMUTABLE, "Access-Control-Allow-Origin": "*"},
    )
