"""arXiv's announcement calendar: 20:00 US Eastern, Sunday to Thursday, none on Friday/Saturday or holidays."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone

import pytest

from paperscope import arxiv_calendar as cal


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def test_announcements_are_at_2000_eastern_across_daylight_saving() -> None:
    # EDT (UTC-4) in October, EST (UTC-5) in December
    assert cal.slot(date(2025, 10, 13)) == utc(2025, 10, 14, 0)
    assert cal.slot(date(2025, 12, 1)) == utc(2025, 12, 2, 1)


def test_next_announcement_skips_friday_and_saturday() -> None:
    thursday_noon = utc(2025, 10, 16, 16)
    assert cal.next_announcement(thursday_noon) == cal.slot(date(2025, 10, 16))
    # after Thursday's announcement the next one is Sunday evening
    assert cal.next_announcement(cal.slot(date(2025, 10, 16))) == cal.slot(date(2025, 10, 19))
    friday = utc(2025, 10, 17, 12)
    assert cal.next_announcement(friday) == cal.slot(date(2025, 10, 19))


def test_holiday_is_named_and_skipped() -> None:
    thanksgiving = date(2025, 11, 27)  # a Thursday
    assert not cal.announces(thanksgiving)
    assert cal.why_not(thanksgiving) == "holiday: Thanksgiving"
    # Wednesday evening announces; after it, nothing until Sunday 30 November
    assert cal.next_announcement(utc(2025, 11, 27, 2)) == cal.slot(date(2025, 11, 30))
    # a run on Friday morning looks at Thursday evening's slot
    assert cal.quiet_reason(utc(2025, 11, 28, 9)) == "holiday: Thanksgiving"
    assert cal.quiet_reason(utc(2025, 11, 29, 9)).startswith("weekend")
    assert cal.quiet_reason(utc(2025, 11, 27, 9)) is None  # Wednesday's announcement


def test_weekdays_announce_and_weekend_says_why() -> None:
    week = [date(2025, 10, 12) + timedelta(days=i) for i in range(7)]  # Sunday .. Saturday
    assert [cal.announces(d) for d in week] == [True, True, True, True, True, False, False]
    assert cal.why_not(date(2025, 10, 17)) == "weekend: no announcement on Fridays"
    assert cal.why_not(date(2025, 10, 18)) == "weekend: no announcement on Saturdays"


def test_last_slot_turns_at_2000_eastern() -> None:
    assert cal.last_slot(utc(2025, 10, 13, 23, 59)) == date(2025, 10, 12)  # 19:59 EDT
    assert cal.last_slot(utc(2025, 10, 14, 0, 0)) == date(2025, 10, 13)  # 20:00 EDT


def test_missed_days_are_listed_for_catch_up() -> None:
    # last good run Wednesday morning; this run Monday morning: Wed, Thu (not holiday) and Sun announced
    missed = cal.missed_since(utc(2025, 10, 15, 9), utc(2025, 10, 20, 9))
    assert missed == [date(2025, 10, 15), date(2025, 10, 16), date(2025, 10, 19)]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        cal.next_announcement(datetime(2025, 1, 1))


def _thanksgiving(year: int) -> date:
    thursdays = [d for d in calendar.Calendar().itermonthdates(year, 11) if d.month == 11 and d.weekday() == 3]
    return thursdays[3]


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_holiday_table_covers_the_years_and_follows_the_us_dates(year: int) -> None:
    assert year in cal.covered_years()
    table = cal.HOLIDAYS[year]
    assert table[_thanksgiving(year)] == "Thanksgiving"
    fixed = {(1, 1): "New Year's Day", (6, 19): "Juneteenth", (7, 4): "Independence Day", (12, 25): "Christmas Day"}
    for (m, d), name in fixed.items():
        day = date(year, m, d)
        # listed exactly when it falls on an evening that would otherwise announce
        assert (table.get(day) == name) == (day.weekday() in cal.ANNOUNCE_WEEKDAYS), (day, name)
    assert all(d.year == year and d.weekday() in cal.ANNOUNCE_WEEKDAYS for d in table)
