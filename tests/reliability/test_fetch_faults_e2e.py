"""End to end through the library: `service.ingest.fetch` against a fake arXiv that injects 429/503, time-outs,
resets, cut bodies and empty pages; rerun while it reports errors, the library must equal a clean run's
(ids, versions, titles, abstracts) with no paper stored twice. The long run is bench/reliability/fetch_faults.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_arxiv import FakeArxiv, FaultPlan  # noqa: E402
from fetch_runs import fetch_until_ok  # noqa: E402

ATTEMPTS = 4


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int, str, str]]:
    with FakeArxiv.clean() as arxiv:
        out = fetch_until_ok(arxiv, tmp_path_factory.mktemp("clean") / "lib.db", attempts=1)
    assert out.ok and out.fetches == 1, out.errors
    assert len(out.papers) >= 30  # 25 searched and the announced ones
    return out.papers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fetch_with_faults_converges_to_a_clean_runs_library(tmp_path: Path, clean: list[object],
                                                             seed: int) -> None:
    with FakeArxiv(FaultPlan(seed=seed, rate=0.4, timeout_delay=1.0)) as arxiv:
        out = fetch_until_ok(arxiv, tmp_path / "lib.db", attempts=ATTEMPTS)
        faults = len(arxiv.faults)
    assert faults > 0  # the plan really misbehaved
    assert out.ok, f"still failing after {ATTEMPTS} fetches: {out.errors}"
    assert out.duplicates == 0
    assert out.papers == clean


def test_fetches_that_fail_converge_on_rerun(tmp_path: Path, clean: list[object]) -> None:
    """Longer fault streaks than the retries cover: some fetches report errors, and the reruns fill the gaps."""
    kinds = ("429", "503", "reset", "drop", "truncate", "empty")  # no time-outs: they would only add seconds
    plan = FaultPlan(seed=1, rate=0.9, kinds=kinds, max_in_a_row=12)
    with FakeArxiv(plan) as arxiv:
        out = fetch_until_ok(arxiv, tmp_path / "lib.db", attempts=10)
    assert out.fetches > 1  # the rerun path really ran
    assert out.ok, f"still failing after {out.fetches} fetches: {out.errors}"
    assert out.duplicates == 0
    assert out.papers == clean
