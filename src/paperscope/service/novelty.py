"""Novelty for what is new: each paper against the papers submitted before it, then its cohort re-ranked.

A paper's raw novelty compares it only with earlier days, so it never changes once computed (unless its vector
does: a new version is embedded again and comes back). A run therefore scores only the embeddings written since
the last run — all of them the first time, or with `full=True` — in chunks of bounded memory, and then re-ranks
the percentiles of the cohorts (primary category and year) those papers joined. The progress is committed per
chunk, with the cohorts still to re-rank, so a run killed at any point is completed by the next.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from paperscope.library import Library
from paperscope.semantic.ivf import ScanHelpers
from paperscope.semantic.space import VectorSpace
from paperscope.service.collector import rare_collections
from paperscope.service.results import Result
from paperscope.store.api import CohortRow, EmbeddingBatch, JSONValue, NoveltyRow

Scan = tuple[np.ndarray, np.ndarray, np.ndarray]  # nearest earlier keys (m, k), their sims (m, k), n_earlier (m,)

# Papers scored at once: each list of the index is read once per chunk for every paper of it that probes the list.
# At 2.9M papers, 200,000 against 50,000: the whole run 576 s against 662 s, peak 4.0 GB against 3.4 GB.
CHUNK = 200_000
# Lists probed per paper: on the 57,821 real papers of the shared sample, against exact search, novelty is off by
# 0.004 on average (Spearman 0.997) at 16, 0.008 (0.993) at 8 for 1.2-2x the speed; bench/scale.py measures it again
# on its library. A first run over a whole library probes 8, a daily run 16.
NPROBE, BULK_NPROBE, BULK_FROM = 16, 8, 100_000
# From this many papers in a chunk on, helper processes (one per further core, at most MAX_HELPERS) scan shares of
# the index beside this one: each costs ~0.5 s to start and a chunk of 20,000 papers scans for seconds. A first run
# of AHEAD_FROM papers or more is scanned a whole chunk per helper, one helper per core, ahead of this process:
# turning a scan into rows and writing them is Python on one core (at 2.9M papers about as long as the scans), so
# with the scans shared out it ran beside an idle core (1.16 of 2 cores busy at 300,000 papers). With few chunks
# the pipeline cannot fill (at 300,000 papers, two chunks: 50 s against 46 s shared out).
HELP_FROM, MAX_HELPERS = 20_000, 3
AHEAD_FROM = 4 * CHUNK  # papers of a first run from which helpers scan whole chunks ahead
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


@rare_collections()  # a chunk's rows are 200,000 tuples of lists: 7.3 -> 4.6 s for 50,000 rows at 2.9M papers
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
    nprobe = BULK_NPROBE if total >= BULK_FROM else NPROBE
    # A backlog of several chunks (a first run over a big library): helpers scan whole chunks ahead, one per core,
    # while this process turns the scanned ones into rows and writes them; the first chunk is a quarter, so the wait
    # for its scan is short. Otherwise each chunk's scan is shared out between this process and the helpers.
    ahead = total >= AHEAD_FROM and _cores() > 1
    chunks = _chunks(lib, model, after, first=CHUNK // 4 if ahead else CHUNK)
    first = next(chunks, None)
    helpers: ScanHelpers | None = None
    if first is not None and len(first.keys) >= HELP_FROM and _cores() > 1:
        helpers = ScanHelpers(v.index, min(_cores(), MAX_HELPERS) if ahead else min(_cores() - 1, MAX_HELPERS))
    queue: deque[tuple[EmbeddingBatch, Future[Scan] | None]] = deque()

    def fill() -> None:
        nonlocal first
        while len(queue) < (helpers.count + 1 if ahead and helpers is not None else 1):
            b = first if first is not None else next(chunks, None)
            first = None
            if b is None:
                return
            usable = ahead and helpers is not None and helpers.serves(v.index)
            queue.append((b, helpers.submit_nearest_earlier(b.keys, k, nprobe) if usable and helpers else None))

    try:
        fill()
        while queue:
            batch, job = queue.popleft()
            got = helpers.result(job) if job is not None and helpers is not None else None
            fill()  # the helpers go on with the next chunks meanwhile
            if got is None:  # scanned here (shared out with the helpers when not scanned ahead), or a helper died
                got = v.index.nearest_earlier(batch.keys, k, nprobe=nprobe, helpers=None if ahead else helpers)
            rows, cohorts = _chunk_rows(lib, v, batch, k, names, got)
            store.save_novelty(model, k, rows, lib.now(), cohorts=cohorts)
            pending |= set(cohorts.values())
            done += len(rows)
            scored += sum(1 for r in rows if r[1] is not None)
            last = batch.last
            _save_state(lib, model, epoch, k, last, pending)
            if progress:
                progress(done, max(total, done))
    finally:
        if helpers is not None:
            helpers.close()
    reranked = rerank_cohorts(lib, model, pending) if pending else 0
    _save_state(lib, model, epoch, k, last, set())
    return NoveltyRun(done, scored, k, model, reranked, after == 0)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _save_state(lib: Library, model: str, epoch: int, k: int, rowid: int, pending: set[str]) -> None:
    cohorts: list[JSONValue] = list(sorted(pending))
    value: dict[str, JSONValue] = {"epoch": epoch, "k": k, "rowid": rowid, "pending": cohorts}
    lib.store.set_state(_state_key(model), value)


def _years(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _chunks(lib: Library, model: str, after: int, *, first: int) -> Iterator[EmbeddingBatch]:
    """The embeddings written after rowid `after`, `first` then CHUNK at a time, without their vectors (the index
    has them)."""
    limit = first
    while True:
        b = lib.store.embeddings_since(model, after, limit=limit)
        if not len(b.keys):
            return
        after, limit = b.last, CHUNK
        yield b._replace(vectors=b.vectors[:0])


def _chunk_rows(lib: Library, v: VectorSpace, batch: EmbeddingBatch, k: int, names: dict[int, str] | None,
                scan: Scan) -> tuple[list[NoveltyRow], dict[str, str]]:
    """A chunk's novelty rows from its scan (each paper's nearest earlier papers), and each paper's cohort."""
    from paperscope.semantic.novelty import DUPLICATE_RULES, NOT_ENOUGH_HISTORY, near_duplicate

    ids, cats, years = batch.ids, batch.categories, _years(batch.days).tolist()
    nb, sims, n_earlier = scan
    if names is None:
        wanted = np.unique(nb[nb >= 0]).tolist()
        names = lib.store.ids_for_keys(wanted) if wanted else {}
    floor = min(DUPLICATE_RULES.get(v.model, (0.9, 0.95)))
    # The index compares compressed vectors (off by up to ~0.01 in cosine): the pairs near a near-duplicate threshold
    # are measured again at full precision before the rule reads them.
    first = nb[:, 0].tolist()
    close = {r: names.get(first[r]) for r in np.flatnonzero((nb[:, 0] >= 0) & (sims[:, 0] >= floor - 0.02)).tolist()}
    exact = v.vectors_of(sorted({ids[r] for r in close} | {x for x in close.values() if x}))
    top_sim: dict[int, float] = {}
    for r, near_id in close.items():
        if near_id and ids[r] in exact and near_id in exact:
            top_sim[r] = float(exact[ids[r]] @ exact[near_id])
    # Only these can be near-duplicates (each rule's threshold is at least `floor`); their texts are read by key.
    suspects = {r for r, s in top_sim.items() if s >= floor}
    own = batch.keys.tolist()
    texts = lib.store.titles_and_authors(list({own[r] for r in suspects} | {first[r] for r in suspects}))
    ss = sims.astype(np.float64)
    for r, s in top_sim.items():
        ss[r, 0] = s
    ok = nb >= 0
    full_np = np.asarray(ok.all(axis=1))
    # A row's mean over its k columns, as np.mean of the row alone would give it (same summation); the rows with
    # fewer neighbours than k are averaged one by one below.
    means: list[float] = np.where(full_np, ss.mean(axis=1), np.nan).tolist()
    full: list[bool] = full_np.tolist()
    has_any: list[bool] = np.asarray(ok.any(axis=1)).tolist()
    nb_rows: list[list[int]] = nb.tolist()
    ss_rows: list[list[float]] = ss.tolist()
    ok_rows: list[list[bool]] = ok.tolist()
    earlier: list[int] = n_earlier.tolist()
    rows: list[NoveltyRow] = []
    cohorts: dict[str, str] = {}
    for r, pid in enumerate(ids):
        cohorts[pid] = f"{cats[r]}|{years[r]}"
        if earlier[r] < k or earlier[r] == 0 or not has_any[r]:
            rows.append((pid, None, None, NOT_ENOUGH_HISTORY, []))
            continue
        pairs: Iterable[tuple[int, float]]
        if full[r]:
            mean = means[r]
            pairs = zip(nb_rows[r], ss_rows[r])
        else:
            mean = float(np.mean(ss[r][ok[r]]))
            pairs = ((key, s) for key, s, o in zip(nb_rows[r], ss_rows[r], ok_rows[r]) if o)
        neighbours = [(name, s) for key, s in pairs if (name := names.get(key)) is not None]
        value = 1.0 - mean
        reason = ""
        if r in suspects:  # its first neighbour is the one measured again (named, or it would be no suspect)
            a, b = texts.get(own[r]), texts.get(first[r])
            if a is not None and b is not None:
                check = near_duplicate(neighbours[0][1], model=v.model, title=a[0], earlier_title=b[0],
                                       authors=a[1], earlier_authors=b[1], earlier_id=neighbours[0][0])
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
