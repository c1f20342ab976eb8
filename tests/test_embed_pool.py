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
