"""Text forms the SQLite tables keep, shared by the store's modules (imports nothing else of the store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from paperscope.models import UTC

# orjson writes a naive or UTC datetime as iso() does, whole seconds and "Z", in a quarter of the time (an import
# writes four or five dates a paper).
ISO_JSON = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_OMIT_MICROSECONDS


def _plain(dt: datetime) -> bool:
    return dt.__class__ is datetime and (dt.tzinfo is None or dt.tzinfo is UTC)


def iso(dt: datetime | None) -> str | None:
    """UTC datetime as 'YYYY-MM-DDTHH:MM:SSZ' (sortable text); a naive one is taken as UTC."""
    if dt is None:
        return None
    if _plain(dt):
        return orjson.dumps(dt, option=ISO_JSON)[1:-1].decode()
    if dt.tzinfo is not None and dt.utcoffset():
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="seconds")[:19] + "Z"


def json_date(dt: datetime | None) -> Any:
    """What to hand `orjson.dumps(..., option=ISO_JSON)` so that it writes `iso(dt)`: the datetime itself when
    orjson writes it so, else the text."""
    return dt if dt is None or _plain(dt) else iso(dt)


def iso_text(dt: datetime) -> str:
    """`iso` for a date that is always there."""
    return iso(dt) or ""


def parse_iso(s: str | None) -> datetime | None:
    if not s:
        return None
    return datetime.fromisoformat(s)


def no_nul(text: str) -> str:
    """`text` without U+0000: SQLite cuts a string at its first NUL when it goes through JSON or C APIs,
    so a kept NUL would make the stored text and the text compared on the next import differ."""
    return text.replace("\x00", "") if "\x00" in text else text
