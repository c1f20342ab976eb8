"""Work only for what is new: novelty and AI Score of a daily batch leave old papers' figures alone (not recomputed),
the vector index is extended, and the result equals a full recomputation; a run killed midway is completed."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timedelta, timezone
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_library

from paperscope.library import Library
from paperscope.semantic.ivf import IvfIndex
from paperscope.service import novelty as novelty_mod
from paperscope.service.meaning import embed, novelty, score
from paperscope.service.pipeline import sample_path
from paperscope.sources.snapshot import record_to_paper
from paperscope.store.sqlite import SQLiteStore

FIRST = datetime(2026, 11, 1, tzinfo=timezone.utc)
LATER = datetime(2026, 11, 2, tzinfo=timezone.utc)


def _records() -> list[dict]:  # type: ignore[type-arg]
    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()
    return [json.loads(line) for line in lines]


def _split() -> tuple[list, list]:  # type: ignore[type-arg]
    """The sample's papers by first-submission date: all but the newest 40 (the library), and those 40 (the day)."""
    papers = sorted((record_to_paper(r) for r in _records()), key=lambda p: (p.first_submitted, p.id))
    return papers[:-40], papers[-40:]


def _rows(store: SQLiteStore) -> dict[str, tuple]:  # type: ignore[type-arg]
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT arxiv_id, value, percentile, reason, neighbours, computed, cohort FROM novelty")}


@pytest.fixture(scope="module")
def libs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, Library]]:
    """(incremental, full): both hold the same papers; the first got the newest 40 as a second day. The index
    stores float16 here: int8 codes depend on the value range seen at the build, so two builds from different
    papers would differ by quantisation alone (~0.001 in cosine), not by what this test checks."""
    from paperscope.semantic import space

    saved_dtype, space.INDEX_DTYPE = space.INDEX_DTYPE, "float16"
    try:
        yield _build_libs(tmp_path_factory)
    finally:
        space.INDEX_DTYPE = saved_dtype


def _build_libs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Library, Library]:
    old, new = _split()
    base = tmp_path_factory.mktemp("inc")
    inc = SQLiteStore(base / "inc.db")
    inc.upsert_papers(old)
    lib = make_library(inc, clock=lambda: FIRST)
    embed(lib)
    novelty(lib)
    score(lib)
    lib.before = _rows(inc)  # type: ignore[attr-defined]
    lib.scores_before = {r[0]: r[1:] for r in inc.conn.execute("SELECT arxiv_id, value, computed FROM scores")}  # type: ignore[attr-defined]
    inc.upsert_papers(new)
    lib.clock = lambda: LATER
    builds: list[int] = []
    real = IvfIndex.build
    IvfIndex.build = classmethod(lambda cls, *a, **kw: (builds.append(1), real(*a, **kw))[1])  # type: ignore[method-assign, assignment]
    try:
        lib.embedded = embed(lib)  # type: ignore[attr-defined]
        lib.run = novelty(lib)  # type: ignore[attr-defined]
        lib.scored = score(lib)  # type: ignore[attr-defined]
    finally:
        IvfIndex.build = real  # type: ignore[method-assign]
    lib.builds = builds  # type: ignore[attr-defined]
    full = SQLiteStore(base / "full.db")
    full.upsert_papers(old + new)
    flib = make_library(full, clock=lambda: LATER)
    embed(flib)
    novelty(flib)
    return lib, flib


def test_only_the_new_papers_are_scored(libs: tuple[Library, Library]) -> None:
    lib, _ = libs
    assert lib.embedded.embedded == 40  # type: ignore[attr-defined]
    assert lib.run.papers == 40 and not lib.run.full  # type: ignore[attr-defined]
    assert lib.scored.papers == 40  # type: ignore[attr-defined]
    assert lib.builds == []  # type: ignore[attr-defined]  # the index was extended, not rebuilt


def test_old_papers_keep_their_raw_novelty_and_evidence(libs: tuple[Library, Library]) -> None:
    lib, _ = libs
    now = _rows(lib.store)  # type: ignore[arg-type]
    before = lib.before  # type: ignore[attr-defined]
    for pid, (value, _pct, _reason, neighbours, computed, _cohort) in before.items():
        assert now[pid][0] == value and now[pid][3] == neighbours
        assert now[pid][4] == computed  # not recomputed: still the first run's time
    scores_now = {r[0]: r[1:] for r in lib.store.conn.execute("SELECT arxiv_id, value, computed FROM scores")}  # type: ignore[attr-defined]
    assert all(scores_now[i] == v for i, v in lib.scores_before.items())  # type: ignore[attr-defined]


def test_incremental_equals_a_full_run(libs: tuple[Library, Library]) -> None:
    lib, flib = libs
    inc, full = _rows(lib.store), _rows(flib.store)  # type: ignore[arg-type]
    assert inc.keys() == full.keys()
    for pid, row in full.items():
        got = inc[pid]
        assert got[0] == pytest.approx(row[0], abs=1e-6) if row[0] is not None else got[0] is None, pid
        assert (got[1] is None) == (row[1] is None) and (row[1] is None or got[1] == pytest.approx(row[1])), pid
        assert got[2] == row[2] and got[5] == row[5], pid


def test_a_run_killed_after_a_chunk_is_completed_by_the_next(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    old, new = _split()
    store = SQLiteStore(tmp_path / "k.db")
    store.upsert_papers(old + new)
    lib = make_library(store, clock=lambda: FIRST)
    embed(lib)
    monkeypatch.setattr(novelty_mod, "CHUNK", 100)

    def boom(*a, **kw):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(novelty_mod, "rerank_cohorts", boom)
    with pytest.raises(KeyboardInterrupt):
        novelty(lib)
    assert store.conn.execute("SELECT count(*) FROM novelty WHERE percentile IS NULL AND value IS NOT NULL "
                              "AND reason = ''").fetchone()[0] > 0
    monkeypatch.undo()
    rerun = novelty(lib)
    assert rerun.papers == 0 and rerun.reranked > 0  # nothing scored twice; the pending cohorts re-ranked
    assert store.conn.execute("SELECT count(*) FROM novelty WHERE percentile IS NULL AND value IS NOT NULL"
                              ).fetchone()[0] == 0
    shutil.copy(tmp_path / "k.db", tmp_path / "k2.db")
    fresh = make_library(SQLiteStore(tmp_path / "k2.db"), clock=lambda: FIRST)
    novelty(fresh, full=True)
    a, b = _rows(store), _rows(fresh.store)  # type: ignore[arg-type]
    assert a.keys() == b.keys()
    for pid, row in b.items():  # the completed run's percentiles are a full run's
        assert (a[pid][1] is None) == (row[1] is None) and (row[1] is None or a[pid][1] == pytest.approx(row[1])), pid


def test_novelty_values_come_from_the_cohort_index(libs: tuple[Library, Library]) -> None:
    """The distributions a daily re-ranking reads: bare values of some cohorts, or of every paper."""
    lib, _ = libs
    store = lib.store
    model = store.active_model()
    assert model
    rows = store.conn.execute("SELECT cohort, value FROM novelty WHERE model = ?", (model,)).fetchall()  # type: ignore[attr-defined]
    every = sorted(v for _, v in rows if v is not None)
    assert sorted(store.novelty_values(model).tolist()) == every and len(every) > 0
    some = sorted({c for c, _ in rows})[:2]
    assert sorted(store.novelty_values(model, some).tolist()) == sorted(v for c, v in rows if c in some and v is not None)
    assert store.novelty_values(model, []).size == 0
    plan = " ".join(str(r) for r in store.conn.execute(  # type: ignore[attr-defined]
        "EXPLAIN QUERY PLAN SELECT value FROM novelty INDEXED BY novelty_cohort WHERE model = ? AND value IS NOT NULL",
        (model,)))
    assert "COVERING INDEX novelty_cohort" in plan  # the wide rows are never read
