"""Snapshot import end to end (JSON lines -> SQLite with FTS5) against only parsing the same file.

    python bench/bench_import.py [--n 1000000] [--file bench/data/snapshot_1m.jsonl.gz]

Generates the file with bench/make_snapshot.py when it is missing (needs ../shared/corpus).
Prints: parse-only seconds and lines/s, import seconds and papers/s, and import/parse ratio. Aim: 1M in <= 60 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def ensure_file(path: Path, n: int) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_snapshot.py"), "--n", str(n), "--out", str(path)], check=True)
    return path


def main() -> None:
    from paperscope.service.ingest import import_file
    from paperscope.sources.snapshot import iter_snapshot
    from paperscope.store.sqlite import SQLiteStore

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--db", type=Path, default=HERE / "data" / "library_1m.db")
    ap.add_argument("--keep", action="store_true", help="keep an existing database (skip the import)")
    args = ap.parse_args()
    path = ensure_file(args.file or HERE / "data" / f"snapshot_{args.n}.jsonl", args.n)

    t = time.perf_counter()
    parsed = sum(1 for _ in iter_snapshot(path))
    parse_s = time.perf_counter() - t
    print(f"parse only      : {parsed:,} papers in {parse_s:6.1f} s  ({parsed / parse_s:,.0f}/s)")

    if args.keep and args.db.exists():
        return
    for suffix in ("", "-wal", "-shm"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)
    t = time.perf_counter()
    with SQLiteStore(args.db) as store:
        report = import_file(store, path)
        t_rows = time.perf_counter() - t
        store.optimize()
        total = time.perf_counter() - t
        t = time.perf_counter()
        store.fill_code_urls()  # what `paperscope import` does next, so bench_digest reads what users get
        code_s = time.perf_counter() - t
    print(f"import (rows+FTS): {report.new:,} papers in {t_rows:6.1f} s, optimize {total - t_rows:4.1f} s")
    print(f"import end to end: {total:6.1f} s  ({report.new / total:,.0f} papers/s)  "
          f"ratio vs parse-only: {total / parse_s:4.1f}x  aim: <= 60 s for 1M -> {'MET' if total <= 60 * args.n / 1e6 else 'NOT met'}")
    print(f"code links afterwards (paperscope import runs this too): {code_s:6.1f} s")


if __name__ == "__main__":
    main()
