"""Normalise what Rasa's REST webhook returns into the gateway's message shape.

Rasa's ``CollectingOutputChannel`` splits one bot utterance into several list entries: the
text (with its buttons) first, then ``{"custom": {...}}`` for the ``json_message``, then
``{"image": url}``. The merge rule puts them back together: an entry without text that
directly follows a text entry belongs to it (``custom["sources"]`` becomes the message's
``sources``, the other custom keys stay in ``custom``, an image goes to ``custom["image"]``).
An entry without text and nothing to attach to becomes its own message with text ``""``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from core.config import CompanySettings, Settings
from core.messages import Button, OutgoingMessage, SourceRef

logger = logging.getLogger(__name__)

FALLBACK_TEMPLATE = (
    "Sorry, I'm having trouble right now. Please try again in a minute, or email {support_email}."
)
"""What customers see when the conversation engine cannot answer (the company's address)."""


def fallback_text(company: CompanySettings | None = None) -> str:
    """Return the fallback sentence naming ``company``'s support address (the default's)."""
    email = company.support_email if company else Settings.model_fields["support_email"].default
    return FALLBACK_TEMPLATE.format(support_email=email)


FALLBACK_TEXT = fallback_text()
"""The fallback sentence with the default support address (``CONCIERGE_SUPPORT_EMAIL``)."""

_EXTRA_KEYS = ("image", "attachment")


def fallback_message(text: str | None = None) -> OutgoingMessage:
    """Return the polite message shown when Rasa is unavailable."""
    return OutgoingMessage(text=FALLBACK_TEXT if text is None else text)


def parse_buttons(raw: Any) -> list[Button]:
    """Return the valid ``{"title", "payload"}`` buttons of ``raw``; drop the rest."""
    buttons: list[Button] = []
    if not isinstance(raw, list):
        return buttons
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        title, payload = item.get("title"), item.get("payload")
        if isinstance(title, str) and title.strip():
            buttons.append(
                Button(title=title, payload=payload if isinstance(payload, str) else title)
            )
    return buttons


def parse_sources(raw: Any) -> list[SourceRef]:
    """Return the valid ``{"title", "location"}`` sources of ``raw``; drop the rest."""
    sources: list[SourceRef] = []
    if not isinstance(raw, list):
        return sources
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        title, location = item.get("title"), item.get("location")
        if isinstance(location, str) and location.strip():
            label = title if isinstance(title, str) and title.strip() else location
            sources.append(SourceRef(title=label, location=location))
    return sources


class _Draft:
    """A message being assembled from consecutive Rasa entries."""

    def __init__(self, text: str, has_text: bool, buttons: list[Button]) -> None:
        self.text = text
        self.has_text = has_text
        self.buttons = buttons
        self.sources: list[SourceRef] = []
        self.custom: dict[str, Any] = {}
        self.has_custom = False

    def can_take(self, entry: Mapping[str, Any]) -> bool:
        """Whether a text-less ``entry`` belongs to this message."""
        if not self.has_text:
            return False
        if "custom" in entry and self.has_custom:
            return False
        return not any(key in entry and key in self.custom for key in _EXTRA_KEYS)

    def absorb(self, entry: Mapping[str, Any]) -> None:
        """Take the custom payload, image and attachment of ``entry``."""
        if "custom" in entry:
            self.has_custom = True
            custom = entry["custom"]
            if isinstance(custom, Mapping):
                extra = dict(custom)
                if "sources" in extra:
                    self.sources.extend(parse_sources(extra.pop("sources")))
                self.custom.update(extra)
            elif custom is not None:
                self.custom["data"] = custom
        for key in _EXTRA_KEYS:
            value = entry.get(key)
            if isinstance(value, str) and value:
                self.custom[key] = value

    def build(self) -> OutgoingMessage:
        return OutgoingMessage(
            text=self.text, buttons=self.buttons, sources=self.sources, custom=self.custom
        )


def normalize(entries: Iterable[Any]) -> list[OutgoingMessage]:
    """Merge Rasa's REST webhook entries into messages (see the module docstring)."""
    drafts: list[_Draft] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            logger.warning("messages.entry.ignored type=%s", type(entry).__name__)
            continue
        text = entry.get("text")
        if isinstance(text, str):
            drafts.append(_Draft(text, True, parse_buttons(entry.get("buttons"))))
            drafts[-1].absorb(entry)
            continue
        if not any(key in entry for key in ("custom", *_EXTRA_KEYS, "buttons")):
            logger.warning("messages.entry.ignored keys=%s", sorted(map(str, entry)))
            continue
        if drafts and drafts[-1].can_take(entry) and "buttons" not in entry:
            drafts[-1].absorb(entry)
            continue
        draft = _Draft("", False, parse_buttons(entry.get("buttons")))
        draft.absorb(entry)
        drafts.append(draft)
    return [draft.build() for draft in drafts]
