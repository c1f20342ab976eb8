"""`check`: is the library sound? The database file, its full-text index, the vectors against the papers, the
vector caches beside the library and scratch files left by killed processes; `repair=True` fixes what it can.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from paperscope.library import Library
from paperscope.service.results import Result


@dataclass(slots=True)
class Finding(Result):
    part: str  # database | index | vectors | cache | scratch
    problem: str
    repaired: str = ""  # what --repair did ('' when nothing)


@dataclass(slots=True)
class CheckResult(Result):
    path: str
    papers: int
    findings: list[Finding] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing damaged remains (every finding repaired)."""
        return all(f.repaired for f in self.findings)

    def to_dict(self) -> dict[str, object]:  # type: ignore[override]
        d: dict[str, object] = dict(Result.to_dict(self))
        d["ok"] = self.ok
        return d


def _cache_findings(lib: Library, model: str, embedded: int) -> list[tuple[str, Path]]:
    """(problem, path) for vector index files that no longer match the library's embeddings."""
    out: list[tuple[str, Path]] = []
    for suffix in (f"{model}.space", f"{model}.vindex", f"{model}.vindex.hnsw"):  # caches of paperscope 0.2
        old = lib.store.cache_path(suffix)
        if old is not None and old.exists():
            out.append((f"{old} is a vector cache of an older paperscope (no longer read)", old))
    folder = lib.store.cache_path(f"{model}.ivf")
    if folder is not None and folder.exists():
        try:
            from paperscope.semantic.ivf import IvfIndex

            index = IvfIndex.open(folder)
            if len(index) > embedded:
                out.append((f"vector index {folder} holds {len(index)} vectors, the library {embedded}", folder))
        except Exception as e:  # any unreadable index is a stale cache
            out.append((f"vector index {folder} is unreadable ({type(e).__name__})", folder))
    return out


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def check(lib: Library, *, repair: bool = False) -> CheckResult:
    """Check the library; with `repair`, rebuild the index, drop orphan vectors, re-embed stale ones and remove
    stale caches and scratch files. Repairs need a library opened for writing."""
    store = lib.store
    result = CheckResult(store.path, store.count(), repaired=repair)
    add = result.findings.append

    db = store.database_problems()
    if db:  # nothing above the file can be trusted or repaired by paperscope itself
        add(Finding("database", "; ".join(db[:5])))
        return result

    problem = store.index_problem()
    if problem:
        f = Finding("index", problem)
        if repair:
            store.rebuild_index()
            again = store.index_problem()
            f.repaired = "rebuilt the full-text index from the papers" if again is None else ""
        add(f)

    model = store.active_model()
    if model:
        vp = store.vector_problems(model)
        if vp.orphans:
            f = Finding("vectors", f"{vp.orphans} embeddings of papers not in the library")
            if repair:
                f.repaired = f"deleted {store.drop_orphan_embeddings()} embeddings"
            add(f)
        if vp.stale:
            f = Finding("vectors", f"{vp.stale} embeddings made from an older version of their paper")
            if repair:
                from paperscope.service.meaning import embed

                f.repaired = f"re-embedded {embed(lib).embedded} papers"
            add(f)
        embedded = store.count_embedded(model)
        for text, path in _cache_findings(lib, model, embedded):
            f = Finding("cache", text)
            if repair:
                _remove(path)
                f.repaired = f"removed {path} (rebuilt on next use)"
            add(f)

    for path in store.scratch_files():
        f = Finding("scratch", f"{path} left by an interrupted process")
        if repair:
            _remove(path)
            f.repaired = f"removed {path}"
        add(f)
    return result


__all__ = ["CheckResult", "Finding", "check"]
