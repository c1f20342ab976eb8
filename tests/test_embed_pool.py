"""A big backlog is embedded in worker processes: the same vectors as in one process, written in order."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
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


def _novelty_table(lib) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return lib.store.conn.execute("SELECT arxiv_id, value, percentile, reason, neighbours, cohort FROM novelty "
                                  "ORDER BY arxiv_id").fetchall()


@pytest.mark.parametrize(("ahead", "helpers"), [(False, 1), (True, 2)])
def test_novelty_with_helper_processes_stores_the_same_rows(tmp_path: Path, monkeypatch, ahead: bool,  # type: ignore[no-untyped-def]
                                                            helpers: int) -> None:
    """Each chunk's scan shared out between this process and a helper per further core; or, for a big first run,
    a helper per core scanning whole chunks ahead while this process writes the scanned ones."""
    from paperscope.semantic.ivf import ScanHelpers
    from paperscope.service import novelty as nov

    # the same chunks both times (a product's last bits depend on its shape)
    monkeypatch.setattr(nov, "CHUNK", 150)
    monkeypatch.setattr(nov, "AHEAD_FROM", 1 if ahead else 10**9)
    monkeypatch.setattr(nov, "_cores", lambda: 2)
    one = _library(tmp_path / "one.db")
    meaning.embed(one)
    alone = nov.novelty(one)  # 400 papers, below HELP_FROM: no helpers
    started: list[int] = []
    whole: list[int] = []

    class Counted(ScanHelpers):
        def __init__(self, index, count):  # type: ignore[no-untyped-def]
            started.append(count)
            super().__init__(index, count)

        def submit_nearest_earlier(self, keys, k, nprobe):  # type: ignore[no-untyped-def]
            whole.append(len(keys))
            return super().submit_nearest_earlier(keys, k, nprobe)

    monkeypatch.setattr(nov, "HELP_FROM", 1)
    monkeypatch.setattr(nov, "ScanHelpers", Counted)
    ticks: list[int] = []
    two = _library(tmp_path / "two.db")
    meaning.embed(two)
    helped = nov.novelty(two, progress=lambda done, total: ticks.append(done))
    assert started == [helpers]
    # scanned ahead: a quarter chunk first, then whole ones; written in order, so the progress mark is exact
    assert whole == ([37, 150, 150, 63] if ahead else [])
    assert ticks == ([37, 187, 337, 400] if ahead else [150, 300, 400])
    assert (helped.papers, helped.scored) == (alone.papers, alone.scored) == (400, helped.scored)
    assert _novelty_table(two) == _novelty_table(one) and len(_novelty_table(one)) == 400


def test_novelty_goes_on_when_a_helper_dies(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """kill -9 of the helpers after the first chunk: the chunks they held are scanned here, with the same rows."""
    import os
    import signal

    from paperscope.semantic.ivf import ScanHelpers
    from paperscope.service import novelty as nov

    monkeypatch.setattr(nov, "CHUNK", 100)
    monkeypatch.setattr(nov, "AHEAD_FROM", 1)
    monkeypatch.setattr(nov, "_cores", lambda: 2)
    one = _library(tmp_path / "one.db")
    meaning.embed(one)
    nov.novelty(one)
    killed: list[int] = []

    class Dying(ScanHelpers):
        def result(self, job):  # type: ignore[no-untyped-def]
            got = super().result(job)
            if not killed:
                for pid in list(self._ex._processes):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            return got

    monkeypatch.setattr(nov, "HELP_FROM", 1)
    monkeypatch.setattr(nov, "ScanHelpers", Dying)
    two = _library(tmp_path / "two.db")
    meaning.embed(two)
    assert nov.novelty(two).papers == 400
    assert len(killed) == 2
    assert _novelty_table(two) == _novelty_table(one)
