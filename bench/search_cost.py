"""Where the time of a relevance search goes, and which bounded candidate sets keep exact BM25's top 20 (issue #12).

    python bench/search_cost.py /tmp/p300/lib_imported.db            # the six queries of bench/scale.py
    python bench/search_cost.py LIB.db --cap 2000 --query '"diffusion model"'

The library is opened read-only. Per query, medians of --repeat runs, all in this one process:

  exact     today's `ORDER BY bm25(...) LIMIT 20` (SQLiteStore.search without the papers' rows)
  idf       bm25 over the 6 newest matches only: what FTS5's bm25 costs before it scores a single row (it counts
            each phrase's documents over the whole index to get its IDF, once per statement and per xFilter)
  newest    the newest CAP matches by rowid (`ORDER BY rowid DESC LIMIT CAP`): the bounded part
  title     title/authors-filtered MATCH, newest CAP of them: reads the same doclists as the full query
  overlap   |top-20 ∩ exact top-20| when BM25 orders only these candidates: newest CAP, newest CAP ∪ newest CAP
            title matches, newest CAP ∪ every title match
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ['"diffusion model"', "transformer AND segmentation", "reinforcement learning NOT survey",
           "graph neural network", '"large language model" hallucination', "quantum error correction"]
BM25 = "bm25(papers_fts, 8.0, 1.0, 4.0, 0.5, 0.0)"


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path)
    ap.add_argument("--cap", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--query", action="append", help="instead of the six queries of bench/scale.py")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from paperscope.query import parse_query
    from paperscope.store.api import PaperQuery
    from paperscope.store.fts5 import compile_match
    from paperscope.store.sqlite import SQLiteStore

    store = SQLiteStore(args.db, readonly=True)
    conn, cap = store.conn, args.cap

    def rows(sql: str, *params: Any) -> list[Any]:
        return conn.execute(sql, params).fetchall()

    print(f"{store.count():,} papers, CAP {cap:,}; times in ms, median of {args.repeat}")
    for q in args.query or QUERIES:
        full = compile_match(PaperQuery(parse_query(q)))
        assert full is not None
        in_title = full.replace("{title abstract authors comment}", "{title authors}")
        exact = median_ms(lambda: rows(f"SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? "
                                       f"ORDER BY {BM25} LIMIT 20", full), args.repeat)
        newest_rows = [r for (r,) in rows("SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? "
                                          "ORDER BY rowid DESC LIMIT ?", full, cap)]
        newest = median_ms(lambda: rows("SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? "
                                        "ORDER BY rowid DESC LIMIT ?", full, cap), args.repeat)
        if not newest_rows:
            print(f"{q:38s} matches nothing")
            continue
        sixth = newest_rows[min(5, len(newest_rows) - 1)]
        idf = median_ms(lambda: rows(f"SELECT {BM25} FROM papers_fts WHERE papers_fts MATCH ? AND rowid >= ?",
                                     full, sixth), args.repeat)
        title = median_ms(lambda: rows("SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? "
                                       "ORDER BY rowid DESC LIMIT ?", in_title, cap), args.repeat)
        score = dict(rows(f"SELECT rowid, {BM25} FROM papers_fts WHERE papers_fts MATCH ?", full))
        best = set(sorted(score, key=score.__getitem__)[:20])
        titles = [r for (r,) in rows("SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rowid DESC",
                                     in_title) if r in score]

        def overlap(candidates: set[int]) -> int:
            return len(set(sorted(candidates, key=score.__getitem__)[:20]) & best)

        print(f"{q:38s} {len(score):>7,} match, {len(titles):>6,} in title | exact {exact:6.1f} | idf {idf:5.1f} "
              f"({idf / exact:4.0%}) newest {newest:5.1f} title {title:5.1f} | overlap/20: "
              f"newest {overlap(set(newest_rows))}, +newest titles {overlap(set(newest_rows) | set(titles[:cap]))}, "
              f"+all titles {overlap(set(newest_rows) | set(titles))}")


if __name__ == "__main__":
    main()
