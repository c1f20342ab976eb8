"""The vector index beside the library follows the store: extended with new embeddings, rebuilt only on removal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from paperscope.models import Paper, Version
from paperscope.semantic import space as space_mod
from paperscope.semantic.ivf import IvfIndex
from paperscope.store.sqlite import SQLiteStore

DIM = 16


def _papers(n: int, start: int = 0) -> list[Paper]:
    out = []
    for i in range(start, start + n):
        when = datetime(2025, 1, 1 + i % 28, tzinfo=UTC)
        out.append(Paper(id=f"2501.{i:05d}", version=1, title=f"Paper {i}", abstract=f"text {i}",
                         categories=["cs.LG"], primary_category="cs.LG", published=when, updated=when,
                         versions=[Version(1, when)]))
    return out


def _vecs(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture()
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "lib.db")
    s.upsert_papers(_papers(300))
    s.set_active_model("m")
    x = _vecs(300, 1)
    s.save_embeddings("m", [(f"2501.{i:05d}", 1, x[i]) for i in range(200)])
    return s


def test_new_embeddings_extend_the_saved_index_without_a_rebuild(store: SQLiteStore, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = store.cache_path("m.ivf")
    assert folder is not None
    first = space_mod.open_space(store, "m", folder)
    assert len(first) == 200 and folder.exists()
    builds: list[int] = []
    real_build = IvfIndex.build
    monkeypatch.setattr(IvfIndex, "build", classmethod(lambda cls, *a, **kw: (builds.append(1),
                                                                                 real_build(*a, **kw))[1]))
    x = _vecs(300, 1)
    store.save_embeddings("m", [(f"2501.{i:05d}", 1, x[i]) for i in range(200, 300)])
    flipped = -x[5]
    store.save_embeddings("m", [("2501.00005", 1, flipped)])  # a paper embedded again
    second = space_mod.open_space(store, "m", folder)
    assert builds == []  # extended in place
    assert len(second) == 300
    assert np.allclose(second.vector("2501.00005"), flipped, atol=1e-6)
    near = second.nearest(x[250], 1)
    assert near[0][0] == "2501.00250"
    # a fresh process finds it current: nothing read, nothing built
    third = space_mod.open_space(store, "m", folder)
    assert builds == [] and len(third) == 300


def test_removed_embeddings_make_it_rebuild(store: SQLiteStore) -> None:
    folder = store.cache_path("m.ivf")
    assert folder is not None
    space_mod.open_space(store, "m", folder)
    with store._lock:
        store.conn.execute("DELETE FROM papers WHERE arxiv_id = '2501.00007'")
    assert store.drop_orphan_embeddings() == 1
    again = space_mod.open_space(store, "m", folder)
    assert len(again) == 199 and "2501.00007" not in again


def test_a_read_only_library_behind_its_index_answers_from_a_private_copy(store: SQLiteStore, tmp_path: Path) -> None:
    folder = store.cache_path("m.ivf")
    assert folder is not None
    space_mod.open_space(store, "m", folder)
    x = _vecs(300, 1)
    store.save_embeddings("m", [(f"2501.{i:05d}", 1, x[i]) for i in range(200, 300)])
    before = sorted(p.name for p in folder.iterdir())
    ro = SQLiteStore(tmp_path / "lib.db", readonly=True)
    got = space_mod.open_space(ro, "m", folder, writable=False)
    assert len(got) == 300
    assert sorted(p.name for p in folder.iterdir()) == before  # the saved copy was not written


def test_submitted_between_and_sample(store: SQLiteStore) -> None:
    v = space_mod.open_space(store, "m", store.cache_path("m.ivf"))
    ids = v.submitted_between("2025-01-20", "2025-01-21")
    assert ids and all(int(i[-5:]) % 28 in (19, 20) for i in ids)
    got, mat = v.sample(50)
    assert len(got) == 50 == mat.shape[0] and v.present(got) == got


def test_writers_of_one_index_folder_take_turns(store: SQLiteStore) -> None:
    """A second process (here a thread with its own lock file handle) syncing the same folder waits while one
    holds it, then finds the index whole."""
    import threading

    folder = store.cache_path("m.ivf")
    assert folder is not None
    got: list[int] = []
    other = threading.Thread(target=lambda: got.append(len(space_mod.sync_space(store, "m", folder))))
    with space_mod._sync_lock(folder, True):
        other.start()
        other.join(0.5)
        assert other.is_alive() and got == []
    other.join(30)
    assert got == [200]
    # read-only syncs write nothing and take no lock
    with space_mod._sync_lock(folder, True):
        assert len(space_mod.sync_space(store, "m", folder, writable=False)) == 200
