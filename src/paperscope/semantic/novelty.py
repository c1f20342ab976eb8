"""Explained novelty: how far a paper sits from the papers submitted before it.

For each paper, take its k nearest papers among those first submitted on a strictly earlier
day (same-day papers cannot have built on each other). Novelty = 1 - their mean cosine
similarity; the neighbours (key, similarity) are the evidence. A paper with fewer than
`min_history` earlier papers in the library gets no score.

Small libraries are searched exactly with blocked matrix products under a date mask. Large
ones are walked day by day: each day's papers query an HNSW graph (hnswlib) that holds
exactly the earlier days, then join it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from paperscope.semantic.index import hnswlib_module, top_k

NOT_ENOUGH_HISTORY = "not enough earlier papers"
EXACT_BELOW = 50_000


@dataclass(frozen=True, slots=True)
class NoveltyResult:
    """A paper's novelty (None when it cannot be scored), its evidence and why it has no score."""

    key: int
    novelty: float | None
    neighbours: list[tuple[int, float]] = field(default_factory=list)
    reason: str = ""


def to_days(dates: Sequence[Any]) -> np.ndarray:
    """Calendar days (UTC) since 1970 for dates, datetimes, ISO strings or numpy datetime64."""
    if isinstance(dates, np.ndarray) and np.issubdtype(dates.dtype, np.datetime64):
        return dates.astype("datetime64[D]").astype(np.int64)
    out = np.empty(len(dates), dtype=np.int64)
    for i, d in enumerate(dates):
        if isinstance(d, datetime):
            if d.tzinfo is not None:
                d = d.astimezone(UTC)
            d = d.date()
        elif isinstance(d, str):
            d = date.fromisoformat(d[:10])
        elif not isinstance(d, date):
            raise TypeError(f"date #{i} is {type(d).__name__}, not a date/datetime/ISO string")
        out[i] = d.toordinal() - 719163  # date(1970, 1, 1).toordinal()
    return out


def novelty_arrays(
    vecs: np.ndarray,
    days: np.ndarray,
    k: int = 10,
    exact_below: int = EXACT_BELOW,
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-indexed engine: (n_earlier, neighbour rows (n, k) with -1 pad, similarities (n, k)).

    `vecs` are unit rows, `days` integer days. `threads` > 1 builds the HNSW graph faster but
    no longer bit-for-bit reproducibly; the exact path is always deterministic.
    """
    x = np.ascontiguousarray(vecs, dtype=np.float32)
    days = np.asarray(days, dtype=np.int64)
    n = len(x)
    if len(days) != n:
        raise ValueError(f"{n} vectors but {len(days)} dates")
    # Stable sort: same-day papers keep their input order, so results do not depend on luck.
    order = np.argsort(days, kind="stable")
    sx, sd = x[order], days[order]
    n_earlier_sorted = np.searchsorted(sd, sd, side="left")
    nb = np.full((n, k), -1, dtype=np.int64)
    sims = np.full((n, k), -np.inf, dtype=np.float32)
    if n and k:
        if n < exact_below:
            _exact_sorted(sx, sd, k, nb, sims, progress)
        else:
            _ann_sorted(sx, sd, k, nb, sims, threads, progress, warm_up=min(exact_below, 20_000))
    # Map sorted positions back to input rows.
    nb_rows = np.where(nb >= 0, order[np.maximum(nb, 0)], -1)
    out_nb = np.empty_like(nb_rows)
    out_s = np.empty_like(sims)
    n_earlier = np.empty(n, dtype=np.int64)
    out_nb[order], out_s[order], n_earlier[order] = nb_rows, sims, n_earlier_sorted
    return n_earlier, out_nb, out_s


def _exact_sorted(
    x: np.ndarray,
    d: np.ndarray,
    k: int,
    nb: np.ndarray,
    sims: np.ndarray,
    progress: Callable[[int, int], None] | None,
    block: int = 1024,
) -> None:
    n = len(x)
    positions = np.arange(n, dtype=np.int64)
    for s in range(0, n, block):
        e = min(s + block, n)
        # Only rows dated strictly before a query can be its neighbours; they all sit in [0, e).
        end = int(np.searchsorted(d, d[e - 1], side="left"))
        if end > 0:
            block_sims = x[s:e] @ x[:end].T
            block_sims[d[:end][None, :] >= d[s:e][:, None]] = -np.inf
            nb[s:e], sims[s:e] = top_k(block_sims, positions[:end], k)
        if progress is not None:
            progress(e, n)


def _ann_sorted(
    x: np.ndarray,
    d: np.ndarray,
    k: int,
    nb: np.ndarray,
    sims: np.ndarray,
    threads: int,
    progress: Callable[[int, int], None] | None,
    warm_up: int = 20_000,
    m: int = 16,
    ef_construction: int = 100,
    ef_search: int = 64,
) -> None:
    n, dim = x.shape
    # Day by day: a day's papers query a graph that holds exactly the earlier days, then
    # join it. Until the history is `warm_up` papers long, exact search is cheaper.
    day_starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
    day_ends = np.r_[day_starts[1:], n]
    positions = np.arange(n, dtype=np.int64)
    ann = None
    for s, e in zip(day_starts.tolist(), day_ends.tolist()):
        if s == 0:
            pass  # nothing earlier than the first day
        elif ann is None and s < max(warm_up, k):
            nb[s:e], sims[s:e] = top_k(x[s:e] @ x[:s].T, positions[:s], k)
        else:
            if ann is None:
                ann = hnswlib_module().Index(space="ip", dim=dim)
                ann.init_index(
                    max_elements=n, M=m, ef_construction=ef_construction, random_seed=100
                )
                ann.set_ef(max(ef_search, k))
                ann.add_items(x[:s], positions[:s], num_threads=threads)
            labels, dists = ann.knn_query(x[s:e], k=k, num_threads=threads)
            nb[s:e], sims[s:e] = labels.astype(np.int64), 1.0 - dists
        if ann is not None:
            ann.add_items(x[s:e], positions[s:e], num_threads=threads)
        if progress is not None:
            progress(e, n)


def compute_novelty(
    keys: Sequence[int],
    vecs: np.ndarray,
    dates: Sequence[Any],
    k: int = 10,
    min_history: int | None = None,
    exact_below: int = EXACT_BELOW,
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[NoveltyResult]:
    """Novelty of every paper against the papers first submitted before it, with evidence."""
    if min_history is None:
        min_history = k
    key_arr = np.asarray(keys, dtype=np.int64)
    n_earlier, nb, sims = novelty_arrays(vecs, to_days(dates), k, exact_below, threads, progress)
    results: list[NoveltyResult] = []
    for i in range(len(key_arr)):
        if n_earlier[i] < min_history or n_earlier[i] == 0:
            results.append(NoveltyResult(int(key_arr[i]), None, [], NOT_ENOUGH_HISTORY))
            continue
        ok = nb[i] >= 0
        rows, ss = nb[i][ok], sims[i][ok]
        neighbours = [(int(key_arr[r]), float(v)) for r, v in zip(rows, ss)]
        novelty = 1.0 - float(np.mean(ss, dtype=np.float64))
        results.append(NoveltyResult(int(key_arr[i]), novelty, neighbours, ""))
    return results


def novelty_percentiles(
    results: Sequence[NoveltyResult], groups: Sequence[Hashable]
) -> list[float | None]:
    """Per paper, the % of scored papers in its group (e.g. (category, year)) at most as novel."""
    if len(results) != len(groups):
        raise ValueError(f"{len(results)} results but {len(groups)} groups")
    members: dict[Hashable, list[float]] = defaultdict(list)
    for r, g in zip(results, groups):
        if r.novelty is not None:
            members[g].append(r.novelty)
    sorted_vals = {g: np.sort(np.array(v)) for g, v in members.items()}
    out: list[float | None] = []
    for r, g in zip(results, groups):
        if r.novelty is None:
            out.append(None)
            continue
        vals = sorted_vals[g]
        at_most = int(np.searchsorted(vals, r.novelty, side="right"))
        out.append(100.0 * at_most / len(vals))
    return out
