"""Relevance search by paperscope's ranking lists against FTS5's own bm25() ranking, in the same process (issue #12).

    python bench/search_lists.py LIB.db                    # the six queries of bench/scale.py
    python bench/search_lists.py LIB.db --query '"reward model" NOT survey' --repeat 7

The library is opened read-only and must have its lists (`<db>.rank/`, built by an import once a library holds
200k papers, or by `--build`). Per query, the median of --repeat runs of `SQLiteStore.search(q, limit=20)`, the
papers' rows included, two ways, interleaved: through the lists, and with the lists turned off (FTS5's
`ORDER BY bm25(...)`, the peer). It prints both, their ratio, and how many of FTS5's top 20 the lists return and
whether in the same order.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ['"diffusion model"', "transformer AND segmentation", "reinforcement learning NOT survey",
           "graph neural network", '"large language model" hallucination', "quantum error correction"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--query", action="append", help="instead of the six queries of bench/scale.py")
    ap.add_argument("--build", action="store_true", help="build the lists first (opens the library for writing)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from paperscope.query import parse_query
    from paperscope.store import sqlite as sqlite_store
    from paperscope.store.api import PaperQuery
    from paperscope.store.sqlite import SQLiteStore

    if args.build:
        with SQLiteStore(args.db) as w:
            t = time.perf_counter()
            w.update_rank_index()
            print(f"lists built or brought up to date in {time.perf_counter() - t:.1f} s")
    store = SQLiteStore(args.db, readonly=True)
    lists_on = sqlite_store.RANK_FTS_POSTINGS

    def run(q: PaperQuery, lists: bool) -> tuple[float, list[str]]:
        sqlite_store.RANK_FTS_POSTINGS = lists_on if lists else 1 << 62
        t = time.perf_counter()
        ids = [p.id for p in store.search(q, limit=20)]
        return time.perf_counter() - t, ids

    print(f"{store.count():,} papers; store.search(limit=20), median of {args.repeat} (ms)")
    print(f"{'query':40s} {'lists':>8s} {'FTS5':>8s} {'ratio':>7s}  top 20")
    ours_all, fts_all = [], []
    for text in args.query or QUERIES:
        q = PaperQuery(parse_query(text))
        run(q, True)  # the first call of a process learns its words and opens the lists
        ours, theirs = [], []
        for _ in range(args.repeat):
            a, ids_ours = run(q, True)
            b, ids_fts = run(q, False)
            ours.append(a)
            theirs.append(b)
        mo, mf = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
        ours_all.append(mo)
        fts_all.append(mf)
        same = len(set(ids_ours) & set(ids_fts))
        order = "same order" if ids_ours == ids_fts else "order differs"
        print(f"{text:40s} {mo:8.1f} {mf:8.1f} {mf / mo:6.1f}x  {same}/{len(ids_fts)}, {order}")
    po, pf = statistics.median(ours_all), statistics.median(fts_all)
    print(f"{'p50 over the queries':40s} {po:8.1f} {pf:8.1f} {pf / po:6.1f}x")
    sqlite_store.RANK_FTS_POSTINGS = lists_on


if __name__ == "__main__":
    main()
