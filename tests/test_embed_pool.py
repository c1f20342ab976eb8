"""A big backlog is embedded in worker processes: the same vectors as in one process, written in order."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
from conftest import make_library

from paperscope.service import meaning
from paperscope.service.pipeline import sample_path
from paperscope.sources.snapshot import record_to_paper
from paperscope.store.sqlite import SQLiteStore


def _library(path: Path):  # type: ignore[no-untyped-def]
    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:400]
    store = SQLiteStore(path)
    store.upsert_papers(record_to_paper(json.loads(line)) for line in lines)
    return make_library(store)


def test_worker_processes_give_the_same_vectors(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    one = _library(tmp_path / "one.db")
    assert meaning.embed(one).embedded == 400
    monkeypatch.setattr(meaning, "PARALLEL_FROM", 1)
    ticks: list[int] = []
    two = _library(tmp_path / "two.db")
    out = meaning.embed(two, batch=64, progress=ticks.append)
    assert out.embedded == 400 and sum(ticks) == 400
    model = one.store.active_model()
    assert model and two.store.active_model() == model
    ids = [r[0] for r in one.store.conn.execute("SELECT arxiv_id FROM papers")]
    a, b = one.store.embeddings_of(model, ids), two.store.embeddings_of(model, ids)
    assert a.keys() == b.keys() == set(ids)
    assert all(np.array_equal(a[i], b[i]) for i in ids)
    assert len(two.vectors()) == 400


def test_novelty_with_helper_processes_stores_the_same_rows(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from paperscope.semantic.ivf import ScanHelpers
    from paperscope.service import novelty as nov

    def table(lib) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
        return lib.store.conn.execute("SELECT arxiv_id, value, percentile, reason, neighbours, cohort FROM novelty "
                                      "ORDER BY arxiv_id").fetchall()

    monkeypatch.setattr(nov, "CHUNK", 150)  # several chunks (the helpers are kept over all of them)
    one = _library(tmp_path / "one.db")
    meaning.embed(one)
    alone = nov.novelty(one)
    started: list[int] = []

    class Counted(ScanHelpers):
        def __init__(self, index, count):  # type: ignore[no-untyped-def]
            started.append(count)
            super().__init__(index, count)

    monkeypatch.setattr(nov, "HELP_FROM", 1)
    monkeypatch.setattr(nov, "_cores", lambda: 2)
    monkeypatch.setattr(nov, "ScanHelpers", Counted)
    two = _library(tmp_path / "two.db")
    meaning.embed(two)
    helped = nov.novelty(two)
    assert started == [1]
    assert (helped.papers, helped.scored) == (alone.papers, alone.scored) == (400, helped.scored)
    assert table(two) == table(one) and len(table(one)) == 400
