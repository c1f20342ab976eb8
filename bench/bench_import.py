"""Snapshot import end to end (JSON lines -> SQLite with FTS5 and code links) against only parsing the same file,
then what a daily increment of 1,000 papers into that big library costs, part by part.

    python bench/bench_import.py [--n 1000000] [--file bench/data/snapshot_1m.jsonl.gz] [--increment 1000]

Generates the file with bench/make_snapshot.py when it is missing (needs ../shared/corpus).
Prints: parse-only seconds and papers/s; import seconds (rows + index + code links, then the after-import pass)
and papers/s; the import/parse ratio; what writing the change log costs; and the increment's seconds by part
(upsert, index check, merge, code-link pass). Aim: 1M in <= 60 s, 2.9M in <= 3 min, on 2 cores.
The machine's load is printed too: other work on the cores moves every figure, the ratios less.

Where the time went (200k papers, 2 busy cores, CPU seconds): before, main process 22 (parse, rows, SQLite) +
side index process 22 (FTS5) + an after-import pass of 18 (code links on one paper in five, then every row
rewritten to store '' or the link, then a whole-index merge). Now code links are found while rows are built and
the pass is gone: main 32, side 21, pass 0. Per paper in the main process, roughly: building the Paper ~ building
the row (authors/versions JSON, dates) > orjson decode > code links (~60 us on average) > NUL check > row JSON.
Next step for the 60 s aim: a leaner parse path (JSON dict straight to row tuple) in a separate process.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent


def ensure_file(path: Path, n: int) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_snapshot.py"), "--n", str(n), "--out", str(path)], check=True)
    return path


def load() -> str:
    try:
        return "load average %.1f %.1f %.1f on %d cores" % (*os.getloadavg(), os.cpu_count() or 0)
    except OSError:
        return "load unknown"


def increment_file(src: Path, out: Path, n: int, known: list[str]) -> Path:
    """`n` papers for a daily import: most brand new (ids after the snapshot's last month), one in ten a newer
    version of a paper the library has (`known` ids). Texts are the snapshot's own."""
    opener = gzip.open if src.read_bytes()[:2] == b"\x1f\x8b" else open
    revised = max(1, n // 10)
    with opener(src, "rb") as f, open(out, "wb") as o:
        for i, line in enumerate(f):
            if i >= n:
                break
            rec = orjson.loads(line)
            vs = rec.get("versions") or [{"version": "v1", "created": "Mon, 1 Sep 2026 10:00:00 GMT"}]
            if i < revised:
                rec["id"] = known[i]
                vs = [*vs, {"version": f"v{len(vs) + 1}", "created": "Tue, 2 Sep 2026 10:00:00 GMT"}]
                vs = [{"version": f"v{k + 1}", "created": v["created"]} for k, v in enumerate(vs)]
            else:
                rec["id"] = f"2609.{i:05d}"
                vs = [{"version": "v1", "created": "Tue, 1 Sep 2026 10:00:00 GMT"}]
            rec["versions"] = vs
            o.write(orjson.dumps(rec) + b"\n")
    return out


def change_log_cost(store: object, rows: int) -> float:
    """Seconds to write `rows` change-log rows the way an import does (one INSERT ... SELECT per 2,000 papers),
    into a scratch table of the same shape."""
    conn = store.conn  # type: ignore[attr-defined]
    conn.execute("CREATE TEMP TABLE bench_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, pk INTEGER NOT NULL)")
    t = time.perf_counter()
    conn.execute("BEGIN")
    for start in range(0, rows, 2000):
        conn.execute("INSERT INTO bench_changes(pk) SELECT pk FROM papers WHERE pk > ? AND pk <= ? ORDER BY pk",
                     (start, start + 2000))
    conn.execute("COMMIT")
    took = time.perf_counter() - t
    conn.execute("DROP TABLE bench_changes")
    return took


def main() -> None:
    from paperscope.scoring.codelinks import primary_code_url
    from paperscope.service.ingest import bulk_upsert, import_file
    from paperscope.sources.snapshot import iter_snapshot
    from paperscope.store.sqlite import SQLiteStore

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--db", type=Path, default=HERE / "data" / "library_1m.db")
    ap.add_argument("--keep", action="store_true", help="keep an existing database (skip the import)")
    ap.add_argument("--increment", type=int, default=1000, help="papers in the daily increment (0: none)")
    ap.add_argument("--no-parse", action="store_true", help="skip the parse-only baseline")
    args = ap.parse_args()
    path = ensure_file(args.file or HERE / "data" / f"snapshot_{args.n}.jsonl", args.n)
    print(load())

    parse_s = 0.0
    if not args.no_parse:
        t = time.perf_counter()
        parsed = sum(1 for _ in iter_snapshot(path))
        parse_s = time.perf_counter() - t
        print(f"parse only       : {parsed:,} papers in {parse_s:6.1f} s  ({parsed / parse_s:,.0f}/s)")

    if not (args.keep and args.db.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
        t = time.perf_counter()
        with SQLiteStore(args.db, code_links=primary_code_url) as store:
            report = import_file(store, path)
            t_rows = time.perf_counter() - t
            checked = store.finish_import()  # what `paperscope import` runs next
            total = time.perf_counter() - t
            log_s = change_log_cost(store, report.new)
        print(f"import (rows, index, code links): {report.new:,} papers in {t_rows:6.1f} s; "
              f"after-import pass {total - t_rows:4.1f} s ({checked:,} papers looked at)")
        ratio = f"ratio vs parse-only: {total / parse_s:4.1f}x  " if parse_s else ""
        aim = 60 * args.n / 1e6
        print(f"import end to end: {total:6.1f} s  ({report.new / total:,.0f} papers/s)  {ratio}"
              f"aim: <= {aim:.0f} s for {args.n:,} -> {'MET' if total <= aim else 'NOT met'}")
        print(f"change log       : {log_s:5.2f} s to write {report.new:,} rows "
              f"({100 * log_s / total:.1f}% of the import)")
        print(load())

    if args.increment:
        with SQLiteStore(args.db, code_links=primary_code_url) as store:
            known = [r[0] for r in store.conn.execute("SELECT arxiv_id FROM papers ORDER BY pk LIMIT ?",
                                                      (max(1, args.increment // 10),))]
        inc = increment_file(path, Path(str(args.db) + ".increment.jsonl"), args.increment, known)
        t0 = time.perf_counter()
        with SQLiteStore(args.db, code_links=primary_code_url) as store:  # a writer open checks the index
            t1 = time.perf_counter()
            seq = store.change_seq()
            with store.bulk():
                stats = bulk_upsert(store, iter_snapshot(inc))
            t2 = time.perf_counter()
            store.repair_index()
            t3 = time.perf_counter()
            store.finish_import()  # repair check again, the bounded merge, the code-link pass
            t4 = time.perf_counter()
            changed = len(store.changed_since(seq))
            size = store.count()
            print(f"increment        : {stats.new:,} new + {stats.updated:,} newer versions into {size:,} "
                  f"papers: {t4 - t0:5.2f} s  (open {t1 - t0:.2f}, upsert {t2 - t1:.2f}, index check {t3 - t2:.3f}, "
                  f"merge + code-link pass {t4 - t3:.2f}); {changed:,} change-log rows")
            # What the same increment paid before: two full counts at open and again after, a whole-index merge,
            # and a scan for unchecked code links.
            t = time.perf_counter()
            store.index_in_step(thorough=True)
            t5 = time.perf_counter()
            store.conn.execute("SELECT count(*) FROM papers WHERE code_url IS NULL").fetchone()
            t6 = time.perf_counter()
            store.optimize()
            t7 = time.perf_counter()
            old = (t2 - t1) + 2 * (t5 - t) + (t6 - t5) + (t7 - t6)
            print(f"  before (same run): full counts {t5 - t:.2f} s x2, code-link scan {t6 - t5:.2f} s, whole merge "
                  f"{t7 - t6:.2f} s -> about {old:.1f} s; now {t4 - t0:.2f} s ({old / (t4 - t0):.0f}x less)")
        inc.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
