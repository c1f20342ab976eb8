"""A vector index keyed by integers: exact numpy search when small, HNSW (hnswlib) when large.

Vectors are expected L2-normalised, so inner product is cosine similarity. The index keeps
its own float32 copy of every vector (exact search and rebuilds need them); the HNSW graph
is built once the index reaches `exact_below` vectors and then kept up to date on every
add/remove. `save(path)` writes `path` (keys + vectors, numpy .npz) and, when a graph
exists, `path + ".hnsw"` beside it.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from paperscope.errors import ConfigError, StoreError

Allowed = Callable[[int], bool] | np.ndarray | Iterable[int] | None
"""A search filter: None (all), a predicate on keys, a bool mask aligned with `keys()`, or keys."""

EXACT_BELOW = 20_000
_FORMAT = "paperscope-vectors-1"


def hnswlib_module() -> Any:
    """Import hnswlib lazily, with a one-line error that names the package."""
    try:
        import hnswlib
    except ImportError as e:
        raise ConfigError(
            "approximate vector search needs the 'hnswlib' package: pip install hnswlib"
        ) from e
    return hnswlib


def top_k(sims: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best k per row of a (q, n) similarity block; ties broken by smaller key, -1/-inf pad."""
    q, n = sims.shape
    out_k = np.full((q, k), -1, dtype=np.int64)
    out_s = np.full((q, k), -np.inf, dtype=np.float32)
    if n == 0 or k == 0:
        return out_k, out_s
    kk = min(k, n)
    if kk < n:
        part = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    else:
        part = np.broadcast_to(np.arange(n), (q, n))
    ps = np.take_along_axis(sims, part, axis=1)
    pk = keys[part]
    # lexsort's last key is primary: by similarity descending, then key ascending.
    order = np.lexsort((pk, -ps), axis=1)
    ps = np.take_along_axis(ps, order, axis=1)
    pk = np.take_along_axis(pk, order, axis=1)
    valid = np.isfinite(ps)
    out_k[:, :kk] = np.where(valid, pk, -1)
    out_s[:, :kk] = np.where(valid, ps, -np.inf)
    return out_k, out_s


class VectorIndex:
    """Nearest-neighbour search over (int key, unit vector) pairs, updated in place."""

    def __init__(
        self,
        dim: int,
        model: str = "",
        exact_below: int = EXACT_BELOW,
        m: int = 16,
        ef_construction: int = 100,
        ef_search: int = 64,
        threads: int = 0,
    ) -> None:
        self.dim = dim
        self.model = model
        self.exact_below = exact_below
        self.m = m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.threads = threads or (os.cpu_count() or 1)
        self._keys = np.empty(0, dtype=np.int64)
        self._vecs = np.empty((0, dim), dtype=np.float32)
        self._n = 0
        self._row: dict[int, int] = {}
        self._ann: Any = None
        self._ann_dead: set[int] = set()  # labels marked deleted in the graph

    def __len__(self) -> int:
        return self._n

    def __contains__(self, key: object) -> bool:
        return key in self._row

    def keys(self) -> np.ndarray:
        """Keys in row order (the order a bool `allowed` mask follows)."""
        return self._keys[: self._n].copy()

    def vectors(self, keys: Iterable[int]) -> np.ndarray:
        """The stored vectors of these keys, in the order given (KeyError for a missing key)."""
        rows = [self._row[int(k)] for k in keys]
        return self._vecs[rows].copy()

    @property
    def uses_ann(self) -> bool:
        """True once the HNSW graph is in use (the index reached `exact_below`)."""
        return self._ann is not None

    # -- updates ---------------------------------------------------------------------------

    def add(self, keys: Iterable[int], vecs: np.ndarray) -> None:
        """Add vectors under integer keys (>= 0); a key already present has its vector replaced."""
        k = np.asarray(list(keys) if not isinstance(keys, np.ndarray) else keys, dtype=np.int64)
        v = np.ascontiguousarray(vecs, dtype=np.float32).reshape(-1, self.dim)
        if len(k) != len(v):
            raise ValueError(f"{len(k)} keys but {len(v)} vectors")
        if len(k) and k.min() < 0:
            raise ValueError("vector keys must be >= 0")
        if len(np.unique(k)) != len(k):
            raise ValueError("duplicate keys in one add() call")
        self._reserve(self._n + len(k))
        existed = np.zeros(len(k), dtype=bool)
        for i, (key, vec) in enumerate(zip(k.tolist(), v)):
            row = self._row.get(key)
            existed[i] = row is not None
            if row is None:
                row = self._n
                self._row[key] = row
                self._keys[row] = key
                self._n += 1
            self._vecs[row] = vec
        if self._ann is not None:
            self._ann_add(k, v, existed)
        elif self._n >= self.exact_below:
            self._build_ann()

    def remove(self, keys: Iterable[int]) -> int:
        """Remove these keys (missing ones are ignored); returns how many were removed."""
        removed = 0
        for key in (int(x) for x in keys):
            row = self._row.pop(key, None)
            if row is None:
                continue
            last = self._n - 1
            if row != last:
                # Move the last row into the hole so the arrays stay dense.
                moved = int(self._keys[last])
                self._keys[row] = moved
                self._vecs[row] = self._vecs[last]
                self._row[moved] = row
            self._n -= 1
            removed += 1
            if self._ann is not None:
                self._ann.mark_deleted(key)
                self._ann_dead.add(key)
        return removed

    # -- search ----------------------------------------------------------------------------

    def search(
        self, vecs: np.ndarray, k: int = 10, allowed: Allowed = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k most similar stored vectors per query: (keys, sims), each (q, k); -1/-inf pad."""
        q = np.ascontiguousarray(vecs, dtype=np.float32).reshape(-1, self.dim)
        rows = self._allowed_rows(allowed)
        n_allowed = self._n if rows is None else len(rows)
        if self._ann is None or n_allowed < self.exact_below:
            return self._exact(q, k, rows)
        return self._ann_search(q, k, rows)

    def _allowed_rows(self, allowed: Allowed) -> np.ndarray | None:
        if allowed is None:
            return None
        keys = self._keys[: self._n]
        if callable(allowed):
            mask = np.fromiter((bool(allowed(int(x))) for x in keys), dtype=bool, count=self._n)
        elif isinstance(allowed, np.ndarray) and allowed.dtype == bool:
            if allowed.shape != (self._n,):
                raise ValueError(f"allowed mask has shape {allowed.shape}, index holds {self._n}")
            mask = allowed
        else:
            wanted = {int(x) for x in allowed}
            return np.array(sorted(self._row[x] for x in wanted if x in self._row), dtype=np.int64)
        return np.flatnonzero(mask)

    def _exact(
        self, q: np.ndarray, k: int, rows: np.ndarray | None, block: int = 1024
    ) -> tuple[np.ndarray, np.ndarray]:
        keys = self._keys[: self._n] if rows is None else self._keys[rows]
        base = self._vecs[: self._n] if rows is None else self._vecs[rows]
        out_k = np.full((len(q), k), -1, dtype=np.int64)
        out_s = np.full((len(q), k), -np.inf, dtype=np.float32)
        for s in range(0, len(q), block):
            out_k[s : s + block], out_s[s : s + block] = top_k(q[s : s + block] @ base.T, keys, k)
        return out_k, out_s

    def _ann_search(
        self, q: np.ndarray, k: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        kk = min(k, self._n)
        self._ann.set_ef(max(self.ef_search, kk))
        if rows is None:
            labels, dists = self._ann.knn_query(q, k=kk, num_threads=self.threads)
        else:
            allowed_keys = set(self._keys[rows].tolist())
            # hnswlib calls the filter from C++ under the GIL: one thread is as fast.
            labels, dists = self._ann.knn_query(
                q, k=kk, num_threads=1, filter=allowed_keys.__contains__
            )
        out_k = np.full((len(q), k), -1, dtype=np.int64)
        out_s = np.full((len(q), k), -np.inf, dtype=np.float32)
        out_k[:, :kk] = labels.astype(np.int64)
        out_s[:, :kk] = 1.0 - dists  # 'ip' space returns 1 - inner product
        return out_k, out_s

    # -- ANN upkeep ------------------------------------------------------------------------

    def _reserve(self, n: int) -> None:
        cap = len(self._keys)
        if n <= cap:
            return
        new_cap = max(n, int(cap * 1.5), 1024)
        keys = np.empty(new_cap, dtype=np.int64)
        vecs = np.empty((new_cap, self.dim), dtype=np.float32)
        keys[: self._n] = self._keys[: self._n]
        vecs[: self._n] = self._vecs[: self._n]
        self._keys, self._vecs = keys, vecs

    def _new_ann(self, capacity: int) -> Any:
        ann = hnswlib_module().Index(space="ip", dim=self.dim)
        ann.init_index(
            max_elements=capacity,
            M=self.m,
            ef_construction=self.ef_construction,
            random_seed=100,
            allow_replace_deleted=True,
        )
        return ann

    def _build_ann(self) -> None:
        ann = self._new_ann(max(int(self._n * 1.5), 1024))
        ann.add_items(self._vecs[: self._n], self._keys[: self._n], num_threads=self.threads)
        self._ann = ann
        self._ann_dead = set()

    def _ann_add(self, keys: np.ndarray, vecs: np.ndarray, existed: np.ndarray) -> None:
        ann = self._ann
        need = ann.get_current_count() + len(keys)
        if need > ann.get_max_elements():
            ann.resize_index(max(need, int(ann.get_max_elements() * 1.5)))
        fresh = ~existed  # a live key is updated in place by add_items
        for i in np.flatnonzero(fresh).tolist():
            key = int(keys[i])
            if key in self._ann_dead:
                self._ann_dead.discard(key)
                try:
                    # hnswlib refuses to update a deleted label: bring it back first.
                    ann.unmark_deleted(key)
                    fresh[i] = False
                except RuntimeError:
                    pass  # its slot was reused by another key; add it anew
        if (~fresh).any():
            ann.add_items(vecs[~fresh], keys[~fresh], num_threads=self.threads)
        if fresh.any():
            ann.add_items(vecs[fresh], keys[fresh], num_threads=self.threads, replace_deleted=True)

    # -- persistence -----------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to `path` (and `path.hnsw` when the graph exists), atomically."""
        p = Path(path)
        graph, gtmp = p.with_name(p.name + ".hnsw"), p.with_name(p.name + ".hnsw.tmp")
        checksum = None
        if self._ann is not None:
            self._ann.save_index(str(gtmp))
            checksum = _file_checksum(gtmp)
        meta = {
            "format": _FORMAT,
            "dim": self.dim,
            "model": self.model,
            "exact_below": self.exact_below,
            "m": self.m,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
            # Ties the graph file to these vectors: a stale or foreign graph is rebuilt.
            "graph_checksum": checksum,
        }
        tmp = p.with_name(p.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(
                f,
                meta=np.array(json.dumps(meta)),
                keys=self._keys[: self._n],
                vecs=self._vecs[: self._n],
            )
        if checksum is not None:
            os.replace(gtmp, graph)
        elif graph.exists():
            graph.unlink()
        os.replace(tmp, p)

    @classmethod
    def load(cls, path: str | os.PathLike[str], threads: int = 0) -> VectorIndex:
        """Read an index written by save(); rebuilds the graph if its file is missing or stale."""
        p = Path(path)
        try:
            with np.load(p, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                keys = z["keys"].astype(np.int64)
                vecs = z["vecs"].astype(np.float32)
        except (OSError, ValueError, KeyError) as e:
            raise StoreError(f"cannot read vector index {p}: {e}") from e
        if meta.get("format") != _FORMAT:
            raise StoreError(f"not a paperscope vector index (format {meta.get('format')!r}): {p}")
        idx = cls(
            dim=int(meta["dim"]),
            model=meta.get("model", ""),
            exact_below=int(meta["exact_below"]),
            m=int(meta["m"]),
            ef_construction=int(meta["ef_construction"]),
            ef_search=int(meta["ef_search"]),
            threads=threads,
        )
        idx._keys, idx._vecs, idx._n = keys, vecs, len(keys)
        idx._row = {int(x): i for i, x in enumerate(keys.tolist())}
        graph = p.with_name(p.name + ".hnsw")
        if idx._n >= idx.exact_below:
            want = meta.get("graph_checksum")
            if want and graph.exists() and _file_checksum(graph) == want:
                ann = hnswlib_module().Index(space="ip", dim=idx.dim)
                ann.load_index(str(graph), max_elements=0, allow_replace_deleted=True)
                idx._ann = ann
                idx._ann_dead = set(ann.get_ids_list()) - idx._row.keys()
            else:
                idx._build_ann()
        return idx


def _file_checksum(path: Path) -> str:
    """Size and CRC-32 of a file: cheap enough for a graph of a million vectors."""
    crc = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            crc = zlib.crc32(block, crc)
    return f"{path.stat().st_size}:{crc:08x}"
