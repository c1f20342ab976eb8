"""The checks every reader applies before a record leaves it as a `Paper`.

A record arXiv (or a file) hands us may carry an id that is not an arXiv id (and so could hold `)`, `|`,
a newline or HTML that later lands in a Markdown table or a web page), a version no database integer
holds, or a date that overflows once converted to UTC. Readers call `check_paper` and skip the record,
reporting the returned problem, instead of letting it crash a later stage for every run.
"""

from __future__ import annotations

import re
from datetime import datetime

from paperscope.models import Paper

# Bare arXiv ids: new style 'YYMM.NNNN' / 'YYMM.NNNNN', old style 'archive(.SC)/YYMMNNN'.
ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}")
MAX_VERSION = 9_999  # arXiv papers have tens of versions at most; anything above is a broken record
MIN_YEAR = 1970  # arXiv opened in 1991; earlier dates are errors, but harmless down to here
MAX_YEAR = 2200  # far enough to never reject a real date, near enough that date arithmetic cannot overflow


def check_id(pid: object) -> str | None:
    """None for a bare arXiv id; else what is wrong with it (for the reader's skip message)."""
    if pid.__class__ is not str:
        return f"id: expected a string, got {type(pid).__name__}"
    if not ARXIV_ID.fullmatch(pid):  # type: ignore[arg-type]
        return f"id: not an arXiv id: {pid[:40]!r}"  # type: ignore[index]
    return None


def check_version(v: object, what: str = "version") -> str | None:
    """None for a version number arXiv could have given (1..MAX_VERSION)."""
    if v.__class__ is not int or not 1 <= v <= MAX_VERSION:  # type: ignore[operator]
        return f"{what}: {str(v)[:30]} is not a version number between 1 and {MAX_VERSION}"
    return None


def check_date(d: datetime | None, what: str) -> str | None:
    """None for no date or a date in MIN_YEAR..MAX_YEAR."""
    if d is not None and not MIN_YEAR <= d.year <= MAX_YEAR:
        return f"{what}: year {d.year} is outside {MIN_YEAR}..{MAX_YEAR}"
    return None


def check_paper(p: Paper) -> str | None:
    """The first problem that keeps `p` from leaving a reader, or None when it may."""
    problem = check_id(p.id) or check_version(p.version) or check_date(p.updated, "updated") \
        or check_date(p.published, "published")
    if problem:
        return problem
    for v in p.versions:
        problem = check_version(v.version, "versions") or check_date(v.created, f"version v{v.version} date")
        if problem:
            return problem
    return None
