"""Read what customers type: amounts, team sizes, quantities, references to recommended products.

The NLU finds intents; these read the values the sales forms need from the message itself,
so "we're a 40-person office, budget around 5k" fills both the team size and the budget
whichever intent it was given, and "actually it's 60 people" corrects an earlier answer.
"""

from __future__ import annotations

import re
from typing import Any

_AMOUNT = re.compile(r"(\d[\d.,]*)\s*(k\b)?", re.IGNORECASE)
_MONEY = [
    re.compile(r"[€$£]\s*\d[\d.,]*\s*k?\b", re.IGNORECASE),
    re.compile(
        r"\b\d[\d.,]*\s*k?\s*(?:eur|euros?|usd|dollars?|gbp|pounds?|sek|nok|dkk|chf|kr)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b\d[\d.,]*\s*k\b", re.IGNORECASE),
    re.compile(r"\bbudget\b[^\d]{0,25}(\d[\d.,]*\s*k?)\b", re.IGNORECASE),
]
"""Money as customers write it, most explicit first: "€5,000", "5000 euros", "5k", "budget 5000"."""
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "hundred": 100,
    "a couple": 2,
    "a pair": 2,
    "a dozen": 12,
}
_NUMBER = r"(\d{1,5}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
_PEOPLE_WORDS = (
    r"(?:people|persons?|person|employees|staff|colleagues|users|coffee drinkers|drinkers|"
    r"team members|members|workers|of us|desks|seats)"
)
_TEAM = [
    re.compile(rf"\b{_NUMBER}\s*[- ]?\s*{_PEOPLE_WORDS}\b", re.IGNORECASE),
    re.compile(
        rf"\b(?:team|office|company|staff) of (?:about |around |roughly )?{_NUMBER}\b", re.I
    ),
    re.compile(rf"\b{_NUMBER}[- ](?:person|people|man|strong)\b", re.IGNORECASE),
    re.compile(rf"\bwe(?:'re| are) (?:about |around |roughly )?{_NUMBER}\b(?! ?%)", re.I),
]
_ALONE = re.compile(r"\b(just me|only me|myself|me alone|single person|for one)\b", re.I)
_QUANTITY = [
    re.compile(
        rf"\b{_NUMBER}\s*(?:x\b|units?|pcs|pieces|machines|bags|of (?:the|them|it|those))", re.I
    ),
    re.compile(rf"\b(?:quote|price|cost|pricing) for {_NUMBER}\b", re.IGNORECASE),
    re.compile(rf"\b(?:buy|order|need|want|get|take) {_NUMBER}\b", re.IGNORECASE),
]
ORDINALS = {
    "first": 0,
    "1st": 0,
    "top": 0,
    "second": 1,
    "2nd": 1,
    "middle": 1,
    "third": 2,
    "3rd": 2,
    "last": -1,
}
_ORDINAL = re.compile(
    r"\b(?:the )?(" + "|".join(ORDINALS) + r")(?: one| option| choice| product| machine)?\b",
    re.IGNORECASE,
)
DENY_WORDS = re.compile(
    r"^\s*(no|nope|nah|none|nothing|rather not|i'?d rather not|not sure|skip|pass|"
    r"prefer not|don'?t know|no idea|n/a|-)\b",
    re.IGNORECASE,
)


def _to_int(text: str) -> int | None:
    word = text.lower()
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    return int(word) if word.isdigit() else None


def parse_amount(value: Any) -> float | None:
    """Read an amount like ``"under €1,200"``, ``"500 euros"`` or ``"1.5k"``; None if absent."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    match = _AMOUNT.search(str(value))
    if not match:
        return None
    digits, thousands = match.group(1), match.group(2)
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", digits):
        digits = re.sub(r"[.,]", "", digits)
    else:
        digits = digits.replace(",", ".").rstrip(".")
    try:
        amount = float(digits)
    except ValueError:
        return None
    amount *= 1000 if thousands else 1
    return amount if amount > 0 else None


def find_money(text: str) -> str | None:
    """Return the money amount a message names ("around 5000 euros" -> "5000 euros"), or None.

    Only amounts marked as money (a currency, "budget", "5k") count, so "a 40-person office"
    is not read as a budget.
    """
    for pattern in _MONEY:
        match = pattern.search(text)
        if match:
            return (match.group(match.lastindex or 0)).strip()
    return None


def find_team_size(text: str) -> int | None:
    """Return the team size a message names ("a 40-person office", "60 people"), or None."""
    if _ALONE.search(text):
        return 1
    for pattern in _TEAM:
        match = pattern.search(text)
        if match:
            value = _to_int(match.group(1))
            if value:
                return value
    return None


def read_count(text: str) -> int | None:
    """Return a bare count given as an answer ("40", "about 25", "twelve"), or None."""
    size = find_team_size(text)
    if size:
        return size
    match = re.search(rf"\b{_NUMBER}\b", text, re.IGNORECASE)
    return _to_int(match.group(1)) if match else None


def find_quantity(text: str) -> int | None:
    """Return how many units a message asks for ("2 of the first one", "quote for 15")."""
    for pattern in _QUANTITY:
        match = pattern.search(text)
        if match:
            value = _to_int(match.group(1))
            if value:
                return value
    return None


def find_ordinal(text: str) -> int | None:
    """Return the index a reference like "the first one" or "the last one" points at."""
    match = _ORDINAL.search(text)
    return ORDINALS[match.group(1).lower()] if match else None


def is_decline(text: str, intent: str | None) -> bool:
    """Whether an answer declines the question ("I'd rather not say", intent ``deny``)."""
    return intent == "deny" or bool(DENY_WORDS.match(text))


COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "AT": ("austria", "österreich"),
    "BE": ("belgium", "belgië", "belgique"),
    "CH": ("switzerland", "schweiz", "suisse"),
    "DE": ("germany", "deutschland"),
    "DK": ("denmark",),
    "ES": ("spain", "españa"),
    "FI": ("finland",),
    "FR": ("france",),
    "GB": ("united kingdom", "great britain", "england", "scotland", "wales", "the uk"),
    "IE": ("ireland",),
    "IT": ("italy", "italia"),
    "LU": ("luxembourg",),
    "NL": ("netherlands", "holland", "nederland"),
    "NO": ("norway",),
    "PL": ("poland",),
    "PT": ("portugal",),
    "SE": ("sweden",),
}
"""English (and local) names of the countries a pricing file may list, by ISO code."""

_COUNTRY_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(n) for ns in COUNTRY_NAMES.values() for n in ns),
                             key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)  # fmt: skip


def find_country(text: str) -> str | None:
    """Return the ISO code of the last country named in ``text`` ("we're in Germany" -> DE)."""
    found = None
    for match in _COUNTRY_RE.finditer(text or ""):
        name = match.group(1).lower()
        found = next(code for code, names in COUNTRY_NAMES.items() if name in names)
    return found
