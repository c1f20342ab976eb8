"""IvfIndex: an inverted-file index in a folder, memory-mapped, appended to, searched list by list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paperscope.errors import StoreError
from paperscope.semantic.ivf import IvfIndex


def unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute(
    keys: np.ndarray, base: np.ndarray, q: np.ndarray, k: int, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top k by similarity (ties: smaller key), -1/-inf pad; mask[i, j] allows row j."""
    sims = (q @ base.T).astype(np.float32)
    if mask is not None:
        sims = np.where(mask, sims, -np.inf)
    out_k = np.full((len(q), k), -1, dtype=np.int64)
    out_s = np.full((len(q), k), -np.inf, dtype=np.float32)
    for i in range(len(q)):
        order = np.lexsort((keys, -sims[i]))[:k]
        ok = np.isfinite(sims[i][order])
        out_k[i, : ok.sum()] = keys[order][ok]
        out_s[i, : ok.sum()] = sims[i][order][ok]
    return out_k, out_s


def build(tmp_path: Path, n: int = 600, seed: int = 0, **kw: object) -> tuple[IvfIndex, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = unit(rng, n)
    keys = np.arange(n, dtype=np.int64) * 7 + 3  # not row numbers
    days = rng.integers(0, 40, size=n)
    idx = IvfIndex.build(tmp_path / "ivf", keys, x, days, seed=seed, **kw)  # type: ignore[arg-type]
    return idx, keys


def stored(idx: IvfIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = idx.keys()
    return keys, idx.vectors(keys), idx.days()


def test_below_the_exact_threshold_search_is_brute_force(tmp_path: Path) -> None:
    idx, _ = build(tmp_path)  # 600 rows < exact_below
    keys, base, _ = stored(idx)
    q = unit(np.random.default_rng(9), 30)
    found, sims = idx.search(q, k=7)
    want_k, want_s = brute(keys, base, q, 7)
    np.testing.assert_array_equal(found, want_k)
    np.testing.assert_allclose(sims, want_s, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "int8"])
def test_probing_every_list_is_exact(tmp_path: Path, dtype: str) -> None:
    idx, _ = build(tmp_path, n=2000, lists=24, exact_below=0, dtype=dtype)
    assert idx.lists == 24
    keys, base, _ = stored(idx)
    q = unit(np.random.default_rng(5), 40)
    found, sims = idx.search(q, k=10, nprobe=24)
    want_k, want_s = brute(keys, base, q, 10)
    np.testing.assert_array_equal(found, want_k)
    np.testing.assert_allclose(sims, want_s, atol=1e-5)
    # One query at a time (another code path) gives the same answers as the batch.
    for i in range(0, 40, 13):
        one_k, one_s = idx.search(q[i], k=10, nprobe=5)
        np.testing.assert_array_equal(one_k[0], idx.search(q, k=10, nprobe=5)[0][i])
    # Fewer lists: approximate, but every answer is a real row with its true similarity.
    few_k, few_s = idx.search(q, k=10, nprobe=3)
    assert (few_k >= 0).all()
    true = {int(key): v for key, v in zip(keys, base)}
    for i in range(len(q)):
        for key, s in zip(few_k[i], few_s[i]):
            assert abs(float(true[int(key)] @ q[i]) - float(s)) < 1e-5
    assert 0.3 < np.mean([len(set(a) & set(b)) / 10 for a, b in zip(few_k, want_k)]) < 1.0


@pytest.mark.parametrize("dtype", ["float16", "int8"])
@pytest.mark.parametrize("block", [7, 4096])
def test_one_query_reads_its_rows_a_block_at_a_time_with_the_scale_on_the_query(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dtype: str, block: int) -> None:
    """A lone query (`similar`) multiplies the stored codes by the query times their scale, block by block (some
    blocks contiguous runs, some gathered): the answers of decoding every row first."""
    import paperscope.semantic.ivf as ivf_mod

    monkeypatch.setattr(ivf_mod, "_DOT_BLOCK", block)
    idx, _ = build(tmp_path, n=1500, lists=12, exact_below=0, dtype=dtype)
    keys, base, _ = stored(idx)
    q = unit(np.random.default_rng(11), 6)
    for i in range(len(q)):
        one_k, one_s = idx.search(q[i], k=10, nprobe=12)  # every list: exact over the stored vectors
        want_k, want_s = brute(keys, base, q[i : i + 1], 10)
        np.testing.assert_array_equal(one_k, want_k)
        np.testing.assert_allclose(one_s, want_s, atol=1e-6)
    rows = np.array([0, 1, 2, 3, 9, 10, 40, 41, 42, 43, 44, 45, 46, 1499], dtype=np.int64)
    np.testing.assert_allclose(idx._dot_rows(rows, q[0]), idx._decode(rows) @ q[0], atol=1e-6)


def test_stored_vectors_are_close_to_the_originals(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = unit(rng, 100)
    for dtype, tol in (("float16", 1e-3), ("int8", 1e-2)):
        idx = IvfIndex.build(tmp_path / dtype, np.arange(100), x, np.zeros(100), dtype=dtype)
        assert np.abs(idx.vectors(range(100)) - x).max() < tol


@pytest.mark.parametrize("exact_below", [20_000, 0])
def test_nearest_earlier_sees_only_strictly_earlier_days(tmp_path: Path, exact_below: int) -> None:
    idx, _ = build(tmp_path, n=1500, lists=16, exact_below=exact_below)
    keys, base, days = stored(idx)
    nb, sims, n_earlier = idx.nearest_earlier(k=5, nprobe=16)
    mask = days[None, :] < days[:, None]
    want_k, want_s = brute(keys, base, base, 5, mask)
    np.testing.assert_array_equal(nb, want_k)
    np.testing.assert_allclose(sims, want_s, atol=1e-5)
    np.testing.assert_array_equal(n_earlier, mask.sum(axis=1))
    # Lists scanned by two threads, and in small chunks of queries: the same answers.
    nb2, sims2, _ = idx.nearest_earlier(k=5, nprobe=16, threads=2, chunk=100)
    np.testing.assert_array_equal(nb2, nb)
    np.testing.assert_allclose(sims2, sims, atol=1e-6)
    # The first day has no history at all: all padding.
    first = days == days.min()
    assert (nb[first] == -1).all() and (n_earlier[first] == 0).all()
    # Some keys only, in the order asked; same answers.
    some = keys[[5, 0, 77]]
    nb2, _, ne2 = idx.nearest_earlier(some, k=5, nprobe=16)
    np.testing.assert_array_equal(nb2, want_k[[5, 0, 77]])
    np.testing.assert_array_equal(ne2, n_earlier[[5, 0, 77]])
    # The same filter through search(): before_day per query.
    found, _ = idx.search(base[:20], k=5, nprobe=16, before_day=days[:20])
    np.testing.assert_array_equal(found, want_k[:20])


def test_search_can_exclude_keys(tmp_path: Path) -> None:
    idx, keys = build(tmp_path)
    q = idx.vectors(keys[:3])
    found, _ = idx.search(q, k=4)
    assert found[:, 0].tolist() == keys[:3].tolist()  # each finds itself first
    again, _ = idx.search(q, k=4, exclude={int(k) for k in keys[:3]})
    assert not set(again.ravel().tolist()) & set(keys[:3].tolist())
    assert again[:, :3].tolist() == [
        [x for x in row if x not in keys[:3]][:3] for row in found.tolist()
    ]


def test_add_replace_remove_persist_and_reopen(tmp_path: Path) -> None:
    idx, keys = build(tmp_path, n=800, lists=8, exact_below=0)
    rng = np.random.default_rng(3)
    new = unit(rng, 5)
    new_keys = np.array([10_000, 10_001, 10_002, 10_003, int(keys[10])])  # last one replaces
    idx.add(new_keys, new, np.full(5, 99))
    assert len(idx) == 804
    assert idx.remove([int(keys[20]), 10_001, 123_456]) == 2
    assert len(idx) == 802 and 10_001 not in idx and int(keys[20]) not in idx

    for index in (idx, IvfIndex.open(tmp_path / "ivf")):
        assert len(index) == 802
        np.testing.assert_allclose(index.vector(int(keys[10])), new[4], atol=1e-2)
        assert int(index.days()[index.keys() == keys[10]][0]) == 99
        found, _ = index.search(new[[0, 4]], k=1, nprobe=8)
        assert found[:, 0].tolist() == [10_000, int(keys[10])]
        live = set(index.keys().tolist())
        assert int(keys[20]) not in live and 10_001 not in live and 10_002 in live
        all_k, _ = index.search(unit(rng, 10), k=900, nprobe=8)
        assert set(all_k[all_k >= 0].ravel().tolist()) == live  # dead rows never come back
        with pytest.raises(KeyError):
            index.vector(10_001)
    # A removed key can come back.
    idx.add(np.array([10_001]), new[1:2], np.array([5]))
    assert 10_001 in IvfIndex.open(tmp_path / "ivf")


def test_compaction_keeps_every_answer(tmp_path: Path) -> None:
    idx, keys = build(tmp_path, n=500, lists=6, exact_below=0)
    rng = np.random.default_rng(4)
    idx.add(np.arange(5000, 5100), unit(rng, 100), rng.integers(0, 40, 100))
    idx.remove([int(keys[0]), 5001])
    idx.add(np.array([int(keys[1])]), unit(rng, 1), np.array([3]))
    q = unit(rng, 20)
    before = idx.search(q, k=10, nprobe=6)
    before_ne = idx.nearest_earlier(k=5, nprobe=6)
    idx.compact()
    reopened = IvfIndex.open(tmp_path / "ivf")
    for index in (idx, reopened):
        np.testing.assert_array_equal(index.search(q, k=10, nprobe=6)[0], before[0])
        np.testing.assert_array_equal(index.nearest_earlier(k=5, nprobe=6)[0], before_ne[0])
        assert len(index) == 500 + 100 - 2
    assert len(list((tmp_path / "ivf").glob("members.*.bin"))) == 1  # old generation removed


def test_a_kill_during_add_leaves_the_previous_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import paperscope.semantic.ivf as ivf

    idx, keys = build(tmp_path, n=300)
    q = unit(np.random.default_rng(1), 5)
    want = idx.search(q, k=5)

    def killed(folder: Path, header: dict[str, object]) -> None:
        raise KeyboardInterrupt("killed before the header was replaced")

    monkeypatch.setattr(ivf, "_write_header", killed)
    with pytest.raises(KeyboardInterrupt):
        idx.add(np.arange(9000, 9050), unit(np.random.default_rng(2), 50), np.zeros(50))
    with pytest.raises(KeyboardInterrupt):
        idx.remove([int(keys[0])])
    monkeypatch.undo()
    # The data files now hold bytes past the committed rows; the header does not count them.
    assert (tmp_path / "ivf" / "keys.bin").stat().st_size == (300 + 50) * 8
    again = IvfIndex.open(tmp_path / "ivf")
    assert len(again) == 300 and 9000 not in again and int(keys[0]) in again
    np.testing.assert_array_equal(again.search(q, k=5)[0], want[0])
    # The next add overwrites the uncommitted bytes.
    again.add(np.array([9000]), q[:1], np.array([1]))
    final = IvfIndex.open(tmp_path / "ivf")
    assert len(final) == 301 and final.search(q[:1], k=1)[0][0, 0] == 9000
    assert (tmp_path / "ivf" / "keys.bin").stat().st_size == 301 * 8


def test_empty_index(tmp_path: Path) -> None:
    idx = IvfIndex.build(tmp_path / "e", np.zeros(0), np.zeros((0, 4)), np.zeros(0))
    assert len(idx) == 0 and idx.keys().tolist() == []
    found, sims = idx.search(np.ones((2, 4)) / 2, k=3)
    assert found.tolist() == [[-1] * 3] * 2 and np.isneginf(sims).all()
    nb, _, ne = idx.nearest_earlier(k=3)
    assert nb.shape == (0, 3) and ne.shape == (0,)
    idx.add(np.array([1, 2]), np.eye(4)[:2], np.array([0, 1]))
    reopened = IvfIndex.open(tmp_path / "e")
    assert len(reopened) == 2
    nb, sims, ne = reopened.nearest_earlier([2, 1], k=3)
    assert nb.tolist() == [[1, -1, -1], [-1, -1, -1]] and ne.tolist() == [1, 0]


def test_bad_input_and_damaged_folders_are_refused(tmp_path: Path) -> None:
    x = unit(np.random.default_rng(0), 4, dim=3)
    with pytest.raises(ValueError, match="duplicate"):
        IvfIndex.build(tmp_path / "a", np.array([1, 1, 2, 3]), x, np.zeros(4))
    with pytest.raises(ValueError, match=">= 0"):
        IvfIndex.build(tmp_path / "a", np.array([-1, 1, 2, 3]), x, np.zeros(4))
    idx = IvfIndex.build(tmp_path / "a", np.arange(4), x, np.zeros(4))
    with pytest.raises(ValueError, match="dimensions"):
        idx.add(np.array([9]), np.ones((1, 5)), np.zeros(1))
    with pytest.raises(StoreError, match="header"):
        IvfIndex.open(tmp_path / "nothing")
    (tmp_path / "a" / "offsets.1.bin").unlink()
    with pytest.raises(StoreError, match="damaged"):
        IvfIndex.open(tmp_path / "a")


@pytest.mark.parametrize("exact_below", [0, 20_000])
def test_helper_processes_give_the_same_answers_to_the_last_bit(tmp_path: Path, exact_below: int) -> None:
    from paperscope.semantic import ivf
    from paperscope.semantic.ivf import ScanHelpers

    idx, _ = build(tmp_path, n=3000, lists=40, exact_below=exact_below)
    rng = np.random.default_rng(5)
    idx.add(np.arange(10) * 7 + 3, unit(rng, 10), rng.integers(0, 40, size=10))  # a tail and tombstones
    keys = idx.keys()[::2]
    alone = idx.nearest_earlier(keys, k=7, nprobe=6, chunk=400)
    with ScanHelpers(idx, 2) as helpers:
        assert helpers.serves(idx)
        old_block = ivf._PROBE_BLOCK
        ivf._PROBE_BLOCK = 64  # several probe blocks per chunk, shared out
        try:
            helped = idx.nearest_earlier(keys, k=7, nprobe=6, chunk=400, helpers=helpers)
        finally:
            ivf._PROBE_BLOCK = old_block
        assert helpers.usable
    for a, b in zip(alone, helped):
        np.testing.assert_array_equal(a, b)


def test_helpers_of_another_snapshot_are_not_used_and_a_dead_helper_is_replaced(tmp_path: Path) -> None:
    import os
    import signal

    from paperscope.semantic.ivf import ScanHelpers

    idx, _ = build(tmp_path, n=2000, lists=30, exact_below=0)
    alone = idx.nearest_earlier(k=5, nprobe=5)
    with ScanHelpers(idx, 1) as helpers:
        list(helpers._ex.map(abs, [1]))  # started
        for pid in list(helpers._ex._processes):  # kill -9 the helper: its shares are scanned by the caller
            os.kill(pid, signal.SIGKILL)
        helped = idx.nearest_earlier(k=5, nprobe=5, helpers=helpers)
        assert not helpers.usable
    for a, b in zip(alone, helped):
        np.testing.assert_array_equal(a, b)
    with ScanHelpers(idx, 1) as helpers:
        rng = np.random.default_rng(9)
        idx.add(np.array([10**6]), unit(rng, 1), np.array([39]))  # the index moved on: the helpers would not see it
        assert not helpers.serves(idx)
        moved = idx.nearest_earlier(k=5, nprobe=5, helpers=helpers)
        assert len(moved[0]) == len(idx) == 2001  # answered here, over the index as it is now
        for a, b in zip(idx.nearest_earlier(k=5, nprobe=5), moved):
            np.testing.assert_array_equal(a, b)
