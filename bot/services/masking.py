"""Masking of customers' contact data for staff roles that do not need it.

``support`` reads conversations to help, not to contact people: emails, phone numbers and the
names a conversation is known to carry (its contact's name, the name the lead form captured)
are replaced by ``[email]``, ``[phone]`` and ``[name]`` in everything the conversation APIs
return to it. ``sales`` and ``admin`` see them. The company's own addresses stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

ROLES_SEEING_CONTACT_DATA = frozenset({"admin", "sales"})
"""Roles that see contact data unmasked (they follow up with the customer)."""

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
NAME_MASK = "[name]"

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PHONE = re.compile(r"(?<![\w.,/(-])(?:\+|00|\()?\d[\d ().-]{5,}\d(?![\w/-])")
"""A run of digits with spaces, dots, dashes or brackets between them (checked by count)."""
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15
MIN_BARE_PHONE_DIGITS = 9
"""Digits a number written without ``+`` or separators needs to count as a phone (not an order)."""
MIN_NAME_PART = 3
"""Parts of a known name shorter than this (initials, "Li") are masked only as a whole name."""


def sees_contact_data(role: str) -> bool:
    """Whether staff with ``role`` see emails, phones and names unmasked."""
    return role in ROLES_SEEING_CONTACT_DATA


def looks_like_contact_data(text: str) -> bool:
    """Whether ``text`` contains an email address or a phone number."""
    return bool(EMAIL.search(text)) or any(_is_phone(m.group(0)) for m in PHONE.finditer(text))


def _is_phone(candidate: str) -> bool:
    """Whether a run of digits is a phone number (not a date, an order or quote number)."""
    text = candidate.strip()
    if ISO_DATE.fullmatch(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        return False
    international = text.startswith(("+", "00"))
    separated = any(not ch.isdigit() for ch in text.lstrip("+"))
    return international or separated or digits >= MIN_BARE_PHONE_DIGITS


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    terms: set[str] = set()
    for name in names:
        cleaned = " ".join(name.split())
        if len(cleaned) < 2:
            continue
        terms.add(cleaned)
        terms.update(part for part in re.split(r"[\s,]+", cleaned) if len(part) >= MIN_NAME_PART)
    if not terms:
        return None
    alternatives = "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Masker:
    """Masks one conversation's texts for one viewer (a no-op for roles that see the data)."""

    enabled: bool
    names: tuple[str, ...] = ()
    keep: frozenset[str] = frozenset()
    """Addresses never masked (the company's own support and sales addresses)."""
    _names: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Compile the known names once."""
        object.__setattr__(self, "_names", _name_pattern(self.names))

    @classmethod
    def for_role(
        cls, role: str, names: Iterable[str | None] = (), keep: Iterable[str] = ()
    ) -> Masker:
        """Return the masker for a viewer with ``role`` of a conversation with ``names``."""
        return cls(
            enabled=not sees_contact_data(role),
            names=tuple(name for name in names if name),
            keep=frozenset(address.lower() for address in keep if address),
        )

    def text(self, value: str | None) -> str | None:
        """Return ``value`` with emails, phone numbers and known names masked."""
        if not self.enabled or not value:
            return value

        def email(match: re.Match[str]) -> str:
            return match.group(0) if match.group(0).lower() in self.keep else EMAIL_MASK

        def phone(match: re.Match[str]) -> str:
            return PHONE_MASK if _is_phone(match.group(0)) else match.group(0)

        masked = EMAIL.sub(email, value)
        masked = PHONE.sub(phone, masked)
        if self._names is not None:
            masked = self._names.sub(NAME_MASK, masked)
        return masked

    def email(self, value: str | None) -> str | None:
        """Return an email address, or ``[email]`` when masking."""
        if not self.enabled or not value or value.lower() in self.keep:
            return value
        return EMAIL_MASK

    def phone(self, value: str | None) -> str | None:
        """Return a phone number, or ``[phone]`` when masking."""
        return PHONE_MASK if self.enabled and value else value

    def name(self, value: str | None) -> str | None:
        """Return a person's name, or ``[name]`` when masking."""
        return NAME_MASK if self.enabled and value else value
