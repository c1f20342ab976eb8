"""Novelty for what is new: each paper against the papers submitted before it, then its cohort re-ranked.

A paper's raw novelty compares it only with earlier days, so it never changes once computed (unless its vector
does: a new version is embedded again and comes back). A run therefore scores only the embeddings written since
the last run — all of them the first time, or with `full=True` — in chunks of bounded memory, and then re-ranks
the percentiles of the cohorts (primary category and year) those papers joined. The progress is committed per
chunk, with the cohorts still to re-rank, so a run killed at any point is completed by the next.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from paperscope.library import Library
from paperscope.semantic.space import VectorSpace
from paperscope.service.results import Result
from paperscope.store.api import CohortRow, EmbeddingBatch, JSONValue, NoveltyRow

CHUNK = 50_000
# Lists probed per paper: on the 57,821 real papers of the shared sample, against exact search, novelty is off by
# 0.004 on average (Spearman 0.997) at 16, 0.008 (0.993) at 8 for 1.2-2x the speed; bench/scale.py measures it again
# on its library. A first run over a whole library probes 8, a daily run 16.
NPROBE, BULK_NPROBE, BULK_FROM = 16, 8, 100_000
FULL_ID_TABLE = 20_000  # from this many papers on, read every id at once instead of the neighbours' ids per chunk


@dataclass(slots=True)
class NoveltyRun(Result):
    papers: int
    scored: int
    k: int
    model: str
    reranked: int = 0
    full: bool = False


def _state_key(model: str) -> str:
    return f"novelty:progress:{model}"


def novelty(lib: Library, *, k: int = 10, full: bool = False,
            progress: Callable[[int, int], None] | None = None) -> NoveltyRun:
    """Novelty of the papers embedded since the last run (every paper when `full`, or the first time), stored with
    its evidence; then the percentiles of the cohorts they joined."""
    store = lib.store
    v = lib.vectors()
    model = v.model
    epoch = store.embeddings_epoch()
    saved = store.get_state(_state_key(model))
    state = saved if isinstance(saved, dict) else {}
    same = state.get("epoch") == epoch and state.get("k") == k
    after = int(state["rowid"]) if (same and not full and isinstance(state.get("rowid"), int)) else 0  # type: ignore[arg-type]
    pending_raw = state.get("pending") if same and not full else None
    pending: set[str] = {str(c) for c in pending_raw} if isinstance(pending_raw, list) else set()
    total = len(v) if after == 0 else 0
    names: dict[int, str] | None = None
    if after == 0 and len(v) >= FULL_ID_TABLE:
        keys, ids = store.key_id_table()
        names = dict(zip(keys.tolist(), ids))
    done = scored = 0
    last = after
    while True:
        batch = store.embeddings_since(model, last, limit=CHUNK)
        if not len(batch.keys):
            break
        rows, cohorts = _score_chunk(lib, v, batch, k, names, BULK_NPROBE if total >= BULK_FROM else NPROBE)
        store.save_novelty(model, k, rows, lib.now(), cohorts=cohorts)
        pending |= set(cohorts.values())
        done += len(rows)
        scored += sum(1 for r in rows if r[1] is not None)
        last = batch.last
        _save_state(lib, model, epoch, k, last, pending)
        if progress:
            progress(done, max(total, done))
    reranked = rerank_cohorts(lib, model, pending) if pending else 0
    _save_state(lib, model, epoch, k, last, set())
    return NoveltyRun(done, scored, k, model, reranked, after == 0)


def _save_state(lib: Library, model: str, epoch: int, k: int, rowid: int, pending: set[str]) -> None:
    cohorts: list[JSONValue] = list(sorted(pending))
    value: dict[str, JSONValue] = {"epoch": epoch, "k": k, "rowid": rowid, "pending": cohorts}
    lib.store.set_state(_state_key(model), value)


def _years(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _score_chunk(lib: Library, v: VectorSpace, batch: EmbeddingBatch, k: int, names: dict[int, str] | None,
                 nprobe: int) -> tuple[list[NoveltyRow], dict[str, str]]:
    from paperscope.semantic.novelty import DUPLICATE_RULES, NOT_ENOUGH_HISTORY, near_duplicate

    keys, ids, cats, years = batch.keys, batch.ids, batch.categories, _years(batch.days)
    nb, sims, n_earlier = v.index.nearest_earlier(keys, k, nprobe=nprobe)
    if names is None:
        wanted = np.unique(nb[nb >= 0]).tolist()
        names = lib.store.ids_for_keys(wanted) if wanted else {}
    floor = min(DUPLICATE_RULES.get(v.model, (0.9, 0.95)))
    # The index compares compressed vectors (off by up to ~0.01 in cosine): the pairs near a near-duplicate threshold
    # are measured again at full precision before the rule reads them.
    close = {r: names.get(int(nb[r, 0])) for r in range(len(ids)) if nb[r, 0] >= 0 and sims[r, 0] >= floor - 0.02}
    exact = v.vectors_of(sorted({ids[r] for r in close} | {x for x in close.values() if x}))
    top_sim: dict[int, float] = {}
    for r, near_id in close.items():
        if near_id and ids[r] in exact and near_id in exact:
            top_sim[r] = float(exact[ids[r]] @ exact[near_id])
    texts = {p.id: p for p in lib.store.get_papers(sorted({ids[r] for r in top_sim if top_sim[r] >= floor}
                                                           | {str(close[r]) for r in top_sim if top_sim[r] >= floor}))}
    rows: list[NoveltyRow] = []
    cohorts: dict[str, str] = {}
    for r, pid in enumerate(ids):
        cohorts[pid] = f"{cats[r]}|{int(years[r])}"
        ok = nb[r] >= 0
        if n_earlier[r] < k or n_earlier[r] == 0 or not ok.any():
            rows.append((pid, None, None, NOT_ENOUGH_HISTORY, []))
            continue
        ss = sims[r][ok].astype(np.float64)
        if r in top_sim:
            ss[0] = top_sim[r]
        neighbours = [(names[int(key)], float(s)) for key, s in zip(nb[r][ok].tolist(), ss.tolist())
                      if int(key) in names]
        value = 1.0 - float(np.mean(ss))
        reason = ""
        if neighbours:
            a, b = texts.get(pid), texts.get(neighbours[0][0])
            if a is not None and b is not None:
                check = near_duplicate(neighbours[0][1], model=v.model, title=a.title, earlier_title=b.title,
                                       authors=a.author_names, earlier_authors=b.author_names,
                                       earlier_id=neighbours[0][0])
                if check.duplicate:
                    reason = check.reason
        rows.append((pid, value, 0.0 if reason else None, reason, neighbours))
    return rows, cohorts


# ------------------------------------------------------------------------------------------------ cohorts
def _cat(cohort: str) -> str:
    return cohort.rsplit("|", 1)[0]


def rerank_cohorts(lib: Library, model: str, touched: Iterable[str]) -> int:
    """Percentiles of every paper whose cohort changed: the cohorts `touched` joined, and the papers that rank in
    a wider cohort (their category, or all papers) that those also joined. Returns how many rows changed."""
    from paperscope.semantic.novelty import MIN_COHORT, Percentile

    store = lib.store
    touched = set(touched)
    sizes = store.novelty_cohort_sizes(model)
    cat_sizes: Counter[str] = Counter()
    for c, n in sizes.items():
        cat_sizes[_cat(c)] += n
    total = sum(sizes.values())

    def level(c: str) -> str:
        if sizes.get(c, 0) >= MIN_COHORT:
            return "year"
        return "cat" if cat_sizes[_cat(c)] >= MIN_COHORT else "all"

    touched_cats = {_cat(c) for c in touched}
    affected = {c for c in touched if c in sizes}
    affected |= {c for c in sizes if level(c) == "cat" and _cat(c) in touched_cats}
    if touched:
        affected |= {c for c in sizes if level(c) == "all"}
    if not affected:
        return 0
    # Full rows only for the papers whose percentile may move; the distributions they rank in are read as bare
    # values from the cohort index (a category's or the whole library's, for the few papers in small cohorts).
    rows = store.novelty_in_cohorts(model, sorted(affected))
    by_cohort: dict[str, list[CohortRow]] = defaultdict(list)
    for r in rows:
        if r.value is not None:
            by_cohort[r.cohort].append(r)
    dist: dict[tuple[str, str], np.ndarray] = {}

    def values(c: str) -> tuple[np.ndarray, str]:
        lv = level(c)
        key = (lv, c if lv == "year" else _cat(c) if lv == "cat" else "")
        if key not in dist:
            if lv == "year":
                vals = np.array([r.value for r in by_cohort[c]], dtype=np.float64)
            elif lv == "cat":
                vals = store.novelty_values(model, sorted(cc for cc in sizes if _cat(cc) == key[1]))
            else:
                vals = store.novelty_values(model)
            dist[key] = np.sort(vals)
        cat, _, year = c.rpartition("|")
        label = (f"{cat} papers of {year}" if lv == "year" else f"{cat} papers (all years)" if lv == "cat"
                 else "papers")
        return dist[key], label

    changes: list[tuple[str, float | None, str]] = []
    for c, members in by_cohort.items():
        vals, label = values(c)
        lv = level(c)
        small = lv == "all" and total < MIN_COHORT
        at_most = np.searchsorted(vals, np.array([r.value for r in members], dtype=np.float64), side="right")
        for r, pct in zip(members, (100.0 * at_most / len(vals)).tolist()):
            new_pct, reason = pct, ""
            if r.reason.startswith("near-duplicate"):
                new_pct, reason = 0.0, r.reason
            elif small or lv != "year":
                reason = Percentile(pct, label, len(vals), small).describe()
            if _differs(r, new_pct, reason):
                changes.append((r.id, new_pct, reason))
    return store.set_percentiles(model, changes)


def _differs(r: CohortRow, pct: float | None, reason: str) -> bool:
    if r.reason != reason:
        return True
    if (r.percentile is None) != (pct is None):
        return True
    return r.percentile is not None and pct is not None and abs(r.percentile - pct) > 1e-9


__all__ = ["NoveltyRun", "novelty", "rerank_cohorts"]
