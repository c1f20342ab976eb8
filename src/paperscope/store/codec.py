"""Text forms the SQLite tables keep, shared by the store's modules (imports nothing else of the store)."""

from __future__ import annotations

from datetime import datetime

from paperscope.models import UTC


def iso(dt: datetime | None) -> str | None:
    """UTC datetime as 'YYYY-MM-DDTHH:MM:SSZ' (sortable text)."""
    if dt is None:
        return None
    if dt.tzinfo is not None and dt.utcoffset():
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="seconds")[:19] + "Z"


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
