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

import functools
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


# ------------------------------------------------------------------------------------------------ near-duplicates
# Calibrated in bench/neardup_calibration.py on real pairs: re-worded abstracts of one work (arXiv versions, an
# arXiv abstract against its conference abstract, rejected ICLR 2018 papers re-submitted elsewhere) against each
# paper's nearest earlier paper by other authors, on the 57,821 papers of the shared snapshot sample. Cosine alone
# cannot separate them: a different work on the same narrow task reaches 0.88 with the v2 model. What separates
# them is who wrote it: every re-worded work in the calibration set keeps an author.
DUPLICATE_RULES: dict[str, tuple[float, float]] = {
    # model: (cosine with a shared author, cosine with a near-identical title when author lists are unknown)
    "static-minilm-arxiv-v1": (0.80, 0.90),
    # v2, measured (bench/neardup_calibration.py; criterion: the highest recall at precision >= 0.9 on the labelled
    # pairs, the middle of the thresholds that reach it): shared author and cosine >= 0.89 has precision 0.919 at
    # recall 0.721 (147 of 204 re-worded versions; 13 false flags among 57,644 nearest different works, all same-
    # author pairs with unlike titles, some of them really one work; v1's 0.80 had 0.589 at 0.863). It flags 26 of
    # the 57,821 sample papers (0.80: 174). Without author lists, same title and cosine >= 0.90 flags 6, none of
    # them by other authors.
    "static-minilm-arxiv-v2": (0.89, 0.90),
    "minilm": (0.85, 0.93),
}
TITLE_MATCH = 0.8  # token-set similarity of titles that counts as "the same title"


@dataclass(frozen=True, slots=True)
class DuplicateCheck:
    """Whether a paper is a near-duplicate of its nearest earlier paper, and the one-line reason."""

    duplicate: bool
    reason: str = ""


class _LettersAndSpaces(dict[int, str]):
    """A `str.translate` table that keeps letters and white space and makes every other character a space; each
    code point is looked at once, then remembered."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        out = c if c.isalpha() or c.isspace() else " "
        self[code] = out
        return out


_LETTERS = _LettersAndSpaces()


@functools.lru_cache(maxsize=1 << 18)
def _name_key(author: str) -> str | None:
    """'Ada B. Lovelace' -> 'lovelace a' (None for a name without letters)."""
    parts = author.lower().translate(_LETTERS).split()
    return f"{parts[-1]} {parts[0][0]}" if parts else None


def _name_keys(authors: Sequence[str]) -> set[str]:
    """'Ada B. Lovelace' -> 'lovelace a': surname and first initial, so 'A. Lovelace' matches."""
    return {key for a in authors if (key := _name_key(a)) is not None}


def _share_an_author(authors: Sequence[str], earlier_authors: Sequence[str]) -> bool:
    """Whether `_name_keys` of the two lists meet (stopping at the first shared name)."""
    theirs = _name_keys(earlier_authors)
    return any(key in theirs for a in authors if (key := _name_key(a)) is not None)


def _title_tokens(title: str) -> set[str]:
    return {w for w in "".join(c if c.isalnum() else " " for c in title.lower()).split() if len(w) > 2}


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of two titles' word sets (words of 3+ letters, case and punctuation ignored)."""
    ta, tb = _title_tokens(a), _title_tokens(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def near_duplicate(
    similarity: float,
    *,
    model: str,
    title: str = "",
    earlier_title: str = "",
    authors: Sequence[str] | None = None,
    earlier_authors: Sequence[str] | None = None,
    earlier_id: str = "",
) -> DuplicateCheck:
    """Is a paper a re-worded copy of its nearest earlier paper (cosine `similarity` under `model`)?

    With both author lists known: only when they share an author and the cosine reaches the model's first
    threshold (different people's papers on one task are different works, however alike). Without them: only
    when the titles match too and the cosine reaches the stricter second threshold.
    """
    with_author, title_only = DUPLICATE_RULES.get(model, (0.9, 0.95))
    where = f" of {earlier_id}" if earlier_id else ""
    if authors and earlier_authors:
        if similarity >= with_author and _share_an_author(authors, earlier_authors):
            return DuplicateCheck(True, f"near-duplicate{where} (similarity {similarity:.2f}, shared author)")
        return DuplicateCheck(False)
    if similarity >= title_only and title and earlier_title and title_similarity(title, earlier_title) >= TITLE_MATCH:
        return DuplicateCheck(True, f"near-duplicate{where} (similarity {similarity:.2f}, same title)")
    return DuplicateCheck(False)


# ------------------------------------------------------------------------------------------------ cohorts
MIN_COHORT = 30  # below this many scored papers a percentile says more about the cohort than the paper


@dataclass(frozen=True, slots=True)
class Percentile:
    """A novelty percentile with the cohort it was taken in; `small` when even the widest cohort was tiny."""

    value: float | None
    cohort: str = ""
    size: int = 0
    small: bool = False

    def describe(self) -> str:
        """'percentile 62 among 1,204 cs.CL papers of 2025', or '... of 4 papers (too few to compare)'."""
        if self.value is None:
            return "no percentile"
        text = f"percentile {self.value:.0f} among {self.size:,} {self.cohort}"
        return text + " (too few to compare)" if self.small else text

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "cohort": self.cohort, "size": self.size, "small": self.small,
                "text": self.describe()}


def standard_cohorts(category: str, year: str | int) -> list[tuple[str, Hashable]]:
    """The cohorts tried for a paper, narrowest first: its category that year, its category, every paper."""
    return [(f"{category} papers of {year}", ("cat-year", category, str(year))),
            (f"{category} papers (all years)", ("cat", category)),
            ("papers", ("all",))]


def cohort_percentiles(
    results: Sequence[NoveltyResult],
    cohorts: Sequence[Sequence[tuple[str, Hashable]]],
    min_size: int = MIN_COHORT,
) -> list[Percentile]:
    """Per paper, the % of scored papers at most as novel in the narrowest of its cohorts (label, key) that holds
    `min_size` scored papers; the widest one, marked small, when none does. Keys must differ between levels."""
    if len(results) != len(cohorts):
        raise ValueError(f"{len(results)} results but {len(cohorts)} cohort lists")
    members: dict[Hashable, list[float]] = defaultdict(list)
    for r, cs in zip(results, cohorts):
        if r.novelty is not None:
            for _, key in cs:
                members[key].append(r.novelty)
    sorted_vals = {k: np.sort(np.array(v)) for k, v in members.items()}
    out: list[Percentile] = []
    for r, cs in zip(results, cohorts):
        if r.novelty is None or not cs:
            out.append(Percentile(None))
            continue
        chosen = next(((label, key) for label, key in cs if len(sorted_vals[key]) >= min_size), None)
        label, key = chosen or cs[-1]
        vals = sorted_vals[key]
        at_most = int(np.searchsorted(vals, r.novelty, side="right"))
        out.append(Percentile(100.0 * at_most / len(vals), label, len(vals), chosen is None))
    return out
