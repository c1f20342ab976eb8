"""Author figures checked against real ones: h-index and i10-index recomputed from a researcher's daily Google
Scholar captures (tests/fixtures/scholar/README.md) with paperscope's own metric functions.

A capture is valid when its stored figures can be real: its paper list adds up to the stored total citations and
the stored count of papers, and its h-index is not 0 while a paper is cited (by definition one cited paper makes
h >= 1; five captures of Jan-Feb 2026 store 0 beside 789+ citations, a scraper glitch). i10 is checked wherever
the capture stored one (the early captures did not).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from paperscope.scoring.metrics import h_index, i10_index

HISTORY = Path(__file__).parent / "fixtures" / "scholar" / "author_scholar_history.jsonl.gz"


def _captures() -> list[dict[str, Any]]:
    with gzip.open(HISTORY, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _valid(c: dict[str, Any]) -> bool:
    cites = [int(p["citations"]) for p in c["papers"]]
    if sum(cites) != c["total_citations"] or len(cites) != c["n_papers"]:
        return False
    return not (c["h_index"] == 0 and any(n > 0 for n in cites))


CAPTURES = _captures()
VALID = [c for c in CAPTURES if _valid(c)]


def test_the_history_is_the_real_one_and_most_captures_qualify() -> None:
    assert len(CAPTURES) == 328
    assert len(VALID) == 323  # the 5 left out are exactly the glitched h = 0 captures
    assert {c["date"] for c in CAPTURES if not _valid(c)} == {
        "2026-01-19", "2026-01-25", "2026-01-30", "2026-01-31", "2026-02-03"}
    assert sum(1 for c in VALID if c["i10_index"] is not None) == 106


@pytest.mark.parametrize("capture", VALID, ids=lambda c: c["date"])
def test_h_index_matches_scholar(capture: dict[str, Any]) -> None:
    cites = [int(p["citations"]) for p in capture["papers"]]
    assert h_index(cites) == capture["h_index"]


@pytest.mark.parametrize("capture", [c for c in VALID if c["i10_index"] is not None], ids=lambda c: c["date"])
def test_i10_index_matches_scholar(capture: dict[str, Any]) -> None:
    cites = [int(p["citations"]) for p in capture["papers"]]
    assert i10_index(cites) == capture["i10_index"]


def test_the_figures_grow_over_the_history() -> None:
    # The matches above cover many values of h (5 at the first capture, 15 at the end), not one repeated figure.
    hs = [c["h_index"] for c in sorted(VALID, key=lambda c: c["date"])]
    assert hs[0] == 5 and hs[-1] == 15
    assert set(hs) == set(range(5, 16))
