"""When people answer chats: a time zone, working days, one daily window and holidays.

``BusinessHours.parse("Europe/Berlin", "mon-fri", "09:00-17:00", ["2026-12-25"])`` reads
the settings (``CONCIERGE_HANDOFF_TIMEZONE``, ``_DAYS``, ``_HOURS``, ``_HOLIDAYS``);
:meth:`BusinessHours.is_open` and :meth:`BusinessHours.next_opening` answer for a moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class HoursError(ValueError):
    """Business hours settings that cannot be read; the message names the setting."""


def _days(spec: str) -> frozenset[int]:
    days: set[int] = set()
    for part in (p.strip().lower() for p in spec.split(",") if p.strip()):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise HoursError(f"CONCIERGE_HANDOFF_DAYS: {part!r} is not like 'mon-fri' or 'sat'")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    if not days:
        raise HoursError("CONCIERGE_HANDOFF_DAYS names no day")
    return frozenset(days)


def _window(spec: str) -> tuple[time, time]:
    try:
        first, last = (time.fromisoformat(p.strip()) for p in spec.split("-"))
    except ValueError:
        raise HoursError(f"CONCIERGE_HANDOFF_HOURS: {spec!r} is not like '09:00-17:00'") from None
    if first >= last:
        raise HoursError("CONCIERGE_HANDOFF_HOURS must start before it ends")
    return first, last


@dataclass(frozen=True)
class BusinessHours:
    """The hours in which a person can take a conversation."""

    zone: ZoneInfo
    days: frozenset[int]
    opens: time
    closes: time
    holidays: frozenset[date]

    @classmethod
    def parse(
        cls, timezone: str, days: str, hours: str, holidays: Iterable[str] = ()
    ) -> BusinessHours:
        """Read the settings' strings or raise :class:`HoursError` naming the bad one."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise HoursError(
                f"CONCIERGE_HANDOFF_TIMEZONE: unknown time zone {timezone!r}"
            ) from None
        try:
            closed = frozenset(date.fromisoformat(d.strip()) for d in holidays if d.strip())
        except ValueError:
            raise HoursError("CONCIERGE_HANDOFF_HOLIDAYS: dates are YYYY-MM-DD") from None
        opens, closes = _window(hours)
        return cls(zone, _days(days), opens, closes, closed)

    def is_open(self, moment: datetime) -> bool:
        """Whether a person answers at ``moment`` (timezone-aware)."""
        local = moment.astimezone(self.zone)
        return (
            local.weekday() in self.days
            and local.date() not in self.holidays
            and self.opens <= local.time() < self.closes
        )

    def next_opening(self, moment: datetime) -> datetime:
        """Return the next moment people answer, ``moment`` itself when open (local time)."""
        local = moment.astimezone(self.zone)
        if self.is_open(local):
            return local
        day = local.date()
        for offset in range(0, 366 + 7):
            candidate_day = day + timedelta(days=offset)
            if candidate_day.weekday() not in self.days or candidate_day in self.holidays:
                continue
            start = datetime.combine(candidate_day, self.opens, tzinfo=self.zone)
            if start > local:
                return start
        raise HoursError("no opening within a year: check the days and holidays")

    def describe(self) -> str:
        """Return the hours in words: ``Monday to Friday, 09:00-17:00 (Europe/Berlin)``."""
        ordered = sorted(self.days)
        if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
            days = f"{DAY_LABELS[ordered[0]]} to {DAY_LABELS[ordered[-1]]}"
        else:
            days = ", ".join(DAY_LABELS[d] for d in ordered)
        return f"{days}, {self.opens:%H:%M}-{self.closes:%H:%M} ({self.zone.key})"
