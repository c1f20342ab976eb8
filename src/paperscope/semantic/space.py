"""The library's vectors for search: an on-disk index beside the library, memory-mapped, kept in step with the store.

The store (SQLite) holds every embedding; this module keeps a derived copy that answers nearest-neighbour
questions without reading them all: an inverted-file index (`semantic/ivf.py`) in `<library>.<model>.ivf/`, whose
vectors are memory-mapped, so a fresh process opens it in milliseconds. `sync_space` brings the copy up to the
store by reading only the embeddings written since it was last brought up (their rowids only grow), and rebuilds
it only when embeddings were removed (the store's embeddings epoch moved) or the copy is missing or damaged.

A `VectorSpace` speaks in arXiv ids; the index speaks in paper keys (the store's integer `pk`): the two callables
it is given translate, so a query touches only the papers it returns.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from paperscope.semantic.ivf import IvfIndex

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: syncs are not locked against each other
    fcntl = None  # type: ignore[assignment]

SYNC_FORMAT = 1
SYNC_BATCH = 100_000
INDEX_DTYPE = "int8"  # how the index stores vectors: int8 (half of float16's disk, 3.7x faster scans) or float16


class EmbeddingSource(Protocol):
    """What the space reads from the store (the store's VectorStore protocol satisfies it)."""

    def embeddings_since(self, model: str, after: int, *, limit: int = ...) -> Any: ...
    def embeddings_sample(self, model: str, n: int, *, seed: int = ...) -> Any: ...
    def count_embedded(self, model: str) -> int: ...
    def embeddings_epoch(self) -> int: ...
    def embeddings_version(self) -> int: ...
    def ids_for_keys(self, keys: Sequence[int]) -> dict[int, str]: ...
    def keys_for_ids(self, arxiv_ids: Sequence[str]) -> dict[str, int]: ...
    def embeddings_of(self, model: str, arxiv_ids: Sequence[str]) -> dict[str, np.ndarray]: ...


@dataclass(slots=True)
class VectorSpace:
    """Vectors of one model, searchable by arXiv id; `version` is the store's embeddings version it reflects."""

    model: str
    version: int
    index: IvfIndex
    ids_of: Callable[[Sequence[int]], dict[int, str]]
    keys_of: Callable[[Sequence[str]], dict[str, int]]
    vectors_of: Callable[[Sequence[str]], dict[str, np.ndarray]]
    _key_cache: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def dim(self) -> int:
        return int(self.index.dim)

    def key(self, arxiv_id: str) -> int | None:
        k = self._key_cache.get(arxiv_id)
        if k is None:
            k = self.keys_of([arxiv_id]).get(arxiv_id)
            if k is None or k not in self.index:
                return None
            if len(self._key_cache) > 100_000:
                self._key_cache.clear()
            self._key_cache[arxiv_id] = k
        return k

    def present(self, ids: Sequence[str]) -> list[str]:
        """The ids (in the order given) that have a vector in the space: one store query for all of them."""
        keys = self.keys_of(list(ids))
        return [i for i in ids if i in keys and keys[i] in self.index]

    def __contains__(self, arxiv_id: object) -> bool:
        return isinstance(arxiv_id, str) and self.key(arxiv_id) is not None

    def vector(self, arxiv_id: str) -> np.ndarray:
        """A paper's vector at full precision (from the store; the index holds a compressed copy for search)."""
        return self.rows([arxiv_id])[0]

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """The vectors of these ids (all must be in the space), one row each, in the order given, at full precision."""
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        got = self.vectors_of(list(ids))
        missing = [i for i in ids if i not in got]
        if missing:
            raise KeyError(missing[0])
        return np.stack([got[i] for i in ids]).astype(np.float32, copy=False)

    def submitted_between(self, since: str, until: str | None = None) -> list[str]:
        """Ids first submitted on or after `since` (and on or before `until`), ISO dates; newest rows last."""
        lo = _day(since)
        days = self.index.days()
        mask = days >= lo
        if until:
            mask &= days <= _day(until)
        keys = self.index.keys()[mask]
        order = np.argsort(days[mask], kind="stable")
        keys = keys[order]
        names = self.ids_of(keys.tolist())
        return [names[int(k)] for k in keys.tolist() if int(k) in names]

    def nearest(self, query: np.ndarray, k: int, *, exclude: frozenset[str] | set[str] = frozenset()
                ) -> list[tuple[str, float]]:
        """The k ids nearest to one query vector (cosine), best first, leaving out `exclude`."""
        if not len(self.index) or k <= 0:
            return []
        ex = set(self.keys_of(list(exclude)).values()) if exclude else None
        keys, sims = self.index.search(np.asarray(query, dtype=np.float32)[None, :], k, exclude=ex)
        pairs = [(int(kk), float(s)) for kk, s in zip(keys[0].tolist(), sims[0].tolist()) if kk >= 0]
        names = self.ids_of([kk for kk, _ in pairs])
        return [(names[kk], s) for kk, s in pairs if kk in names and names[kk] not in exclude][:k]

    def sample_ids(self, n: int, seed: int = 0) -> list[str]:
        """Up to n ids drawn at random but reproducibly, in index order."""
        keys = self.index.keys()
        if len(keys) > n:
            keys = np.sort(np.random.default_rng(seed).choice(keys, n, replace=False))
        names = self.ids_of(keys.tolist())
        return [names[int(k)] for k in keys.tolist() if int(k) in names]

    def sample(self, n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
        """Up to n ids with their vectors, drawn at random but reproducibly, in index order."""
        ids = self.sample_ids(n, seed)
        return ids, self.rows(ids)


def _day(iso: str) -> int:
    return int(np.datetime64(iso[:10], "D").astype(np.int64))


# ------------------------------------------------------------------------------------------------ keeping in step
def _read_sync(path: Path) -> dict[str, Any] | None:
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return info if info.get("format") == SYNC_FORMAT else None
    except (OSError, ValueError):
        return None


def _write_sync(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"format": SYNC_FORMAT, **info}), encoding="utf-8")
    os.replace(tmp, path)


def _scratch_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="paperscope-space-"))


@contextmanager
def _sync_lock(folder: Path | None, writable: bool) -> Iterator[None]:
    """While one process opens, extends or rebuilds the index in `folder`, another waits (`<folder>.lock`, held
    with flock, so the kernel drops it with a dead process): two imports embedding at once had one of them open the
    index half-written by the other ("mmap length is greater than file size")."""
    if folder is None or not writable or fcntl is None:
        yield
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def sync_space(store: EmbeddingSource, model: str, folder: Path | None, *, writable: bool = True,
               progress: Callable[[int], None] | None = None) -> IvfIndex:
    """The index of `model`'s vectors in `folder`, brought up to the store: extended with what was embedded since,
    rebuilt when embeddings were removed or the copy is unusable. Without a folder (a library in memory), or on a
    read-only disk when the copy is behind, the index is built in a scratch folder removed at exit. Writers of one
    folder take turns (`_sync_lock`)."""
    with _sync_lock(folder, writable):
        return _sync(store, model, folder, writable=writable, progress=progress)


def _sync(store: EmbeddingSource, model: str, folder: Path | None, *, writable: bool,
          progress: Callable[[int], None] | None) -> IvfIndex:
    epoch = store.embeddings_epoch()
    sync_file = folder.with_name(folder.name + ".sync.json") if folder is not None else None
    info = _read_sync(sync_file) if sync_file is not None else None
    index: IvfIndex | None = None
    if folder is not None and info is not None and info.get("model") == model and info.get("epoch") == epoch:
        try:
            index = IvfIndex.open(folder)
        except Exception:  # a damaged copy is only a cache: rebuild it
            index = None
    if index is not None and info is not None:
        last = int(info["rowid"])
        batch = store.embeddings_since(model, last, limit=SYNC_BATCH)
        if not len(batch.keys):
            return index
        if not writable:  # the copy is behind and may not be written: work on a private copy
            index = None
        else:
            while len(batch.keys):
                index.add(batch.keys, batch.vectors, batch.days)
                last = batch.last
                if progress:
                    progress(len(batch.keys))
                batch = store.embeddings_since(model, last, limit=SYNC_BATCH)
            assert sync_file is not None
            _write_sync(sync_file, {"model": model, "epoch": epoch, "rowid": last})
            if not index.needs_rebuild:
                return index  # else the library outgrew the centroids: rebuild below
    target = folder if (folder is not None and writable) else _scratch_folder()
    index, last = _build(store, model, target, progress)
    if target is not folder:
        weakref.finalize(index, shutil.rmtree, target, True)
    elif sync_file is not None:
        _write_sync(sync_file, {"model": model, "epoch": epoch, "rowid": last})
    return index


def _build(store: EmbeddingSource, model: str, folder: Path, progress: Callable[[int], None] | None
           ) -> tuple[IvfIndex, int]:
    """A new index of every embedding of the store: centroids from a random sample (so that they cover every
    year, not the first ones), then the rest appended in batches (memory bounded by one batch plus the index)."""
    from paperscope.semantic.ivf import EXACT_BELOW, default_lists

    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    total = store.count_embedded(model)
    if total <= max(EXACT_BELOW, SYNC_BATCH):
        seed_rows = store.embeddings_since(model, 0, limit=total + 1)
        index = IvfIndex.build(folder, seed_rows.keys, seed_rows.vectors, seed_rows.days, dtype=INDEX_DTYPE)
        if progress and len(seed_rows.keys):
            progress(len(seed_rows.keys))
        return index, seed_rows.last
    lists = default_lists(total)
    sample = store.embeddings_sample(model, min(total, max(32 * lists, 20_000)))
    index = IvfIndex.build(folder, sample.keys, sample.vectors, sample.days, lists=lists, dtype=INDEX_DTYPE)
    seeded = np.sort(sample.keys)
    last = 0
    while True:
        batch = store.embeddings_since(model, last, limit=SYNC_BATCH)
        if not len(batch.keys):
            break
        fresh = ~np.isin(batch.keys, seeded, assume_unique=False)
        if fresh.any():
            index.add(batch.keys[fresh], batch.vectors[fresh], batch.days[fresh])
        last = batch.last
        if progress:
            progress(len(batch.keys))
    return index, last


def open_space(store: EmbeddingSource, model: str, folder: Path | None, *, writable: bool = True,
               progress: Callable[[int], None] | None = None) -> VectorSpace:
    version = store.embeddings_version()
    index = sync_space(store, model, folder, writable=writable, progress=progress)
    return VectorSpace(model, version, index, store.ids_for_keys, store.keys_for_ids,
                       functools.partial(store.embeddings_of, model))
