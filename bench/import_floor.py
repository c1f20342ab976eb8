"""What a snapshot import cannot go below on this machine: the CPU cost per paper of the parts every import pays,
each measured alone on the same records, against the 2-core budget that issue #12's aims leave per paper.

    python bench/import_floor.py bench/data/snapshot_1000000.jsonl.gz --n 200000

Measured per paper, in one process, on the first --n records (texts held in memory first, so no part pays for
reading another's input), with the garbage collector set as the import sets it:

  decode   orjson.loads of the line (the floor of any JSON reader)
  paper    the snapshot reader's record -> Paper (dates, authors, versions, whitespace), after decoding
  fts5     FTS5 alone: the five indexed texts into a contentless table with the library's tokenizer and hash size,
           in 100k-row transactions, then the final merge ('optimize') -- the side process's whole job
  fts5 idx the same index with no tokenizing: each text given as FTS5's own terms for it (found beforehand, not
           timed) to the `ascii` tokenizer, which then only splits at spaces; checked to give the very same terms,
           columns and counts. What any full-text build into FTS5 pays, however its words are found
  lists    the ranking lists' segment build (`rankindex.build_segment`, 100k papers a segment, a worker's own
           Terms), which the search aim at 2.9M needs beside FTS5

Then the budget: aim seconds x 2 cores / papers (1M in 60 s: 120 us a paper; 2.9M in 180 s: 124 us), the sum of
decode, paper, fts5 and lists, and the ratio sum / budget; and the same for the least of it: decode, fts5 idx and
lists. A ratio above 1 means no overlap of processes can reach the aim
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

import numpy as np
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


Rows = list[tuple[int, str, str, str, str, str]]


def _fts5_table(path: str, tokenize: str) -> sqlite3.Connection:
    from paperscope.store.sqlite import FTS_HASHSIZE

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -131072")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(title, abstract, authors, comment, categories, content='', "
                 f"tokenize='{tokenize}')")
    conn.execute(f"INSERT INTO f(f, rank) VALUES ('hashsize', {FTS_HASHSIZE})")
    conn.execute("INSERT INTO f(f, rank) VALUES ('automerge', 0)")
    return conn


def _fill(conn: sqlite3.Connection, rows: Rows) -> None:
    from paperscope.store.sideindex import COMMIT_ROWS

    for start in range(0, len(rows), COMMIT_ROWS):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO f(rowid, title, abstract, authors, comment, categories) VALUES (?,?,?,?,?,?)",
                         rows[start:start + COMMIT_ROWS])
        conn.execute("COMMIT")
    conn.execute("INSERT INTO f(f) VALUES ('optimize')")


def time_fts5(rows: Rows, tokenize: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        conn = _fts5_table(str(Path(tmp) / "fts.db"), tokenize)
        t = time.perf_counter()
        _fill(conn, rows)
        secs = time.perf_counter() - t
        conn.close()
    return secs


def as_terms(rows: Rows) -> Rows:
    """Each text as the space-separated FTS5 terms of its words, in order (what the library's tokenizer makes of
    it), found by the ranking lists' `Terms`."""
    from paperscope.store.rankindex import Terms

    terms = Terms()
    cols: list[list[str]] = []
    found = []
    for col in range(1, 6):
        word_ids, owner = terms.text_ids([r[col] for r in rows])
        found.append(terms.expand(word_ids, owner))
    names = {tid: term for term, tid in terms._ids.items()}  # noqa: SLF001 - a benchmark reads the ids' names
    for ids, owner in found:
        bounds = np.searchsorted(owner, np.arange(len(rows) + 1)).tolist()
        words = [names[t] for t in ids.tolist()]
        cols.append([" ".join(words[bounds[i]:bounds[i + 1]]) for i in range(len(rows))])
    return [(r[0], cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i]) for i, r in enumerate(rows)]


def same_index(rows: Rows, term_rows: Rows) -> bool:
    """Whether the two ways give FTS5 the same terms per column with the same document and instance counts."""
    from paperscope.store.sideindex import TOKENIZE

    got = []
    for tokenize, data in ((TOKENIZE, rows), ("ascii", term_rows)):
        conn = _fts5_table(":memory:", tokenize)
        _fill(conn, data)
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, col)")
        got.append(conn.execute("SELECT term, col, doc, cnt FROM v ORDER BY term, col").fetchall())
        conn.close()
    return got[0] == got[1]


def time_lists(rows: Rows) -> float:
    from paperscope.store.rankindex import SEGMENT_PAPERS, Terms, build_segment

    t = time.perf_counter()
    terms = Terms()
    for start in range(0, len(rows), SEGMENT_PAPERS):
        build_segment(rows[start:start + SEGMENT_PAPERS], terms)
    return time.perf_counter() - t


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
    from paperscope.store.sideindex import TOKENIZE

    runs: dict[str, list[float]] = {"decode": [], "paper": [], "fts5": [], "fts5 idx": [], "lists": []}
    term_rows: Rows = []
    same = False
    for _ in range(args.repeat):
        secs, recs = time_decode(lines)
        runs["decode"].append(secs)
        secs, rows = time_paper(recs)
        runs["paper"].append(secs)
        del recs
        if not term_rows:
            term_rows = as_terms(rows)
            same = same_index(rows[:20_000], term_rows[:20_000])
        runs["fts5"].append(time_fts5(rows, TOKENIZE))
        runs["fts5 idx"].append(time_fts5(term_rows, "ascii"))
        runs["lists"].append(time_lists(rows))
    parts = {name: statistics.median(secs) / n for name, secs in runs.items()}
    print(f"{n:,} records, median of {args.repeat}; CPU microseconds per paper:")
    for name, per in parts.items():
        print(f"  {name:8s} {per * 1e6:7.1f} us")
    print(f"  FTS5 given its terms builds the same index: {'yes' if same else 'NO'} (first 20,000 records); "
          f"tokenizing is {1 - parts['fts5 idx'] / parts['fts5']:.0%} of FTS5's time")
    sums = {"decode + paper + fts5 + lists": parts["decode"] + parts["paper"] + parts["fts5"] + parts["lists"],
            "decode + fts5 idx + lists (the least of it)": parts["decode"] + parts["fts5 idx"] + parts["lists"]}
    for aim, budget in BUDGETS.items():
        print(f"  budget for {aim} on 2 cores: {budget * 1e6:.0f} us a paper")
        for label, total in sums.items():
            print(f"    {label}: {total * 1e6:.1f} us, {total / budget:.2f}x of it")


if __name__ == "__main__":
    main()
