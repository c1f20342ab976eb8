"""VectorIndex: exact when small, HNSW when large, updated in place, saved beside the database."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paperscope.errors import StoreError
from paperscope.semantic import VectorIndex


def unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute(base_keys: np.ndarray, base: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    sims = q @ base.T
    return base_keys[np.argsort(-sims, axis=1, kind="stable")[:, :k]]


def test_exact_search_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    x = unit(rng, 300)
    keys = np.arange(1000, 1300)
    idx = VectorIndex(dim=16)
    idx.add(keys, x)
    q = unit(rng, 25)
    found, sims = idx.search(q, k=5)
    np.testing.assert_array_equal(found, brute(keys, x, q, 5))
    np.testing.assert_allclose(sims, np.sort(q @ x.T, axis=1)[:, ::-1][:, :5], atol=1e-6)
    assert len(idx) == 300 and not idx.uses_ann


def test_add_replaces_and_remove_forgets() -> None:
    idx = VectorIndex(dim=3)
    idx.add([1, 2, 3], np.eye(3, dtype=np.float32))
    idx.add([2], np.array([[1.0, 0.0, 0.0]], dtype=np.float32))  # key 2 now points along x
    found, sims = idx.search(np.array([[1.0, 0.0, 0.0]]), k=2)
    assert sorted(found[0].tolist()) == [1, 2] and sims[0].tolist() == [1.0, 1.0]
    assert found[0].tolist() == [1, 2]  # equal similarity: smaller key first
    assert idx.remove([1, 99]) == 1
    assert 1 not in idx and len(idx) == 2
    found, _ = idx.search(np.array([[1.0, 0.0, 0.0]]), k=5)
    assert found[0].tolist() == [2, 3, -1, -1, -1]
    np.testing.assert_array_equal(idx.vectors([3]), [[0.0, 0.0, 1.0]])


def test_allowed_as_predicate_mask_or_keys() -> None:
    rng = np.random.default_rng(1)
    x = unit(rng, 100)
    keys = np.arange(100)
    idx = VectorIndex(dim=16)
    idx.add(keys, x)
    q = unit(rng, 4)
    evens = keys[keys % 2 == 0]
    want = brute(evens, x[evens], q, 3)
    for allowed in (lambda key: key % 2 == 0, idx.keys() % 2 == 0, evens.tolist()):
        found, _ = idx.search(q, k=3, allowed=allowed)
        np.testing.assert_array_equal(found, want)


def test_bad_input_is_refused(tmp_path: Path) -> None:
    idx = VectorIndex(dim=2)
    with pytest.raises(ValueError, match=">= 0"):
        idx.add([-1], np.ones((1, 2)))
    with pytest.raises(ValueError, match="2 keys but 1 vectors"):
        idx.add([1, 2], np.ones((1, 2)))
    with pytest.raises(ValueError, match="allowed mask"):
        idx.add([1], np.ones((1, 2)))
        idx.search(np.ones((1, 2)), allowed=np.ones(5, dtype=bool))
    bad = tmp_path / "vectors.npz"
    bad.write_bytes(b"not numpy")
    with pytest.raises(StoreError, match="vectors.npz"):
        VectorIndex.load(bad)


def test_exact_index_round_trips_through_a_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    idx = VectorIndex(dim=16, model="m-1")
    idx.add(np.arange(50), unit(rng, 50))
    idx.remove([7])
    path = tmp_path / "library.vectors"
    idx.save(path)
    back = VectorIndex.load(path)
    assert back.model == "m-1" and len(back) == 49 and 7 not in back
    q = unit(rng, 3)
    for a, b in zip(idx.search(q, 4), back.search(q, 4)):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "library.vectors.hnsw").exists()


def test_large_index_uses_hnsw_with_high_recall_and_stays_in_sync(tmp_path: Path) -> None:
    pytest.importorskip("hnswlib")
    rng = np.random.default_rng(3)
    x = unit(rng, 3000, dim=32)
    keys = np.arange(3000) * 10
    idx = VectorIndex(dim=32, exact_below=1000, threads=1)
    idx.add(keys[:2000], x[:2000])
    assert idx.uses_ann
    idx.add(keys[2000:], x[2000:])  # incremental, past the graph's first capacity
    q = x[:50] + 0.05 * unit(rng, 50, dim=32)
    found, _ = idx.search(q, k=10)
    truth = brute(keys, x, q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])
    assert recall >= 0.95

    # Removed keys vanish from ANN answers; a re-added key comes back with its new vector.
    idx.remove(keys[:10])
    found, _ = idx.search(x[:10], k=3)
    assert not set(found.ravel().tolist()) & set(keys[:10].tolist())
    idx.add(keys[:1], -x[:1])
    found, sims = idx.search(-x[:1], k=1)
    assert found[0, 0] == keys[0] and sims[0, 0] == pytest.approx(1.0, abs=1e-5)

    # Filtered ANN search keeps to the allowed keys.
    found, _ = idx.search(q[:5], k=5, allowed=lambda key: key % 20 == 0)
    assert (found % 20 == 0).all()

    path = tmp_path / "library.vectors"
    idx.save(path)
    assert (tmp_path / "library.vectors.hnsw").exists()
    back = VectorIndex.load(path, threads=1)
    assert back.uses_ann and len(back) == len(idx)
    np.testing.assert_array_equal(back.search(q, 10)[0], idx.search(q, 10)[0])
    # A graph file that no longer matches the vectors is rebuilt, not trusted.
    back.remove(keys[100:200])
    back.save(path)
    idx.save(tmp_path / "other")
    (tmp_path / "other.hnsw").replace(tmp_path / "library.vectors.hnsw")
    again = VectorIndex.load(path, threads=1)
    found, _ = again.search(x[100:200], k=1)
    assert not set(found.ravel().tolist()) & set(keys[100:200].tolist())
