"""Seeded fault-injected runs of every arXiv source against the fake arXiv deliver what a clean run does.

CI runs a few seeds; PAPERSCOPE_LONG=1 runs 50 (see docs/RELIABILITY.md; bench/reliability/source_runs.py
prints the figures).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_arxiv import FakeArxiv, FaultPlan  # noqa: E402
from source_runs import deliver  # noqa: E402

LONG = os.environ.get("PAPERSCOPE_LONG") == "1"
SEEDS = range(50) if LONG else range(2)
PACE = 0.05


@pytest.fixture(scope="module")
def clean():  # type: ignore[no-untyped-def]
    with FakeArxiv.clean() as arxiv:
        return deliver(arxiv, pace=PACE)


def test_a_clean_run_delivers_every_paper_once(clean) -> None:  # type: ignore[no-untyped-def]
    sizes = {src: len(ps) for src, ps in clean.by_source.items()}
    assert sizes == {"by_ids": 9, "search": 25, "oai": 7} and clean.duplicates() == 0
    assert len(clean.announced) == 9


@pytest.mark.parametrize("seed", SEEDS)
def test_a_faulty_arxiv_loses_and_doubles_nothing(clean, seed: int) -> None:  # type: ignore[no-untyped-def]
    # A 1 s client timeout (faults answer after 1.5 s) leaves room for a loaded CI machine.
    plan = FaultPlan(seed=seed, rate=0.4, timeout_delay=1.5)
    with FakeArxiv(plan) as arxiv:
        got = deliver(arxiv, pace=PACE, timeout=1.0, seed=seed)
        requests = list(arxiv.requests)
        faults = list(arxiv.faults)
    assert faults, "the plan injected nothing: the test would prove nothing"
    assert got.keys() == clean.keys()  # same ids, versions and texts from every source
    assert got.duplicates() == 0 and got.announced == clean.announced and got.deleted == clean.deleted
    # The pace, from the send times httpx reports just before the bytes go out: never under the setting.
    assert got.min_gap() >= PACE
    # Every 429/503 (Retry-After: 1) was waited out before the next request went anywhere. The server runs
    # in this process, so its arrival stamps lag by up to ~0.1 s (the GIL): the margin allows for that, and
    # a client ignoring Retry-After would still fail by far (its backoff here is 20-50 ms).
    for fault in faults:
        if fault.kind in ("429", "503"):
            later = [r.at for r in requests if r.at > fault.at]
            assert not later or later[0] - fault.at >= plan.retry_after - 0.25
