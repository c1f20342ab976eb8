"""Author metrics and the small formatting helpers author cards need. Pure functions, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime

__all__ = [
    "card_date",
    "category_code",
    "category_shares",
    "citation_rate",
    "citations_per_year",
    "first_authors",
    "h_index",
    "i10_index",
    "top_coauthors",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def h_index(citations: Iterable[int]) -> int:
    """The largest h such that h papers have at least h citations each."""
    ranked = sorted((max(0, int(c or 0)) for c in citations), reverse=True)
    h = 0
    for rank, cites in enumerate(ranked, start=1):
        if cites < rank:
            break
        h = rank
    return h


def i10_index(citations: Iterable[int]) -> int:
    """How many papers have at least 10 citations."""
    return sum(1 for c in citations if (c or 0) >= 10)


def citations_per_year(papers: Iterable[tuple[int, int]], current_year: int) -> dict[int, int]:
    """Citations of the papers published in each year, every year from the first to current_year.

    Years without papers are present with 0, so the result plots as a continuous bar chart.
    """
    totals: Counter[int] = Counter()
    for year, cites in papers:
        totals[int(year)] += max(0, int(cites or 0))
    if not totals:
        return {}
    last = max(current_year, max(totals))
    return {y: totals.get(y, 0) for y in range(min(totals), last + 1)}


def citation_rate(papers: Iterable[tuple[int, int]], current_year: int) -> float:
    """Citations per year of career: all citations over the years since the first paper (inclusive)."""
    pairs = [(int(y), max(0, int(c or 0))) for y, c in papers]
    if not pairs:
        return 0.0
    years = max(1, current_year - min(y for y, _ in pairs) + 1)
    return sum(c for _, c in pairs) / years


def category_shares(categories: Iterable[str]) -> list[tuple[str, float]]:
    """Each primary category's share of the papers, largest first (ties by name); shares sum to 1."""
    counts = Counter(c.strip() for c in categories if c and c.strip())
    total = sum(counts.values())
    if not total:
        return []
    return [(cat, n / total) for cat, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def top_coauthors(
    author_key: str, papers_authors: Iterable[Sequence[str]], n: int = 10
) -> list[tuple[str, int]]:
    """The n people who share the most of this author's papers, as (key, shared papers).

    `papers_authors` holds the author keys of each of the author's papers; a co-author listed
    twice on one paper still counts once for it. Ties are broken by key, so the order is stable.
    """
    counts: Counter[str] = Counter()
    for authors in papers_authors:
        counts.update({a for a in authors if a and a != author_key})
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: max(0, n)]


def category_code(cat: str) -> str:
    """The short code shown on cards: 'cs.CL' -> 'CL', 'q-fin.PM' -> 'PM', 'hep-th' -> 'hep-th'."""
    cat = cat.strip()
    return cat.rsplit(".", 1)[1] if "." in cat else cat


def card_date(d: date | datetime, today: date | datetime) -> str:
    """'Jun 1' for a date in today's year, 'Sep 19, 2023' for any other year."""
    day = f"{_MONTHS[d.month - 1]} {d.day}"
    return day if d.year == today.year else f"{day}, {d.year}"


def first_authors(names: Sequence[str], n: int = 3) -> str:
    """'A, B, C' for up to n names, 'A, B, C et al.' when there are more."""
    shown = ", ".join(names[:n])
    return f"{shown} et al." if len(names) > n else shown
