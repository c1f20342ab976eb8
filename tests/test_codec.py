"""The text forms of dates the SQLite tables keep: the fast orjson path writes exactly what the plain formula
writes, for every kind of datetime."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
from hypothesis import given
from hypothesis import strategies as st

from paperscope.models import UTC
from paperscope.store.codec import ISO_JSON, iso, json_date, parse_iso


def _formula(dt: datetime | None) -> str | None:
    """The definition: converted to UTC when it has another offset, whole seconds, "Z"."""
    if dt is None:
        return None
    if dt.tzinfo is not None and dt.utcoffset():
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="seconds")[:19] + "Z"


_zones = st.sampled_from([None, UTC, timezone(timedelta(0)), timezone(timedelta(hours=5, minutes=30)),
                          timezone(timedelta(hours=-8))])
_dates = st.builds(lambda d, z: d.replace(tzinfo=z), st.datetimes(min_value=datetime(1, 1, 2),
                                                                   max_value=datetime(9999, 12, 30)), _zones)


@given(st.one_of(st.none(), _dates))
def test_iso_is_the_formula(dt: datetime | None) -> None:
    assert iso(dt) == _formula(dt)


@given(st.lists(st.one_of(st.none(), _dates), max_size=5))
def test_dates_in_json_are_written_as_iso_writes_them(dates: list[datetime | None]) -> None:
    got = orjson.loads(orjson.dumps([[i, json_date(d)] for i, d in enumerate(dates)], option=ISO_JSON))
    assert got == [[i, _formula(d)] for i, d in enumerate(dates)]


def test_iso_reads_back() -> None:
    dt = datetime(2026, 12, 4, 21, 5, 7, 123456, tzinfo=UTC)
    assert iso(dt) == "2026-12-04T21:05:07Z" and parse_iso(iso(dt)) == dt.replace(microsecond=0)
    assert iso(datetime(999, 1, 2, 3, 4, 5)) == "0999-01-02T03:04:05Z"
