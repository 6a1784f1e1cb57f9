"""Lead scoring that explains itself: rules from a YAML file, a 0-100 score, a grade, reasons.

The rules live in the content folder (``scoring.yml``, path from
``Settings.resolved_scoring_rules_path``) and are validated when loaded: an unknown or wrong
key is named in the error (``budget.0.pointz: extra inputs are not permitted``). The score is
the sum of the points of every rule that matched, capped at 100; each match is one
:class:`ScoreReason`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from core.storage.leads import LeadDetails

Grade = Literal["hot", "warm", "cold"]


class ScoringRulesError(ValueError):
    """The scoring rules file is missing, not YAML, or breaks the schema (the key is named)."""


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AmountBand(_Rules):
    """Points for an amount (budget) of at least ``min``."""

    min: Decimal = Field(ge=0)
    points: int = Field(ge=0, le=100)


class CountBand(_Rules):
    """Points for a count (team size) of at least ``min``."""

    min: int = Field(ge=0)
    points: int = Field(ge=0, le=100)


class WordRule(_Rules):
    """Points when any of ``words`` occurs (as whole words) in the answer; ``label`` explains."""

    words: tuple[str, ...] = Field(min_length=1)
    points: int = Field(ge=0, le=100)
    label: str


class PerItem(_Rules):
    """Points per item (a product asked about, a quote), up to ``max``."""

    points: int = Field(ge=0, le=100)
    max: int = Field(ge=0, le=100)


class Thresholds(_Rules):
    """Lowest score of a hot and of a warm lead."""

    hot: int = Field(ge=1, le=100)
    warm: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.warm >= self.hot:
            raise ValueError("warm must be lower than hot")
        return self


class NeedRules(_Rules):
    """Points for a stated need and for the team size it is for."""

    stated: int = Field(ge=0, le=100)
    team_size: tuple[CountBand, ...] = ()


class EngagementRules(_Rules):
    """Points for what the customer did in the conversation."""

    products_asked: PerItem
    quotes: PerItem


class ScoringRules(_Rules):
    """The whole rules file (see docs/scoring.md)."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    thresholds: Thresholds
    budget: tuple[AmountBand, ...]
    authority: tuple[WordRule, ...]
    need: NeedRules
    timeline: tuple[WordRule, ...]
    engagement: EngagementRules


@dataclass(frozen=True)
class ScoreReason:
    """One rule that gave points, with a sentence a sales rep can read."""

    rule: str
    points: int
    detail: str


@dataclass(frozen=True)
class Score:
    """A lead's score (0..100), its grade and the reasons that add up to it."""

    value: int
    grade: Grade
    reasons: tuple[ScoreReason, ...]


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_scoring_rules(path: Path) -> ScoringRules:
    """Read and validate the rules at ``path``; raise :class:`ScoringRulesError` naming the key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ScoringRulesError(f"{path}: no scoring rules file") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ScoringRulesError(f"{path}{where}: not valid YAML") from error
    if not isinstance(raw, dict):
        raise ScoringRulesError(f"{path}: expected a mapping of rules at the top level")
    try:
        return ScoringRules.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{_location(item['loc'])}: {item['msg'].lower()}" for item in error.errors()
        )
        raise ScoringRulesError(f"{path}: {problems}") from None


def _words_match(words: tuple[str, ...], text: str) -> str | None:
    lowered = text.lower()
    for word in words:
        if re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", lowered):
            return word
    return None


def _money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.0f}"


def _budget(details: LeadDetails, rules: ScoringRules) -> ScoreReason | None:
    if details.budget is None:
        return None
    currency = details.currency or rules.currency
    for band in sorted(rules.budget, key=lambda b: b.min, reverse=True):
        if details.budget >= band.min:
            detail = f"budget {_money(details.budget, currency)}"
            detail += f" (at least {_money(band.min, rules.currency)})" if band.min else ""
            if currency != rules.currency:
                detail += f"; rules are in {rules.currency}, amount not converted"
            return ScoreReason("budget", band.points, detail)
    return None


def _worded(rule: str, text: str | None, options: tuple[WordRule, ...]) -> ScoreReason | None:
    if not text:
        return None
    for option in options:
        word = _words_match(option.words, text)
        if word is not None:
            return ScoreReason(rule, option.points, f"{option.label} ({rule}: {text.strip()!r})")
    return None


def _need(details: LeadDetails, rules: ScoringRules) -> list[ScoreReason]:
    reasons: list[ScoreReason] = []
    if details.need and details.need.strip():
        reasons.append(ScoreReason("need", rules.need.stated, "described what they need"))
    if details.team_size is not None:
        for band in sorted(rules.need.team_size, key=lambda b: b.min, reverse=True):
            if details.team_size >= band.min:
                reasons.append(
                    ScoreReason(
                        "team_size",
                        band.points,
                        f"team of {details.team_size} (at least {band.min})",
                    )
                )
                break
    return reasons


def _per_item(rule: str, count: int, per: PerItem, nouns: tuple[str, str]) -> ScoreReason | None:
    if count <= 0:
        return None
    points = min(per.max, per.points * count)
    noun = nouns[0] if count == 1 else nouns[1]
    return ScoreReason(rule, points, f"{count} {noun} ({per.points} each, at most {per.max})")


def score_lead(details: LeadDetails, rules: ScoringRules) -> Score:
    """Score ``details`` by ``rules``: the matched rules' points summed, capped at 100."""
    candidates = [
        _budget(details, rules),
        _worded("authority", details.role, rules.authority),
        *_need(details, rules),
        _worded("timeline", details.timeline, rules.timeline),
        _per_item(
            "products_asked",
            len(set(details.products_asked)),
            rules.engagement.products_asked,
            ("product asked about", "products asked about"),
        ),
        _per_item(
            "quotes", len(set(details.quote_numbers)), rules.engagement.quotes, ("quote", "quotes")
        ),
    ]
    reasons = tuple(reason for reason in candidates if reason is not None and reason.points > 0)
    value = min(100, sum(reason.points for reason in reasons))
    return Score(value=value, grade=grade_for(value, rules), reasons=reasons)


def grade_for(value: int, rules: ScoringRules) -> Grade:
    """Return the grade of a score by the rules' thresholds."""
    if value >= rules.thresholds.hot:
        return "hot"
    if value >= rules.thresholds.warm:
        return "warm"
    return "cold"
