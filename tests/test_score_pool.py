"""A first AI Score of a big library runs in worker processes: the same scores as in one process, saved in order."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from conftest import make_library

from paperscope.scoring.codelinks import primary_code_url
from paperscope.scoring.names import author_index_keys
from paperscope.service import meaning
from paperscope.service.pipeline import sample_path
from paperscope.sources.snapshot import record_to_paper
from paperscope.store.sqlite import SQLiteStore


def _scored_rows(path: Path, monkeypatch, *, workers: bool) -> dict[str, tuple]:  # type: ignore[no-untyped-def,type-arg]
    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:300]
    # as Library.open builds it, which is how the workers open the library
    store = SQLiteStore(path, code_links=primary_code_url, author_keys=author_index_keys)
    store.upsert_papers(record_to_paper(json.loads(line)) for line in lines)
    lib = make_library(store)
    meaning.embed(lib)
    monkeypatch.setattr(meaning, "SCORE_PARALLEL_FROM", 1 if workers else 10**9)
    monkeypatch.setattr(meaning, "SCORE_WORKER_CHUNK", 70)  # 5 chunks over 2+ workers, some finishing out of turn
    run = meaning.score(lib)
    assert run.papers == 300 and run.method == "pretrained"
    model = store.active_model()
    state = store.get_state(f"score:progress:{model}")
    top = store.conn.execute("SELECT max(rowid) FROM embeddings").fetchone()[0]
    assert isinstance(state, dict) and state["rowid"] == top  # the mark is the last chunk's, saved after its write
    return {r[0]: tuple(r[1:]) for r in store.conn.execute("SELECT arxiv_id, value, method, inputs FROM scores")}


def test_worker_processes_give_the_same_scores(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    one = _scored_rows(tmp_path / "one.db", monkeypatch, workers=False)
    two = _scored_rows(tmp_path / "two.db", monkeypatch, workers=True)
    assert len(one) == 300
    assert one == two


def test_a_later_run_scores_in_process(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Only a first scoring starts workers: a daily run's few new papers are scored in this process."""
    started: list[int] = []

    class NoPool:
        def __init__(self, *a: object) -> None:
            started.append(1)
            raise AssertionError("no workers for a daily run")

    store = SQLiteStore(tmp_path / "lib.db")
    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:120]
    store.upsert_papers(record_to_paper(json.loads(line)) for line in lines[:100])
    lib = make_library(store)
    meaning.embed(lib)
    assert meaning.score(lib).papers == 100
    store.upsert_papers(record_to_paper(json.loads(line)) for line in lines[100:])
    meaning.embed(lib)
    monkeypatch.setattr(meaning, "SCORE_PARALLEL_FROM", 1)
    monkeypatch.setattr(meaning, "ScorePool", NoPool)
    assert meaning.score(lib).papers == 20
    assert not started
