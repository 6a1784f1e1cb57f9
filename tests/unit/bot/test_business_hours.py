"""Business hours: days, the daily window, holidays, time zones and the next opening."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services.business_hours import BusinessHours, HoursError

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def hours() -> BusinessHours:
    return BusinessHours.parse("Europe/Berlin", "mon-fri", "09:00-17:00", ["2026-12-25"])


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


def test_open_within_the_window_on_working_days(hours: BusinessHours) -> None:
    assert hours.is_open(at(2026, 12, 2, 9, 0))  # a Wednesday
    assert not hours.is_open(at(2026, 12, 2, 17, 0))
    assert not hours.is_open(at(2026, 12, 2, 8, 59))
    assert not hours.is_open(at(2026, 12, 5, 12, 0))  # Saturday
    assert not hours.is_open(at(2026, 12, 25, 12, 0))  # holiday (a Friday)


def test_time_zones_are_respected(hours: BusinessHours) -> None:
    utc_morning = datetime(2026, 12, 2, 8, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Berlin
    assert hours.is_open(utc_morning)


def test_next_opening_skips_evenings_weekends_and_holidays(hours: BusinessHours) -> None:
    assert hours.next_opening(at(2026, 12, 2, 18, 0)) == at(2026, 12, 3, 9, 0)
    assert hours.next_opening(at(2026, 12, 24, 18, 0)) == at(2026, 12, 28, 9, 0)
    assert hours.next_opening(at(2026, 12, 2, 7, 0)) == at(2026, 12, 2, 9, 0)
    assert hours.describe() == "Monday to Friday, 09:00-17:00 (Europe/Berlin)"


def test_day_lists_wrap_and_mix() -> None:
    weekend = BusinessHours.parse("UTC", "sat-sun,wed", "10:00-12:00")
    assert weekend.days == {2, 5, 6}
    assert BusinessHours.parse("UTC", "fri-mon", "10:00-12:00").days == {4, 5, 6, 0}


@pytest.mark.parametrize(
    ("args", "setting"),
    [
        (("Mars/Olympus", "mon-fri", "09:00-17:00"), "TIMEZONE"),
        (("UTC", "monday", "09:00-17:00"), "DAYS"),
        (("UTC", "mon-fri", "9-5"), "HOURS"),
        (("UTC", "mon-fri", "17:00-09:00"), "HOURS"),
    ],
)
def test_bad_settings_name_the_setting(args: tuple[str, str, str], setting: str) -> None:
    with pytest.raises(HoursError, match=f"CONCIERGE_HANDOFF_{setting}"):
        BusinessHours.parse(*args)
    with pytest.raises(HoursError, match="HOLIDAYS"):
        BusinessHours.parse("UTC", "mon-fri", "09:00-17:00", ["25.12.2026"])
