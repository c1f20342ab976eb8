"""The PostgreSQL library against the SQLite file, on the real snapshot sample (57,821 papers), in one run.

    python bench/pg_store.py [--dsn postgresql:///postgres] [--papers N] [--rounds 7] [--snapshot FILE]

Both stores get the same parsed papers (a first import: `bulk()`, `upsert_papers` finding code links as it writes,
`finish_import`); then the four demo topics' digests (`newest_matching`, 100 papers), relevance searches of 24
queries (`search`, 20 papers) and their counts, each repeated `--rounds` times. Prints each figure for both, the ratio PostgreSQL / SQLite, and
whether both selected the same papers. The peer is this project's own SQLite store; the server is the local one
(Debian's PostgreSQL 15, default settings). Needs ../shared/corpus.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "corpus" / "arxiv_snapshot_sample.jsonl.gz"
TOPICS = ['"reward model" OR RLHF NOT survey', 'hallucination AND ("large language model" OR LLM OR VLM OR MLLM)',
          '"diffusion model" OR "score-based"', '(agent OR agentic) AND (LLM OR "language model") NOT survey']
SEARCHES = ['"reward model" OR RLHF NOT survey', 'hallucination AND ("large language model" OR LLM)', "ti:diffusion",
            "au:Liu", 'abs:"state-of-the-art"', "transformers", "graph neural networks", "cat:cs.CL AND agents",
            "co:ICLR", "LLMs", '"chain-of-thought"', "benchmark NOT cat:cs.CV", "segmentation OR detection",
            "Schmidhuber", "zero-shot", "RL", "federated", '"in-context learning"', 'au:"Yang Liu"', "multi-agent",
            "3D", "GPT-4", "ViT", "co:code"]


def timed(fn: object, rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="postgresql:///postgres")
    ap.add_argument("--papers", type=int, default=0, help="first N papers only (default: all)")
    ap.add_argument("--snapshot", type=Path, default=SAMPLE,
                    help="JSON lines to read instead (e.g. bench/data/snapshot_300000.jsonl.gz, `make_snapshot.py`)")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from paperscope.query import parse_query
    from paperscope.scoring.codelinks import primary_code_url
    from paperscope.scoring.names import author_index_keys
    from paperscope.sources.detect import read_file
    from paperscope.store.api import PaperQuery
    from paperscope.store.postgres import PostgresStore
    from paperscope.store.sqlite import SQLiteStore

    papers = []
    for p in read_file(args.snapshot):
        papers.append(p)
        if args.papers and len(papers) >= args.papers:
            break
    print(f"{len(papers):,} papers from {args.snapshot.name}; medians of {args.rounds} rounds")
    schema = "bench_" + uuid.uuid4().hex[:8]
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {
            "sqlite": SQLiteStore(Path(tmp) / "lib.db", code_links=primary_code_url, author_keys=author_index_keys),
            "postgres": PostgresStore(args.dsn, schema=schema, code_links=primary_code_url,
                                      author_keys=author_index_keys, cache_dir=Path(tmp) / "cache"),
        }
        try:
            for name, store in stores.items():
                r: dict[str, object] = {}
                t = time.perf_counter()
                with store.bulk():
                    store.upsert_papers(papers)  # code links found as the rows are written, as `import` does
                store.finish_import()
                r["import_s"] = time.perf_counter() - t
                topics = [PaperQuery(parse_query(q)) for q in TOPICS]
                searches = [PaperQuery(parse_query(q)) for q in SEARCHES]
                r["digest_s"], r["digest"] = timed(lambda: [[p.id for p in store.newest_matching(q, 100)]
                                                            for q in topics], args.rounds)
                r["search_s"], r["search"] = timed(lambda: [[p.id for p in store.search(q, limit=20)]
                                                            for q in searches], args.rounds)
                r["count_s"], r["count"] = timed(lambda: [store.count_matching(q) for q in searches], args.rounds)
                results[name] = r
        finally:
            for store in stores.values():
                store.close()
            import psycopg

            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    lite, pg = results["sqlite"], results["postgres"]
    rows = [("first import (upsert + finish)", "import_s", 1, len(papers), "papers/s"),
            (f"{len(TOPICS)} topic digests of 100 papers", "digest_s", len(TOPICS), None, "ms a digest"),
            (f"{len(SEARCHES)} relevance searches, top 20", "search_s", len(SEARCHES), None, "ms a search"),
            (f"{len(SEARCHES)} match counts", "count_s", len(SEARCHES), None, "ms a count")]
    for label, key, per, n, unit in rows:
        a, b = float(lite[key]), float(pg[key])  # type: ignore[arg-type]
        if n:
            print(f"  {label}: SQLite {a:.1f} s ({n / a:,.0f} {unit}), PostgreSQL {b:.1f} s ({n / b:,.0f} {unit}); "
                  f"PostgreSQL / SQLite {b / a:.2f}x")
        else:
            print(f"  {label}: SQLite {1000 * a / per:.2f} {unit}, PostgreSQL {1000 * b / per:.2f} {unit}; "
                  f"PostgreSQL / SQLite {b / a:.2f}x")
    same_digest = lite["digest"] == pg["digest"]
    same_count = lite["count"] == pg["count"]
    top = [len(set(x[:10]) & set(y[:10])) for x, y in zip(lite["search"], pg["search"])]  # type: ignore[call-overload]
    print(f"  same digests: {'yes' if same_digest else 'NO'}; same counts: {'yes' if same_count else 'NO'}; "
          f"relevance top 10 shared with SQLite's BM25: {statistics.mean(top):.1f} on average")


if __name__ == "__main__":
    main()
