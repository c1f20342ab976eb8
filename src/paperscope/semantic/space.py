"""The library's vectors held in memory: one matrix, the ids and dates beside it, and a nearest-neighbour index.

A long-running process (web app, MCP server, scheduler) builds it once; `Library.vectors()` rebuilds it only
when the library's embeddings change. The matrix can be memory-mapped from a cache file beside the library, so
a fresh process does not copy every vector out of SQLite.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperscope.semantic.index import VectorIndex

CACHE_FORMAT = 1


@dataclass(slots=True)
class VectorSpace:
    """Vectors of one model: `keys` (paper pk), `ids`, unit rows of `mat`, (first-submitted date, category)."""

    model: str
    version: int
    keys: np.ndarray
    ids: list[str]
    mat: np.ndarray
    meta: list[tuple[str, str]]
    index: VectorIndex
    row_of: dict[str, int] = field(default_factory=dict)
    id_of_key: dict[int, str] = field(default_factory=dict)
    _days: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not self.row_of:
            self.row_of = {i: r for r, i in enumerate(self.ids)}
        if not self.id_of_key:
            self.id_of_key = dict(zip(self.keys.tolist(), self.ids))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, arxiv_id: object) -> bool:
        return arxiv_id in self.row_of

    def vector(self, arxiv_id: str) -> np.ndarray:
        return np.asarray(self.mat[self.row_of[arxiv_id]])

    def rows(self, ids: list[str]) -> np.ndarray:
        return np.asarray(self.mat[[self.row_of[i] for i in ids]])

    def submitted_between(self, since: str, until: str | None = None) -> list[str]:
        """Ids first submitted on or after `since` (and on or before `until`), ISO dates; newest rows last."""
        if self._days is None:
            self._days = np.array([m[0][:10] if m[0] else "" for m in self.meta], dtype="U10")
        mask = self._days >= since[:10]
        if until:
            mask &= self._days <= until[:10]
        return [self.ids[i] for i in np.flatnonzero(mask)]

    def nearest(self, query: np.ndarray, k: int, *, exclude: frozenset[str] | set[str] = frozenset()
                ) -> list[tuple[str, float]]:
        """The k ids nearest to one query vector (cosine), best first, leaving out `exclude`."""
        if not len(self.ids) or k <= 0:
            return []
        keys, sims = self.index.search(np.asarray(query, dtype=np.float32)[None, :], k + len(exclude))
        out = []
        for kk, s in zip(keys[0].tolist(), sims[0].tolist()):
            i = self.id_of_key.get(int(kk)) if kk >= 0 else None
            if i is not None and i not in exclude:
                out.append((i, float(s)))
        return out[:k]


def update_index(index: VectorIndex, keys: np.ndarray, mat: np.ndarray, chunk: int = 65_536) -> int:
    """Bring a saved index to these keys and vectors in place: add new papers, replace re-embedded ones, drop
    removed ones (never a rebuild). Returns how many keys changed."""
    have = index.keys()
    gone = np.setdiff1d(have, keys, assume_unique=True)
    removed = index.remove(gone.tolist()) if len(gone) else 0
    present = np.isin(keys, have)
    todo = np.flatnonzero(~present)
    common = np.flatnonzero(present)
    changed = []
    for start in range(0, len(common), chunk):  # vectors of a new version of a paper
        rows = common[start:start + chunk]
        old = index.vectors(keys[rows].tolist())
        diff = np.any(old != np.asarray(mat[rows]), axis=1)
        changed.extend(rows[diff].tolist())
    rows = np.concatenate([todo, np.asarray(changed, dtype=np.int64)]).astype(np.int64)
    if len(rows):
        index.add(keys[rows], np.asarray(mat[rows]))
    return int(len(rows) + removed)


def build_index(model: str, keys: np.ndarray, mat: np.ndarray, index_file: Path | None) -> VectorIndex:
    """The saved index, extended to these keys when papers were added or re-embedded; a new one only when there
    is none (saved when a path is given)."""
    if index_file is not None and index_file.exists():
        try:
            index = VectorIndex.load(index_file)
            if index.model == model and (not len(keys) or index.dim == mat.shape[1]):
                if update_index(index, keys, mat) and index_file is not None:
                    try:
                        index.save(index_file)
                    except OSError:
                        pass
                return index
        except Exception:  # a damaged or old index file is only a cache: rebuild it
            pass
    index = VectorIndex(mat.shape[1] if len(keys) else 1, model=model)
    if len(keys):
        index.add(keys, np.asarray(mat))
    if index_file is not None:
        try:
            index.save(index_file)
        except OSError:  # a read-only disk: keep it in memory
            pass
    return index


def save_matrix_cache(folder: Path, version: int, model: str, keys: np.ndarray, ids: list[str], mat: np.ndarray,
                      meta: list[tuple[str, str]]) -> None:
    """Write the vectors as .npy files that a later process memory-maps (atomically; ignored on a read-only disk)."""
    try:
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        np.save(tmp / "vectors.npy", np.ascontiguousarray(mat, dtype=np.float32))
        np.save(tmp / "keys.npy", keys.astype(np.int64))
        (tmp / "meta.json").write_text(json.dumps({"format": CACHE_FORMAT, "version": version, "model": model,
                                                   "ids": ids, "meta": meta}), encoding="utf-8")
        if folder.exists():
            for f in folder.iterdir():
                f.unlink()
            folder.rmdir()
        os.replace(tmp, folder)
    except OSError:
        pass


def load_matrix_cache(folder: Path, version: int, model: str) -> tuple[np.ndarray, list[str], np.ndarray,
                                                                       list[tuple[str, str]]] | None:
    """(keys, ids, memory-mapped matrix, meta) from the cache when it is of this model and embeddings version."""
    try:
        info: dict[str, Any] = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if info.get("format") != CACHE_FORMAT or info.get("version") != version or info.get("model") != model:
            return None
        mat = np.load(folder / "vectors.npy", mmap_mode="r")
        keys = np.load(folder / "keys.npy")
        ids = list(info["ids"])
        if len(ids) != len(keys) or mat.shape[0] != len(keys):
            return None
        return keys, ids, mat, [(a, b) for a, b in info["meta"]]
    except (OSError, ValueError, KeyError):
        return None
