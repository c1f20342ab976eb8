"""Author metrics, each checked against a case worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from paperscope.scoring.metrics import (
    card_date,
    category_code,
    category_shares,
    citation_rate,
    citations_per_year,
    first_authors,
    h_index,
    i10_index,
    top_coauthors,
)


@pytest.mark.parametrize(
    ("citations", "h"),
    [
        ([], 0),
        ([0, 0, 0], 0),
        ([1], 1),
        ([10, 8, 5, 4, 3], 4),  # 4 papers with >= 4; the 5th has 3 < 5
        ([25, 8, 5, 3, 3], 3),  # 3 papers with >= 3; the 4th has 3 < 4
        ([3, 0, 6, 1, 5], 3),  # unsorted input: sorted it is 6, 5, 3, 1, 0
        ([100, 100], 2),  # never more than the number of papers
        ([5, 5, 5, 5, 5], 5),
        ([-1, 2, None, 2], 2),  # type: ignore[list-item]  # bad counts read as 0
    ],
)
def test_h_index(citations: list[int], h: int) -> None:
    assert h_index(citations) == h


def test_h_index_takes_any_iterable() -> None:
    assert h_index(c for c in (10, 8, 5, 4, 3)) == 4


def test_i10_index() -> None:
    assert i10_index([10, 9, 11, 0, 100]) == 3  # 10, 11 and 100
    assert i10_index([]) == 0


def test_citations_per_year_fills_gaps_up_to_this_year() -> None:
    papers = [(2019, 10), (2021, 3), (2021, 4), (2022, 0)]
    assert citations_per_year(papers, 2024) == {2019: 10, 2020: 0, 2021: 7, 2022: 0, 2023: 0, 2024: 0}
    assert citations_per_year([], 2024) == {}
    # A paper dated after "now" still shows up.
    assert citations_per_year([(2025, 1)], 2024) == {2025: 1}


def test_citation_rate() -> None:
    # 2019..2024 inclusive is 6 years; 10 + 3 + 4 + 0 = 17 citations.
    assert citation_rate([(2019, 10), (2021, 3), (2021, 4), (2022, 0)], 2024) == pytest.approx(17 / 6)
    assert citation_rate([(2024, 5)], 2024) == 5.0
    assert citation_rate([], 2024) == 0.0


def test_category_shares() -> None:
    shares = category_shares(["cs.CL", "cs.LG", "cs.CL", "stat.ML", "cs.CL", "cs.LG", ""])
    assert shares == [("cs.CL", 0.5), ("cs.LG", pytest.approx(1 / 3)), ("stat.ML", pytest.approx(1 / 6))]
    assert sum(s for _, s in shares) == pytest.approx(1.0)
    assert category_shares(["cs.LG", "cs.AI"]) == [("cs.AI", 0.5), ("cs.LG", 0.5)]  # ties by name
    assert category_shares([]) == []


def test_top_coauthors() -> None:
    papers = [
        ["smith-j", "doe-a", "roe-b"],
        ["doe-a", "smith-j"],
        ["smith-j", "roe-b", "roe-b"],  # listed twice, counted once
        ["smith-j", "lee-c", "doe-a"],
    ]
    assert top_coauthors("smith-j", papers) == [("doe-a", 3), ("roe-b", 2), ("lee-c", 1)]
    assert top_coauthors("smith-j", papers, n=1) == [("doe-a", 3)]
    assert top_coauthors("smith-j", [["smith-j"]]) == []
    # Ties are ordered by key.
    assert top_coauthors("x", [["x", "b", "a"]]) == [("a", 1), ("b", 1)]


@pytest.mark.parametrize(
    ("cat", "code"),
    [("cs.CL", "CL"), ("q-fin.PM", "PM"), ("hep-th", "hep-th"), ("math.CO", "CO"),
     ("astro-ph.GA", "GA"), ("cond-mat.stat-mech", "stat-mech"), ("math-ph", "math-ph"), (" stat.ML ", "ML")],
)
def test_category_code(cat: str, code: str) -> None:
    assert category_code(cat) == code


def test_card_date() -> None:
    today = date(2025, 8, 21)
    assert card_date(date(2025, 6, 1), today) == "Jun 1"
    assert card_date(date(2025, 12, 31), today) == "Dec 31"  # later this year still has no year
    assert card_date(date(2023, 9, 19), today) == "Sep 19, 2023"
    assert card_date(date(2026, 1, 2), today) == "Jan 2, 2026"
    assert card_date(datetime(2025, 3, 4, 23, 59, tzinfo=UTC), today) == "Mar 4"


def test_first_authors() -> None:
    assert first_authors(["A", "B", "C", "D"]) == "A, B, C et al."
    assert first_authors(["A", "B", "C"]) == "A, B, C"
    assert first_authors(["A"]) == "A"
    assert first_authors([]) == ""
    assert first_authors(["A", "B", "C"], n=2) == "A, B et al."
