"""What a snapshot import cannot go below on this machine: the CPU cost per paper of the parts every import pays,
each measured alone on the same records, against the 2-core budget that issue #12's aims leave per paper.

    python bench/import_floor.py bench/data/snapshot_1000000.jsonl.gz --n 200000

Measured per paper, in one process, on the first --n records (texts held in memory first, so no part pays for
reading another's input), with the garbage collector set as the import sets it:

  decode   orjson.loads of the line (the floor of any JSON reader)
  paper    the snapshot reader's record -> Paper (dates, authors, versions, whitespace), after decoding
  fts5     FTS5 alone: the five indexed texts into a contentless table with the library's tokenizer and hash size,
           in 100k-row transactions, then the final merge ('optimize') -- the side process's whole job

Then the budget: aim seconds x 2 cores / papers (1M in 60 s: 120 us a paper; 2.9M in 180 s: 124 us), the sum of
the parts above, and the ratio sum / budget. A ratio above 1 means no overlap of processes can reach the aim
without making one of the parts itself cheaper (the real import also writes the papers table, the author index
and looks for code links, which are not counted here).
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = {"1M in 60 s": 60.0 * 2 / 1_000_000, "2.9M in 180 s": 180.0 * 2 / 2_900_000}


def read_lines(path: Path, n: int) -> list[bytes]:
    from paperscope.sources.snapshot import open_input

    stream, raw = open_input(path)
    lines: list[bytes] = []
    rest = b""
    try:
        while len(lines) < n:
            block = stream.read(4 << 20)
            if not block:
                break
            parts = (rest + block).split(b"\n")
            rest = parts.pop()
            lines.extend(p for p in parts if p.strip())
    finally:
        stream.close()
        raw.close()
    return lines[:n]


def time_decode(lines: list[bytes]) -> tuple[float, list[object]]:
    t = time.perf_counter()
    recs = [orjson.loads(line) for line in lines]
    return time.perf_counter() - t, recs


def time_paper(recs: list[object]) -> tuple[float, list[tuple[int, str, str, str, str, str]]]:
    from paperscope.sources.snapshot import record_to_paper

    t = time.perf_counter()
    papers = [record_to_paper(r) for r in recs]
    secs = time.perf_counter() - t
    rows = [(i + 1, p.title, p.abstract, ", ".join(a.name for a in p.authors), p.comment, " ".join(p.categories))
            for i, p in enumerate(papers)]
    return secs, rows


def time_fts5(rows: list[tuple[int, str, str, str, str, str]]) -> float:
    from paperscope.store.sideindex import COMMIT_ROWS, TOKENIZE
    from paperscope.store.sqlite import FTS_HASHSIZE

    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(str(Path(tmp) / "fts.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -131072")
        conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(title, abstract, authors, comment, categories, content='', "
                     f"tokenize='{TOKENIZE}')")
        conn.execute(f"INSERT INTO f(f, rank) VALUES ('hashsize', {FTS_HASHSIZE})")
        conn.execute("INSERT INTO f(f, rank) VALUES ('automerge', 0)")
        t = time.perf_counter()
        for start in range(0, len(rows), COMMIT_ROWS):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO f(rowid, title, abstract, authors, comment, categories) VALUES (?,?,?,?,?,?)",
                             rows[start:start + COMMIT_ROWS])
            conn.execute("COMMIT")
        conn.execute("INSERT INTO f(f) VALUES ('optimize')")
        secs = time.perf_counter() - t
        conn.close()
    return secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("snapshot", type=Path)
    ap.add_argument("--n", type=int, default=200_000, help="records measured (default 200,000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each part; the median is printed")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    lines = read_lines(args.snapshot, args.n)
    n = len(lines)
    # The import's own collector setting: with the default one, the cyclic GC scanning the records and Papers held
    # in memory doubles what decoding and building cost.
    from paperscope.service.collector import BULK_GC

    gc.set_threshold(*BULK_GC)
    decode, paper, fts = [], [], []
    for _ in range(args.repeat):
        secs, recs = time_decode(lines)
        decode.append(secs)
        secs, rows = time_paper(recs)
        paper.append(secs)
        fts.append(time_fts5(rows))
        del recs
    parts = {"decode": statistics.median(decode) / n, "paper": statistics.median(paper) / n,
             "fts5": statistics.median(fts) / n}
    total = sum(parts.values())
    print(f"{n:,} records, median of {args.repeat}; CPU microseconds per paper:")
    for name, per in parts.items():
        print(f"  {name:7s} {per * 1e6:7.1f} us")
    print(f"  {'sum':7s} {total * 1e6:7.1f} us")
    for aim, budget in BUDGETS.items():
        print(f"  budget for {aim} on 2 cores: {budget * 1e6:.0f} us a paper; these parts alone use "
              f"{total / budget:.2f}x of it (FTS5 alone {parts['fts5'] / budget:.2f}x)")


if __name__ == "__main__":
    main()
