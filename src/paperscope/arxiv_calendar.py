"""arXiv's announcement calendar: when new papers appear, and why a day had none. Pure, no I/O.

arXiv announces new submissions at 20:00 US Eastern time (America/New_York, so the UTC hour moves with
daylight saving) on Sunday through Thursday evenings; there is no announcement on Friday or Saturday
evenings, nor on the holidays arXiv observes. The holiday table below follows arXiv's published schedule
(info.arxiv.org/help/availability.html, "Holiday schedule"): the US holidays arXiv skips an announcement
for (New Year's Day, Juneteenth, Independence Day, Thanksgiving, Christmas) on the evenings that would
otherwise announce. A date in the table is the Eastern calendar date of the skipped 20:00 announcement.
arXiv publishes each year's dates in advance; extend `HOLIDAYS` when it does (a year missing from the
table is treated as having no holidays, and `covered_years` says which years are known).

Terms used here: an *announcement day* is the Eastern date whose 20:00 slot announced papers. A daily run
at any instant looks at the most recent slot (`last_slot`): if that slot had no announcement, "arXiv
announced nothing today" and `why_not` says why.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCE_TIME = time(20, 0)
# Monday=0 ... Sunday=6: Sunday to Thursday evenings announce.
ANNOUNCE_WEEKDAYS = frozenset({6, 0, 1, 2, 3})
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Evenings (Eastern dates) with no announcement although they fall Sunday–Thursday, by year.
# Holidays that fall on a Friday or Saturday need no entry: those evenings never announce.
HOLIDAYS: dict[int, dict[date, str]] = {
    2024: {
        date(2024, 1, 1): "New Year's Day",
        date(2024, 6, 19): "Juneteenth",
        date(2024, 7, 4): "Independence Day",
        date(2024, 11, 28): "Thanksgiving",
        date(2024, 12, 25): "Christmas Day",
    },
    2025: {
        date(2025, 1, 1): "New Year's Day",
        date(2025, 6, 19): "Juneteenth",
        date(2025, 11, 27): "Thanksgiving",
        date(2025, 12, 25): "Christmas Day",
    },
    2026: {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 11, 26): "Thanksgiving",
    },
    2027: {
        date(2027, 7, 4): "Independence Day",
        date(2027, 11, 25): "Thanksgiving",
    },
}


def covered_years() -> list[int]:
    """The years whose holidays the table knows."""
    return sorted(HOLIDAYS)


def _eastern(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("the calendar needs an aware datetime (with a time zone)")
    return instant.astimezone(EASTERN)


def holiday(day: date) -> str | None:
    """The name of the arXiv holiday on this Eastern date, if any."""
    return HOLIDAYS.get(day.year, {}).get(day)


def why_not(day: date) -> str | None:
    """Why the evening of this Eastern date announced nothing ("weekend", "holiday: Thanksgiving"), or None
    when it announced."""
    name = holiday(day)
    if name:
        return f"holiday: {name}"
    if day.weekday() not in ANNOUNCE_WEEKDAYS:
        return f"weekend: no announcement on {_DAY_NAMES[day.weekday()]}s"
    return None


def announces(day: date) -> bool:
    """Whether arXiv announced (or will announce) at 20:00 Eastern on this Eastern date."""
    return why_not(day) is None


def slot(day: date) -> datetime:
    """The 20:00 Eastern instant of an Eastern date, in UTC."""
    return datetime.combine(day, ANNOUNCE_TIME, tzinfo=EASTERN).astimezone(timezone.utc)


def last_slot(instant: datetime) -> date:
    """The Eastern date of the most recent 20:00 slot at or before `instant` (announcing or not)."""
    local = _eastern(instant)
    day = local.date()
    return day if local.time() >= ANNOUNCE_TIME else day - timedelta(days=1)


def next_announcement(after: datetime) -> datetime:
    """The first announcement strictly after `after`, as an aware UTC datetime."""
    day = last_slot(after) + timedelta(days=1)
    for _ in range(60):  # at most a few days of weekend and holiday in a row
        if announces(day):
            return slot(day)
        day += timedelta(days=1)
    raise ValueError(f"no announcement within 60 days after {after.isoformat()}")  # pragma: no cover


def previous_announcement(at: datetime) -> datetime:
    """The latest announcement at or before `at`, as an aware UTC datetime."""
    day = last_slot(at)
    for _ in range(60):
        if announces(day):
            return slot(day)
        day -= timedelta(days=1)
    raise ValueError(f"no announcement within 60 days before {at.isoformat()}")  # pragma: no cover


def quiet_reason(now: datetime) -> str | None:
    """None when the latest slot before `now` announced papers; else why it did not (for "arXiv announced
    nothing today (…)")."""
    return why_not(last_slot(now))


def missed_since(since: datetime, now: datetime) -> list[date]:
    """Announcement days whose slot fell after `since` and at or before `now` (what a run at `now` covers)."""
    days: list[date] = []
    t = since
    while True:
        nxt = next_announcement(t)
        if nxt > now:
            return days
        days.append(last_slot(nxt))
        t = nxt
