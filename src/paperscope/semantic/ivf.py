"""An inverted-file (IVF) vector index in a folder of flat files, memory-mapped on open.

Built for millions of unit vectors on a small machine: `open()` maps the files and reads a
few small arrays, so its cost barely grows with the index; `add()` appends rows and never
reorders what is on disk; `nearest_earlier()` answers the novelty question ("the k nearest
rows dated strictly earlier") for many rows at once, list by list, in bounded memory.

How it works. Spherical k-means, trained on a sample, gives `lists` centroids. Every row
belongs to the list of its nearest centroid. A query scores the centroids and scans the rows
of its `nprobe` best lists. Below `exact_below` live rows (or with nprobe >= lists) every row
is scanned, so the answer is exact (over the stored, quantised vectors).

The folder (all files little-endian, raw, row-aligned; only `header.json` is ever replaced):

    header.json          row count, tombstone count, generation, settings (atomically replaced)
    centroids.npy        (lists, dim) float32, and scale.npy (dim,) for int8 codes
    vecs.bin             (rows, dim) float16 or int8 codes, append-only
    keys.bin days.bin    int64 key and int32 day of each row, append-only
    assign.bin           int32 list of each row, append-only
    dead.bin             int64 rows tombstoned by replace/remove, append-only
    members.G.bin        rows < base_rows grouped by list, with offsets.G.bin (CSR)
    keyrows.G.bin        those rows sorted by key, with sortedkeys.G.bin, for key lookup

Rows appended after the last build or compaction (the "tail") are grouped in memory on
open; when the tail grows large, `add()` rewrites the small CSR/key files under a new
generation (the vectors never move). A write appends data first, syncs it, then replaces the
header: a process killed mid-write leaves the previous state readable, and bytes past the
header's row count are ignored (and overwritten by the next write). One writer at a time;
readers that opened earlier keep their consistent snapshot.

Use:

    idx = IvfIndex.build(folder, keys, vecs, days)       # once; build into a fresh folder
    idx = IvfIndex.open(folder)                          # every process: maps, no copy
    keys, sims = idx.search(q, 10, exclude={pk})         # similar papers
    idx.add(new_keys, new_vecs, new_days)                # the daily papers (replaces by key)
    nb, sims, n_earlier = idx.nearest_earlier(new_keys)  # novelty of those (or of all: no keys)

Defaults: int8 codes (per-dimension scale), lists = 2 * sqrt(n), nprobe = 64. Rebuild with
`build()` when `needs_rebuild` says the lists have become too few for the rows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Final, TypeVar, cast

import numpy as np

from paperscope.errors import StoreError

FORMAT: Final = "paperscope-ivf-1"
EXACT_BELOW: Final = 20_000
LISTS_PER_SQRT: Final = 2.0  # lists = 2 * sqrt(n): short lists keep bulk scans cheap
DEFAULT_NPROBE: Final = 32  # recall@10 0.958 on 57,821 real papers (64: 0.979 at 4x the cost)
_CAND_BUDGET: Final = 1 << 25  # candidate slots held per chunk (12 bytes each: ~400 MB)
_EXACT_BLOCK: Final = 1 << 16
_PROBE_BLOCK: Final = 4096  # queries whose list scores are held at once
_FEW_QUERIES: Final = 4  # up to this many queries, each is answered alone (less overhead)
_DOT_BLOCK: Final = 4096  # rows of one query's product read and converted at a time (stays in the CPU's cache)
_DTYPES: Final = {"float16": np.float16, "int8": np.int8}


def default_lists(n: int) -> int:
    """The number of inverted lists for n rows (0 for an empty index)."""
    return 0 if n <= 0 else min(n, max(1, int(round(LISTS_PER_SQRT * np.sqrt(n)))))


class IvfIndex:
    """Nearest-neighbour search over (int key, unit vector, int day) rows stored in a folder."""

    def __init__(self, folder: Path, header: dict[str, object] | None = None) -> None:
        """Use `IvfIndex.open(folder)` or `IvfIndex.build(...)`."""
        self.folder = Path(folder)
        self._load(header)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        folder: Path,
        keys: np.ndarray,
        vecs: np.ndarray,
        days: np.ndarray,
        *,
        lists: int | None = None,
        dtype: str = "int8",
        nprobe: int = DEFAULT_NPROBE,
        exact_below: int = EXACT_BELOW,
        seed: int = 0,
        train_sample: int | None = None,
        iterations: int = 8,
    ) -> IvfIndex:
        """Write a new index of these rows into `folder` (replacing one there) and open it.

        `keys` are distinct int64 (e.g. paper pks), `vecs` (n, d) unit float32 rows, `days`
        integer days. `dtype` is how vectors are stored: "float16" or "int8" (per-dimension
        scale). `lists` defaults to 2 * sqrt(n); centroids are trained on `train_sample` rows
        (default 32 per list, at least 20,000 or all).
        """
        folder = Path(folder)
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, not {dtype!r}")
        k_arr, x, d_arr = _check_rows(keys, vecs, days, None)
        if len(np.unique(k_arr)) != len(k_arr):
            raise ValueError("duplicate keys in build()")
        n, dim = x.shape
        n_lists = default_lists(n) if lists is None else int(lists)
        if n and not 1 <= n_lists <= n:
            raise ValueError(f"lists must be between 1 and {n}, not {n_lists}")
        rng = np.random.default_rng(seed)
        if n:
            sample = train_sample or max(32 * n_lists, 20_000)
            train = x[np.sort(rng.choice(n, size=min(n, sample), replace=False))]
            cents = _kmeans(train, n_lists, iterations, rng)
            assign = _assign(x, cents)
        else:
            n_lists, cents, assign = 0, np.zeros((0, dim), np.float32), np.zeros(0, np.int32)
        scale = np.ones(dim, np.float32)
        if dtype == "int8" and n:
            scale = np.maximum(np.abs(x).max(axis=0), 1e-12).astype(np.float32) / 127.0
        # Rows are written list by list (in day order within a list), so each list of the
        # built index is one contiguous run and a day limit cuts it at one point.
        perm = np.lexsort((d_arr, assign))
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("vecs.bin", "keys.bin", "days.bin", "assign.bin", "dead.bin"):
            (folder / name).unlink(missing_ok=True)
        np.save(folder / "centroids.npy", cents)
        np.save(folder / "scale.npy", scale)
        block = 1 << 18
        with (
            open(folder / "vecs.bin", "wb") as fv,
            open(folder / "keys.bin", "wb") as fk,
            open(folder / "days.bin", "wb") as fd,
            open(folder / "assign.bin", "wb") as fa,
        ):
            for s in range(0, n, block):
                p = perm[s : s + block]
                fv.write(_encode(x[p], dtype, scale).tobytes())
                fk.write(k_arr[p].tobytes())
                fd.write(d_arr[p].tobytes())
                fa.write(assign[p].tobytes())
            for f in (fv, fk, fd, fa):
                f.flush()
                os.fsync(f.fileno())
        (folder / "dead.bin").touch()
        gen = _next_generation(folder)
        offsets = np.zeros(n_lists + 1, np.int64)
        np.cumsum(np.bincount(assign, minlength=n_lists), out=offsets[1:])
        members = np.arange(n, dtype=np.int64)
        _write_csr(folder, gen, offsets, members, k_arr[perm])
        header = {
            "format": FORMAT,
            "dim": dim,
            "dtype": dtype,
            "lists": n_lists,
            "rows": n,
            "dead": 0,
            "base_rows": n,
            "generation": gen,
            "nprobe": int(nprobe),
            "exact_below": int(exact_below),
            "trained_on": n,
        }
        _write_header(folder, header)
        _remove_stale_generations(folder, gen)
        return cls(folder)

    @classmethod
    def open(cls, folder: Path) -> IvfIndex:
        """Open an index folder: memory-maps the row files, reads only small arrays."""
        return cls(folder)

    def _load(self, header: dict[str, object] | None = None) -> None:
        """Map the files as `header` (default: header.json) describes them: a given header opens the snapshot
        another process has open, whatever was appended since."""
        f = self.folder
        try:
            h = dict(header) if header is not None else json.loads((f / "header.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise StoreError(f"cannot read vector index header {f / 'header.json'}: {e}") from e
        if h.get("format") != FORMAT:
            raise StoreError(f"not a paperscope IVF index (format {h.get('format')!r}): {f}")
        self._h = h
        self.dim = int(h["dim"])
        self.dtype = str(h["dtype"])
        self.lists = int(h["lists"])
        self.nprobe = int(h["nprobe"])
        self.exact_below = int(h["exact_below"])
        n, base, gen = int(h["rows"]), int(h["base_rows"]), int(h["generation"])
        self._n, self._base = n, base
        try:
            self._cents = np.load(f / "centroids.npy")
            self._scale = np.load(f / "scale.npy")
            self._vecs = _map(f / "vecs.bin", _DTYPES[self.dtype], (n, self.dim))
            self._keys = _map(f / "keys.bin", np.int64, (n,))
            self._days = _map(f / "days.bin", np.int32, (n,))
            assign = _map(f / "assign.bin", np.int32, (n,))
            dead = np.fromfile(f / "dead.bin", dtype=np.int64, count=int(h["dead"]))
            self._offsets = np.fromfile(f / f"offsets.{gen}.bin", dtype=np.int64)
            self._members = _map(f / f"members.{gen}.bin", np.int64, (int(self._offsets[-1]),))
            self._sorted_keys = _map(f / f"sortedkeys.{gen}.bin", np.int64, (len(self._members),))
            self._keyrows = _map(f / f"keyrows.{gen}.bin", np.int64, (len(self._members),))
        except (OSError, ValueError, IndexError) as e:
            raise StoreError(f"vector index {f} is damaged or incomplete: {e}") from e
        if len(dead) != int(h["dead"]) or len(self._offsets) != self.lists + 1:
            raise StoreError(f"vector index {f} is damaged: short dead.bin or offsets")
        self._alive = np.ones(n, dtype=bool)
        self._alive[dead] = False
        self._n_dead = len(dead)
        # The tail: rows appended since the CSR was written, grouped here (it stays small).
        tail_assign = np.asarray(assign[base:])
        order = np.argsort(tail_assign, kind="stable")
        self._tail_rows = (base + order).astype(np.int64)
        self._tail_offsets = np.searchsorted(
            tail_assign[order], np.arange(max(self.lists, 1) + 1), side="left"
        ).astype(np.int64)
        tail_keys = np.asarray(self._keys[base:])
        korder = np.argsort(tail_keys, kind="stable")
        self._tail_sorted_keys = tail_keys[korder]
        self._tail_keyrows = (base + korder).astype(np.int64)
        self._day_cum: tuple[int, np.ndarray] | None = None
        self._blas: object = getattr(self, "_blas", None)

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n - self._n_dead

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int | np.integer):
            return False
        return bool(self._rows_of(np.array([int(key)], np.int64))[0] >= 0)

    def keys(self) -> np.ndarray:
        """Live keys in row order (the order `days()` and `nearest_earlier()` follow)."""
        return np.asarray(self._keys)[self._alive]

    def days(self) -> np.ndarray:
        """The day of each live row, aligned with `keys()`."""
        return np.asarray(self._days)[self._alive]

    def vector(self, key: int) -> np.ndarray:
        """The stored (decoded) vector of one key; KeyError when absent."""
        out: np.ndarray = self.vectors([key])[0]
        return out

    def vectors(self, keys: Iterable[int]) -> np.ndarray:
        """Stored (decoded) vectors of these keys, in the order given; KeyError for a missing key."""
        rows = self._require_rows(keys)
        return self._decode(rows)

    @property
    def needs_rebuild(self) -> bool:
        """True when the index has outgrown its centroids (rebuild with `build()` then)."""
        return len(self) >= self.exact_below and self.lists < default_lists(len(self)) // 2

    # -- updates ---------------------------------------------------------------------------

    def add(self, keys: np.ndarray, vecs: np.ndarray, days: np.ndarray) -> None:
        """Append rows; a key already present gets the new vector and day (old row tombstoned)."""
        k_arr, x, d_arr = _check_rows(keys, vecs, days, self.dim)
        if len(np.unique(k_arr)) != len(k_arr):
            raise ValueError("duplicate keys in one add() call")
        m = len(k_arr)
        if m == 0:
            return
        old = self._rows_of(k_arr)
        assign = _assign(x, self._cents) if self.lists else np.zeros(m, np.int32)
        f, n = self.folder, self._n
        _append(f / "vecs.bin", n * self.dim * _itemsize(self.dtype), _encode(x, self.dtype, self._scale))
        _append(f / "keys.bin", n * 8, k_arr)
        _append(f / "days.bin", n * 4, d_arr)
        _append(f / "assign.bin", n * 4, assign)
        self._commit(n + m, old[old >= 0])

    def remove(self, keys: Iterable[int]) -> int:
        """Tombstone these keys (missing ones are ignored); returns how many were removed."""
        k_arr = np.unique(np.asarray(list(keys), dtype=np.int64))
        rows = self._rows_of(k_arr)
        rows = rows[rows >= 0]
        if len(rows):
            self._commit(self._n, rows)
        return len(rows)

    def _commit(self, n_rows: int, new_dead: np.ndarray) -> None:
        f = self.folder
        _append(f / "dead.bin", self._n_dead * 8, new_dead.astype(np.int64))
        h = dict(self._h, rows=n_rows, dead=self._n_dead + len(new_dead))
        _write_header(f, h)
        self._load()
        if self._n - self._base > max(50_000, self._base // 8):
            self.compact()

    def compact(self) -> None:
        """Fold the tail into the on-disk CSR and key lookup (a new generation; vectors stay)."""
        rows = np.flatnonzero(self._alive).astype(np.int64)
        assign = np.asarray(_map(self.folder / "assign.bin", np.int32, (self._n,)))[rows]
        order = np.lexsort((np.asarray(self._days)[rows], assign))
        members = rows[order]
        offsets = np.zeros(self.lists + 1, np.int64)
        np.cumsum(np.bincount(assign, minlength=self.lists), out=offsets[1:])
        gen = _next_generation(self.folder)
        # The new CSR covers every row below base_rows; dead ones are simply left out of it.
        _write_csr(self.folder, gen, offsets, members, np.asarray(self._keys)[members])
        _write_header(self.folder, dict(self._h, base_rows=self._n, generation=gen))
        _remove_stale_generations(self.folder, gen)
        self._load()

    # -- search ----------------------------------------------------------------------------

    def search(
        self,
        q: np.ndarray,
        k: int = 10,
        *,
        nprobe: int | None = None,
        before_day: np.ndarray | None = None,
        exclude: Iterable[int] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k most similar live rows per query: (keys, sims), each (m, k); -1 / -inf pad.

        `before_day` (one day per query) keeps rows dated strictly earlier; `exclude` drops
        these keys from every answer (e.g. the query paper itself).
        """
        qv = np.ascontiguousarray(q, dtype=np.float32).reshape(-1, self.dim)
        limit = None if before_day is None else _limits(before_day, len(qv))
        ex = np.unique(np.asarray(list(exclude or ()), dtype=np.int64))
        extra = len(ex)
        keys, sims = self._scan(lambda s, e: qv[s:e], len(qv), limit, k + extra, nprobe)
        if extra:
            drop = np.isin(keys, ex)
            keys, sims = _compact_rows(keys, sims, drop, k)
        return keys, sims

    def nearest_earlier(
        self,
        keys: Iterable[int] | None = None,
        k: int = 10,
        *,
        nprobe: int | None = None,
        chunk: int | None = None,
        threads: int = 1,
        helpers: ScanHelpers | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each key (default: every live row, in `keys()` order), the k nearest live rows
        dated strictly earlier: (neighbour keys (m, k) -1 pad, sims (m, k), n_earlier (m,)),
        where n_earlier counts the live rows strictly earlier (for a "too little history" rule).
        `chunk` caps the queries held at once (memory); `threads` > 1 scans lists in parallel;
        `helpers` (`ScanHelpers` of this index) take shares of the lists in other processes,
        with the same answer to the last bit.
        """
        rows = np.flatnonzero(self._alive) if keys is None else self._require_rows(keys)
        limit = np.asarray(self._days[rows], dtype=np.int64)
        nb, sims = self._scan(
            lambda s, e: self._decode(rows[s:e]), len(rows), limit, k, nprobe, chunk, threads,
            helpers if helpers is not None and helpers.serves(self) else None, rows,
        )  # fmt: skip
        return nb, sims, self.count_before(limit)

    def count_before(self, days: np.ndarray) -> np.ndarray:
        """How many live rows are dated strictly before each of these days."""
        if self._day_cum is None:
            d = np.asarray(self._days)[self._alive].astype(np.int64)
            lo = int(d.min()) if len(d) else 0
            counts = np.bincount(d - lo) if len(d) else np.zeros(0, np.int64)
            self._day_cum = (lo, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
        lo, cum = self._day_cum
        idx = np.clip(np.asarray(days, dtype=np.int64) - lo, 0, len(cum) - 1)
        return cum[idx]

    # -- the engine ------------------------------------------------------------------------

    def _scan(
        self,
        get_q: Callable[[int, int], np.ndarray],
        m: int,
        limit: np.ndarray | None,
        k: int,
        nprobe: int | None,
        chunk: int | None = None,
        threads: int = 1,
        helpers: ScanHelpers | None = None,
        query_rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        with self._one_blas_thread():
            return self._scan_lists(get_q, m, limit, k, nprobe, chunk, threads, helpers, query_rows)

    def _one_blas_thread(self) -> AbstractContextManager[object]:
        """Hold BLAS to one thread while scanning (threadpoolctl, when installed): the
        products are small, and a threaded BLAS spends more on waking threads than it gains
        (10x slower on a busy 2-core machine)."""
        if self._blas is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                self._blas = False
            else:
                self._blas = ThreadpoolController()
        if self._blas is False:
            return nullcontext()
        limit = getattr(self._blas, "limit")
        return cast(AbstractContextManager[object], limit(limits=1, user_api="blas"))

    def _scan_lists(
        self,
        get_q: Callable[[int, int], np.ndarray],
        m: int,
        limit: np.ndarray | None,
        k: int,
        nprobe: int | None,
        chunk: int | None = None,
        threads: int = 1,
        helpers: ScanHelpers | None = None,
        query_rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """List-major scan: per chunk of queries, each probed segment is decoded once and
        multiplied by all queries that probe it; each keeps its top k per segment. With
        `helpers` (and the queries' own `query_rows`), the segments of a chunk are shared
        out between this process and the helper processes."""
        out_k = np.full((m, k), -1, dtype=np.int64)
        out_s = np.full((m, k), -np.inf, dtype=np.float32)
        if m == 0 or k <= 0 or len(self) == 0:
            return out_k, out_s
        exact = len(self) < self.exact_below or self.lists == 0
        p = self.nprobe if nprobe is None else max(1, int(nprobe))
        if not exact and p >= self.lists:
            p = self.lists
        n_seg = -(-self._n // _EXACT_BLOCK) if exact else self.lists
        if exact:
            p = n_seg
        if m <= _FEW_QUERIES:
            for i in range(m):
                q = np.ascontiguousarray(get_q(i, i + 1), dtype=np.float32)
                lim = None if limit is None else limit[i : i + 1]
                out_k[i], out_s[i] = self._scan_one(q, lim, k, p, exact)
            return out_k, out_s
        c = max(1, min(m, chunk or m, _CAND_BUDGET // max(1, p * k)))
        pool = ThreadPoolExecutor(threads) if threads > 1 else None
        try:
            for s in range(0, m, c):
                e = min(m, s + c)
                shared = helpers is not None and query_rows is not None and helpers.usable
                q = np.ascontiguousarray(get_q(s, e), dtype=np.float32)
                lim = None if limit is None else limit[s:e]
                if exact or p >= self.lists:
                    probes = np.broadcast_to(np.arange(p, dtype=np.int64), (e - s, p))
                elif shared:
                    assert helpers is not None and query_rows is not None
                    probes = self._shared_probes(q, query_rows[s:e], p, helpers)
                else:
                    probes = self._probes(q, p)
                groups = _by_segment(probes)
                cand_r = np.full((e - s, p * k), -1, dtype=np.int64)
                cand_s = np.full((e - s, p * k), -np.inf, dtype=np.float32)
                jobs: np.ndarray = np.arange(len(groups[2]) - 1)
                handed: list[tuple[np.ndarray, Future[_Part]]] = []
                if shared:
                    assert helpers is not None and query_rows is not None
                    parts = _share(self._job_costs(groups, exact), helpers.count + 1)
                    jobs = parts[0]
                    handed = [(part, helpers.submit(query_rows[s:e], lim, probes, k, p, exact, part))
                              for part in parts[1:] if len(part)]
                self._scan_jobs(groups, jobs, exact, q, lim, k, p, cand_r, cand_s, pool)
                for part, job in handed:
                    got = helpers.result(job) if helpers is not None else None
                    if got is None:  # the helper is gone: its share is scanned here
                        self._scan_jobs(groups, part, exact, q, lim, k, p, cand_r, cand_s, pool)
                    else:
                        qi, slot, part_r, part_s = got
                        cand_r.reshape(e - s, p, k)[qi, slot] = part_r
                        cand_s.reshape(e - s, p, k)[qi, slot] = part_s
                out_k[s:e], out_s[s:e] = self._best(cand_r, cand_s, k)
        finally:
            if pool is not None:
                pool.shutdown()
        return out_k, out_s

    def _probes(self, q: np.ndarray, p: int) -> np.ndarray:
        """The p best lists of each query, scored in blocks of `_PROBE_BLOCK` queries (bounded memory, and the same
        products whichever process computes a block)."""
        out = np.empty((len(q), p), dtype=np.int64)
        for b in range(0, len(q), _PROBE_BLOCK):
            cs = q[b : b + _PROBE_BLOCK] @ self._cents.T
            np.negative(cs, out=cs)
            out[b : b + _PROBE_BLOCK] = np.argpartition(cs, p - 1, axis=1)[:, :p]
        return out

    def _shared_probes(self, q: np.ndarray, query_rows: np.ndarray, p: int, helpers: ScanHelpers) -> np.ndarray:
        """`_probes`, its blocks shared out between this process and the helpers."""
        blocks = -(-len(q) // _PROBE_BLOCK)
        cuts = [_PROBE_BLOCK * (blocks * i // (helpers.count + 1)) for i in range(helpers.count + 2)]
        cuts[-1] = len(q)
        handed = [(a, b, helpers.submit_probes(query_rows[a:b], p)) for a, b in zip(cuts[1:-1], cuts[2:]) if b > a]
        out = np.empty((len(q), p), dtype=np.int64)
        out[: cuts[1]] = self._probes(q[: cuts[1]], p)
        for a, b, job in handed:
            got = helpers.result(job)
            out[a:b] = self._probes(q[a:b], p) if got is None else got
        return out

    def _scan_jobs(
        self,
        groups: tuple[np.ndarray, np.ndarray, np.ndarray],
        jobs: np.ndarray,
        exact: bool,
        q: np.ndarray,
        lim: np.ndarray | None,
        k: int,
        p: int,
        cand_r: np.ndarray,
        cand_s: np.ndarray,
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        """Scan the segments `jobs` (positions in `groups`, from `_by_segment`) for the queries that probe them."""
        order, seg_sorted, bounds = groups

        def one(j: int) -> None:
            pairs = order[bounds[j] : bounds[j + 1]]
            self._scan_segment(
                int(seg_sorted[bounds[j]]), exact, q, lim, pairs // p, pairs % p, k, cand_r, cand_s,
            )  # fmt: skip

        if pool is None:
            for j in jobs.tolist():
                one(j)
        else:
            list(pool.map(one, jobs.tolist()))

    def _job_costs(self, groups: tuple[np.ndarray, np.ndarray, np.ndarray], exact: bool) -> np.ndarray:
        """The work of each segment of `groups`: the queries probing it times its rows."""
        _, seg_sorted, bounds = groups
        segs = seg_sorted[bounds[:-1]]
        if exact:
            sizes = np.minimum(self._n, (segs + 1) * _EXACT_BLOCK) - segs * _EXACT_BLOCK
        else:
            sizes = (self._offsets[segs + 1] - self._offsets[segs]) + (
                self._tail_offsets[segs + 1] - self._tail_offsets[segs]
            )
        out: np.ndarray = np.diff(bounds) * np.maximum(sizes, 1)
        return out

    def _scan_part(
        self, query_rows: np.ndarray, lim: np.ndarray | None, probes: np.ndarray, k: int, p: int, exact: bool,
        jobs: np.ndarray,
    ) -> _Part:
        """A helper's share of one chunk: the segments `jobs` for these queries, as (query, probe slot) pairs with
        their k candidates, exactly as `_scan_lists` would have written them."""
        with self._one_blas_thread():
            q = np.ascontiguousarray(self._decode(query_rows), dtype=np.float32)
            groups = _by_segment(probes)
            cand_r = np.full((len(q), p * k), -1, dtype=np.int64)
            cand_s = np.full((len(q), p * k), -np.inf, dtype=np.float32)
            self._scan_jobs(groups, jobs, exact, q, lim, k, p, cand_r, cand_s)
        order, _, bounds = groups
        pairs = np.concatenate([order[bounds[j] : bounds[j + 1]] for j in jobs.tolist()])
        qi, slot = pairs // p, pairs % p
        return qi, slot, cand_r.reshape(len(q), p, k)[qi, slot], cand_s.reshape(len(q), p, k)[qi, slot]

    def _scan_segment(
        self,
        seg: int,
        exact: bool,
        q: np.ndarray,
        lim: np.ndarray | None,
        qi: np.ndarray,
        slot: np.ndarray,
        k: int,
        cand_r: np.ndarray,
        cand_s: np.ndarray,
    ) -> None:
        """Score one segment against the queries that probe it; write each query's top k
        into its slot. With a day limit, rows are taken in day order and queries in blocks of
        rising limit, so a block multiplies only the prefix of rows it may see."""
        rows = self._segment_rows(seg, exact)
        if len(rows) == 0:
            return
        vecs = self._decode(rows)
        if self._n_dead:
            alive = self._alive[rows]
            if not alive.all():
                rows, vecs = rows[alive], vecs[alive]
        blocks: list[tuple[np.ndarray, np.ndarray, int, np.ndarray | None]]
        if lim is None:
            blocks = [(qi, slot, len(rows), None)]
        else:
            rd = np.asarray(self._days[rows], dtype=np.int64)
            if len(rd) > 1 and (rd[1:] < rd[:-1]).any():
                o = np.argsort(rd, kind="stable")
                rows, vecs, rd = rows[o], vecs[o], rd[o]
            ql = lim[qi]
            qo = np.argsort(ql, kind="stable")
            step = max(32, -(-len(qo) // 8))
            blocks = []
            for b0 in range(0, len(qo), step):
                sel = qo[b0 : b0 + step]
                ncol = int(np.searchsorted(rd, ql[sel].max(), side="left"))
                if ncol:
                    blocks.append((qi[sel], slot[sel], ncol, rd[:ncol]))
        for bq, bslot, ncol, bd in blocks:
            sims = q[bq] @ vecs[:ncol].T
            if bd is not None and lim is not None:
                sims[bd[None, :] >= lim[bq][:, None]] = -np.inf
            kk = min(k, ncol)
            if kk < ncol:
                part = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
                ps = np.take_along_axis(sims, part, axis=1)
            else:
                part, ps = np.broadcast_to(np.arange(kk), sims.shape), sims
            cols = bslot[:, None] * k + np.arange(kk)[None, :]
            cand_r[bq[:, None], cols] = rows[part]
            cand_s[bq[:, None], cols] = ps

    def _scan_one(
        self, q: np.ndarray, lim: np.ndarray | None, k: int, p: int, exact: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """One query: gather the rows of its probed lists, one product, one top k."""
        if exact:
            rows = np.arange(self._n, dtype=np.int64)
        else:
            cs = (q @ self._cents.T)[0]
            probes = np.argpartition(-cs, p - 1)[:p] if p < self.lists else range(self.lists)
            rows = np.concatenate([self._segment_rows(int(g), False) for g in probes])
        rows = np.sort(rows)
        sims = self._dot_rows(rows, q[0])[None, :]
        if self._n_dead:
            sims[:, ~self._alive[rows]] = -np.inf
        if lim is not None:
            sims[:, np.asarray(self._days[rows]) >= lim[0]] = -np.inf
        return self._best(rows[None, :], sims, k)

    def _dot_rows(self, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The stored vectors of these (sorted) rows times one query, in float32. The per-dimension scale of int8
        codes goes on the query, not on every code, and the rows are read a block at a time, so no decoded copy
        of them all passes through memory (at 2.9M papers a `similar` reads ~32,000 rows: 14.7 -> 5.4 ms; the
        sums agree with decoding first to float32 rounding, 1e-7)."""
        qv = (q * self._scale).astype(np.float32) if self.dtype == "int8" else q.astype(np.float32)
        out = np.empty(len(rows), dtype=np.float32)
        for s in range(0, len(rows), _DOT_BLOCK):
            out[s : s + _DOT_BLOCK] = self._codes(rows[s : s + _DOT_BLOCK]).astype(np.float32) @ qv
        return out

    def _best(self, rows: np.ndarray, sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Best k candidates per query: similarity descending, then key ascending; -1/-inf pad."""
        sims = np.where(rows >= 0, sims, -np.inf)
        kk = min(k, sims.shape[1])
        if kk < sims.shape[1]:
            part = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
            rows = np.take_along_axis(rows, part, axis=1)
            sims = np.take_along_axis(sims, part, axis=1)
        ok = np.isfinite(sims)
        keys = np.where(ok, np.asarray(self._keys)[np.where(ok, rows, 0)], -1)
        order = np.lexsort((keys, -sims), axis=1)
        keys = np.take_along_axis(keys, order, axis=1)
        sims = np.take_along_axis(sims, order, axis=1)
        out_k = np.full((len(rows), k), -1, dtype=np.int64)
        out_s = np.full((len(rows), k), -np.inf, dtype=np.float32)
        ok = np.isfinite(sims)
        out_k[:, :kk] = np.where(ok, keys, -1)
        out_s[:, :kk] = np.where(ok, sims, -np.inf)
        return out_k, out_s

    def _segment_rows(self, seg: int, exact: bool) -> np.ndarray:
        if exact:
            return np.arange(seg * _EXACT_BLOCK, min(self._n, (seg + 1) * _EXACT_BLOCK))
        base = self._members[self._offsets[seg] : self._offsets[seg + 1]]
        tail = self._tail_rows[self._tail_offsets[seg] : self._tail_offsets[seg + 1]]
        return np.concatenate([np.asarray(base), tail]) if len(tail) else np.asarray(base)

    def _codes(self, rows: np.ndarray) -> np.ndarray:
        """The stored codes of these rows (a contiguous run is sliced, not gathered)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1):
            return np.asarray(self._vecs[int(rows[0]) : int(rows[-1]) + 1])
        return np.asarray(self._vecs[rows])

    def _decode(self, rows: np.ndarray) -> np.ndarray:
        """Stored vectors of these rows as float32."""
        out = self._codes(rows).astype(np.float32)
        if self.dtype == "int8":
            out *= self._scale
        return out

    def _rows_of(self, keys: np.ndarray) -> np.ndarray:
        """The live row of each key, -1 where absent (the newest row wins in the tail)."""
        res = np.full(len(keys), -1, dtype=np.int64)
        if len(keys) == 0:
            return res
        for sk, kr, side in (
            (self._tail_sorted_keys, self._tail_keyrows, "right"),
            (self._sorted_keys, self._keyrows, "left"),
        ):
            if len(sk) == 0:
                continue
            pos = np.searchsorted(sk, keys, side=side)  # type: ignore[call-overload]
            if side == "right":
                pos = pos - 1
            pos = np.clip(pos, 0, len(sk) - 1)
            hit = (np.asarray(sk[pos]) == keys) & (res < 0)
            rows = np.asarray(kr[pos])
            hit &= self._alive[np.where(hit, rows, 0)]
            res[hit] = rows[hit]
        return res

    def _require_rows(self, keys: Iterable[int]) -> np.ndarray:
        k_arr = np.asarray(list(keys) if not isinstance(keys, np.ndarray) else keys, np.int64)
        rows = self._rows_of(k_arr)
        if (rows < 0).any():
            raise KeyError(int(k_arr[np.flatnonzero(rows < 0)[0]]))
        return rows


# -- helper processes ------------------------------------------------------------------------

_Part = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # query, probe slot, k keys' rows, k sims per pair
T = TypeVar("T")


class ScanHelpers:
    """Processes that take shares of `nearest_earlier`'s scan, or whole scans (`submit_nearest_earlier`), each over
    the same index snapshot (its files mapped read-only): the scan is numpy calls between lines of Python, which one
    process runs on one core.

        with ScanHelpers(idx, 1) as helpers:
            nb, sims, n_earlier = idx.nearest_earlier(keys, helpers=helpers)

    Should a helper die, its share is scanned in the calling process (and the helpers are not used again).
    """

    def __init__(self, index: IvfIndex, count: int) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        self.count = max(1, int(count))
        self._folder, self._header = index.folder.resolve(), dict(index._h)
        # spawn, not fork: the caller holds SQLite connections and threads a fork would copy mid-use
        self._ex = ProcessPoolExecutor(self.count, mp_context=get_context("spawn"), initializer=_helper_start,
                                       initargs=(str(self._folder), self._header))
        self.usable = True

    def serves(self, index: IvfIndex) -> bool:
        """Whether these helpers have `index` open as it is now (same folder, same header)."""
        return self.usable and index.folder.resolve() == self._folder and index._h == self._header

    def submit(self, query_rows: np.ndarray, lim: np.ndarray | None, probes: np.ndarray, k: int, p: int,
               exact: bool, jobs: np.ndarray) -> Future[_Part]:
        return self._submit(_helper_scan, np.asarray(query_rows), lim, np.ascontiguousarray(probes), k, p, exact,
                            jobs)

    def submit_probes(self, query_rows: np.ndarray, p: int) -> Future[np.ndarray]:
        return self._submit(_helper_probes, np.asarray(query_rows), p)

    def submit_nearest_earlier(self, keys: np.ndarray, k: int, nprobe: int | None
                               ) -> Future[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """A whole `nearest_earlier(keys, k, nprobe=nprobe)` in one helper, while the caller does other work (the
        same answer as the caller's own to the last bit: the same code over the same files)."""
        return self._submit(_helper_nearest_earlier, np.asarray(keys, dtype=np.int64), k, nprobe)

    def _submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._ex.submit(fn, *args)
        except BrokenProcessPool as e:  # a helper died earlier: the answer says so, and the caller scans it
            self.usable = False
            failed: Future[T] = Future()
            failed.set_exception(e)
            return failed

    def result(self, job: Future[T]) -> T | None:
        """A share's answer; None when the helper process is gone."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return job.result()
        except BrokenProcessPool:
            self.usable = False
            return None

    def close(self) -> None:
        self._ex.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ScanHelpers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_HELPER_INDEX: IvfIndex | None = None


def _helper_start(folder: str, header: dict[str, object]) -> None:
    global _HELPER_INDEX
    _HELPER_INDEX = IvfIndex(Path(folder), header)


def _helper_scan(query_rows: np.ndarray, lim: np.ndarray | None, probes: np.ndarray, k: int, p: int, exact: bool,
                 jobs: np.ndarray) -> _Part:
    assert _HELPER_INDEX is not None
    return _HELPER_INDEX._scan_part(query_rows, lim, probes, k, p, exact, jobs)


def _helper_nearest_earlier(keys: np.ndarray, k: int, nprobe: int | None
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    assert _HELPER_INDEX is not None
    return _HELPER_INDEX.nearest_earlier(keys, k, nprobe=nprobe)


def _helper_probes(query_rows: np.ndarray, p: int) -> np.ndarray:
    assert _HELPER_INDEX is not None
    with _HELPER_INDEX._one_blas_thread():
        return _HELPER_INDEX._probes(np.ascontiguousarray(_HELPER_INDEX._decode(query_rows), dtype=np.float32), p)


def _by_segment(probes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (query, probe slot) pairs of a chunk grouped by segment: (pair order, segments in that order, bounds of
    each segment's run); pair i*p + j is query i's j-th probe."""
    flat = np.ascontiguousarray(probes).ravel()
    order = np.argsort(flat, kind="stable")
    seg_sorted = flat[order]
    bounds = np.flatnonzero(np.r_[True, seg_sorted[1:] != seg_sorted[:-1], True])
    return order, seg_sorted, bounds


def _share(costs: np.ndarray, parts: int) -> list[np.ndarray]:
    """Job positions split into `parts` runs of about equal cost (in job order: neighbouring segments)."""
    if parts <= 1 or len(costs) == 0:
        return [np.arange(len(costs))]
    cum = np.cumsum(costs, dtype=np.float64)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, parts) / parts, side="left")
    return np.split(np.arange(len(costs)), cuts)


# -- helpers ---------------------------------------------------------------------------------


def _check_rows(
    keys: np.ndarray, vecs: np.ndarray, days: np.ndarray, dim: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k_arr = np.asarray(keys, dtype=np.int64).reshape(-1)
    x = np.ascontiguousarray(vecs, dtype=np.float32)
    if x.ndim != 2:
        x = x.reshape(len(k_arr), -1) if dim is None else x.reshape(-1, dim)
    d_arr = np.asarray(days, dtype=np.int32).reshape(-1)
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"vectors have {x.shape[1]} dimensions, the index {dim}")
    if not len(k_arr) == len(x) == len(d_arr):
        raise ValueError(f"{len(k_arr)} keys, {len(x)} vectors and {len(d_arr)} days")
    if len(k_arr) and k_arr.min() < 0:
        raise ValueError("vector keys must be >= 0")
    return k_arr, x, d_arr


def _limits(before_day: np.ndarray, m: int) -> np.ndarray:
    lim = np.asarray(before_day, dtype=np.int64).reshape(-1)
    if len(lim) == 1 and m != 1:
        lim = np.repeat(lim, m)
    if len(lim) != m:
        raise ValueError(f"{m} queries but {len(lim)} before_day values")
    return lim


def _compact_rows(
    keys: np.ndarray, sims: np.ndarray, drop: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Remove dropped entries from each row, keeping order, and cut to k columns."""
    sims = np.where(drop, -np.inf, sims)
    keys = np.where(drop, -1, keys)
    order = np.argsort(drop, axis=1, kind="stable")
    return np.take_along_axis(keys, order, axis=1)[:, :k], np.take_along_axis(sims, order, axis=1)[:, :k]


def _kmeans(x: np.ndarray, k: int, iterations: int, rng: np.random.Generator) -> np.ndarray:
    """Spherical k-means (centroids renormalised); empty lists restart at random rows."""
    cents = x[rng.choice(len(x), size=k, replace=False)].copy()
    for _ in range(iterations):
        a = _assign(x, cents)
        sums = np.zeros_like(cents)
        _sum_by(sums, a, x)
        counts = np.bincount(a, minlength=k)
        empty = np.flatnonzero(counts == 0)
        sums[empty] = x[rng.choice(len(x), size=len(empty), replace=False)]
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        cents = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
    return cents


def _sum_by(out: np.ndarray, labels: np.ndarray, x: np.ndarray) -> None:
    order = np.argsort(labels, kind="stable")
    sl = labels[order]
    starts = np.flatnonzero(np.r_[True, sl[1:] != sl[:-1]])
    out[sl[starts]] = np.add.reduceat(x[order], starts, axis=0)


def _assign(x: np.ndarray, cents: np.ndarray, block: int = 16_384) -> np.ndarray:
    out = np.empty(len(x), dtype=np.int32)
    for s in range(0, len(x), block):
        out[s : s + block] = np.argmax(x[s : s + block] @ cents.T, axis=1)
    return out


def _encode(x: np.ndarray, dtype: str, scale: np.ndarray) -> np.ndarray:
    out: np.ndarray = (
        np.clip(np.rint(x / scale), -127, 127).astype(np.int8)
        if dtype == "int8"
        else x.astype(np.float16)
    )
    return out


def _itemsize(dtype: str) -> int:
    return int(np.dtype(_DTYPES[dtype]).itemsize)


def _map(path: Path, dtype: type | np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only memory map of the first `shape` items of a file (bytes past it ignored)."""
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)
    out: np.ndarray = np.memmap(path, dtype=dtype, mode="r", shape=shape)
    return out


def _append(path: Path, offset: int, data: np.ndarray) -> None:
    """Write `data` at `offset` (past the committed rows), cut anything after it, and sync."""
    with open(path, "r+b" if path.exists() else "w+b") as f:
        f.seek(offset)
        f.write(np.ascontiguousarray(data).tobytes())
        f.truncate()
        f.flush()
        os.fsync(f.fileno())


def _write_header(folder: Path, header: dict[str, object]) -> None:
    tmp = folder / "header.json.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(header, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / "header.json")
    _sync_dir(folder)


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _next_generation(folder: Path) -> int:
    try:
        h = json.loads((folder / "header.json").read_text(encoding="utf-8"))
        return int(h.get("generation", 0)) + 1
    except (OSError, ValueError):
        return 1


def _write_csr(
    folder: Path,
    gen: int,
    offsets: np.ndarray,
    members: np.ndarray,
    member_keys: np.ndarray,
) -> None:
    """Write one generation's list CSR and key lookup (rows sorted by key), synced."""
    korder = np.argsort(member_keys, kind="stable")
    for name, arr in (
        ("offsets", offsets.astype(np.int64)),
        ("members", members.astype(np.int64)),
        ("sortedkeys", member_keys[korder].astype(np.int64)),
        ("keyrows", members[korder].astype(np.int64)),
    ):
        path = folder / f"{name}.{gen}.bin"
        with open(path, "wb") as f:
            f.write(arr.tobytes())
            f.flush()
            os.fsync(f.fileno())


def _remove_stale_generations(folder: Path, keep: int) -> None:
    for p in folder.glob("*.bin"):
        parts = p.name.split(".")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) != keep:
            p.unlink(missing_ok=True)
