"""The Jinja2 templates of the HTML pages (``bot/templates``), autoescaped."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def get_templates() -> Environment:
    """Return the template environment (built on first use; ``.html`` output is escaped)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **values: Any) -> str:
    """Render ``bot/templates/<name>`` with ``values`` (escaped unless marked safe)."""
    return get_templates().get_template(name).render(**values)
