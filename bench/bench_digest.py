"""Topic digest latency over a big library: p50/p95 per topic, against a plain `MATCH ... ORDER BY date LIMIT 100`.

    python bench/bench_digest.py [--db bench/data/library_1m.db] [--repeat 30]

Run bench/bench_import.py first to build the library. Topics range from narrow to broad (a quarter of the library).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from paperscope.models import Topic

HERE = Path(__file__).resolve().parent
TOPICS = [
    Topic("Reward Model", '"reward model" OR RLHF NOT survey', ["cs.CL", "cs.LG"]),
    Topic("Hallucination", 'hallucination AND (LLM OR "language model")'),
    Topic("Diffusion", '"diffusion model" OR "score-based"', ["cs.CV"]),
    Topic("Graph Neural Networks", '"graph neural network" OR GNN'),
    Topic("Broad: model", "model"),
    Topic("Broad: learning OR data", "learning OR data"),
    Topic("Broad: cs.CV", "image OR images OR visual", ["cs.CV"]),
]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main() -> None:
    from paperscope.config import Config
    from paperscope.library import Library
    from paperscope.service.digest import topic_papers
    from paperscope.service.ingest import topic_query as topic_match
    from paperscope.store.fts5 import compile_match
    from paperscope.store.sqlite import SQLiteStore

    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=HERE / "data" / "library_1m.db")
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    store = SQLiteStore(args.db, readonly=True)
    lib = Library(Config(None), store)
    n = store.count()
    print(f"library: {n:,} papers")
    print(f"{'topic':28} {'matches':>9} {'share':>6} {'p50 ms':>8} {'p95 ms':>8} {'plain p50':>10} {'ratio':>7}")
    p50s = []
    for t in TOPICS:
        match = topic_match(t)
        total = store.count_matching(match)
        ours = []
        for _ in range(args.repeat):
            s = time.perf_counter()
            got = topic_papers(lib, t)
            ours.append((time.perf_counter() - s) * 1000)
        plain = []
        for _ in range(max(3, args.repeat // 6)):
            s = time.perf_counter()
            rows = store.conn.execute(
                "SELECT p.arxiv_id FROM papers_fts f JOIN papers p ON p.sort_key = f.rowid WHERE papers_fts MATCH ? "
                "ORDER BY p.updated DESC, p.arxiv_id DESC LIMIT ?", (compile_match(match), t.max_papers)).fetchall()
            plain.append((time.perf_counter() - s) * 1000)
        assert [p.id for p in got] == [r[0] for r in rows], f"{t.name}: order differs from the plain query"
        p50 = statistics.median(ours)
        p50s.append(p50)
        print(f"{t.name:28} {total:9,} {total / n:6.1%} {p50:8.2f} {pct(ours, 0.95):8.2f} "
              f"{statistics.median(plain):10.1f} {statistics.median(plain) / p50:6.0f}x")
    print(f"median of topic p50s: {statistics.median(p50s):.2f} ms  (aim: p50 <= 10 ms)")


if __name__ == "__main__":
    main()
