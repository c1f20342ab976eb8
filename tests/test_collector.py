"""Big jobs collect garbage rarely: the thresholds inside, the old ones after (also after an error)."""

from __future__ import annotations

import gc

import pytest

from paperscope.service.collector import BULK_GC, collect_rarely, rare_collections


def test_rare_collections_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    assert before != BULK_GC
    with rare_collections():
        assert gc.get_threshold() == BULK_GC
    assert gc.get_threshold() == before
    with pytest.raises(ValueError), rare_collections():
        raise ValueError("boom")
    assert gc.get_threshold() == before


def test_novelty_and_score_run_with_rare_collections(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from test_embed_pool import _library

    from paperscope.service import meaning
    from paperscope.service import novelty as nov
    from paperscope.service import score_workers

    lib = _library(tmp_path / "lib.db")
    meaning.embed(lib)
    seen: list[tuple[int, int, int]] = []
    rows, save = nov._chunk_rows, lib.store.save_scores

    def rows_seen(*a, **kw):  # type: ignore[no-untyped-def]
        seen.append(gc.get_threshold())
        return rows(*a, **kw)

    def save_seen(*a, **kw):  # type: ignore[no-untyped-def]
        seen.append(gc.get_threshold())
        return save(*a, **kw)

    monkeypatch.setattr(nov, "_chunk_rows", rows_seen)
    monkeypatch.setattr(lib.store, "save_scores", save_seen)
    before = gc.get_threshold()
    assert nov.novelty(lib).papers == 400
    assert meaning.score(lib).papers == 400
    assert seen and set(seen) == {BULK_GC} and gc.get_threshold() == before
    # a score worker process sets it for its whole life
    try:
        score_workers._start(str(tmp_path / "lib.db"), lib.settings)
        assert gc.get_threshold() == BULK_GC
    finally:
        gc.set_threshold(*before)
    collect_rarely()
    assert gc.get_threshold() == BULK_GC
    gc.set_threshold(*before)
