"""Bytes and seconds to store AI Scores: inputs whole in every row (the peer) against shared notes.

Reads `--rows` real AI Score rows (id, value, method, inputs) from the library `bench/scale.py` left, then writes
them into two fresh libraries, in batches as `paperscope score` writes them: once as whole JSON per row (what the
store did before its score notes, the same INSERT), once through `SQLiteStore.save_scores`. Rounds alternate which
goes first.

    python bench/score_storage.py --papers 2900000 --rows 200000 --rounds 3

Prints the median seconds of each, the bytes of the scores table per row, and the ratios.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from paperscope.store.codec import iso  # noqa: E402
from paperscope.store.sqlite import SQLiteStore  # noqa: E402

BATCH = 25_000
WHEN = datetime(2026, 12, 1, tzinfo=timezone.utc)


def real_rows(db: Path, n: int) -> list[tuple[str, float, str, dict[str, object]]]:
    store = SQLiteStore(db, readonly=True)
    try:
        ids = [i for (i,) in store.conn.execute("SELECT arxiv_id FROM scores ORDER BY arxiv_id LIMIT ?", (n,))]
        got = store.scores_for(ids)
    finally:
        store.close()
    return [(i, float(got[i]["value"]), str(got[i]["method"]), dict(got[i]["inputs"])) for i in ids]


def table_bytes(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN ('scores', 'score_notes', "
                            "'sqlite_autoindex_scores_1', 'sqlite_autoindex_score_notes_1')").fetchone()[0])


def write(kind: str, rows: list[tuple[str, float, str, dict[str, object]]], where: Path) -> tuple[float, int]:
    store = SQLiteStore(where / f"{kind}.db")
    try:
        t = time.perf_counter()
        for s in range(0, len(rows), BATCH):
            part = rows[s:s + BATCH]
            if kind == "whole":
                store.conn.execute("BEGIN IMMEDIATE")
                store.conn.executemany(
                    "INSERT OR REPLACE INTO scores(arxiv_id, value, method, inputs, computed) VALUES (?,?,?,?,?)",
                    [(i, v, m, orjson.dumps(inp, default=str), iso(WHEN)) for i, v, m, inp in part])
                store.conn.execute("COMMIT")
            else:
                store.save_scores(part, WHEN)
        secs = time.perf_counter() - t
        return secs, table_bytes(store.conn)
    finally:
        store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, default=2_900_000, help="the bench/scale.py library to read scores from")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    db = HERE / "data" / f"scale_{a.papers}" / "library.db"
    if not db.exists():
        raise SystemExit(f"{db}: no library; run python bench/scale.py --papers {a.papers} first")
    rows = real_rows(db, a.rows)
    secs: dict[str, list[float]] = {"whole": [], "notes": []}
    size: dict[str, int] = {}
    for r in range(a.rounds):
        order = ["whole", "notes"] if r % 2 == 0 else ["notes", "whole"]
        for kind in order:
            with tempfile.TemporaryDirectory() as tmp:
                s, b = write(kind, rows, Path(tmp))
            secs[kind].append(s)
            size[kind] = b
    w, n = statistics.median(secs["whole"]), statistics.median(secs["notes"])
    print(f"{len(rows):,} real AI Score rows of the {a.papers:,}-paper library, batches of {BATCH:,}")
    print(f"  inputs whole (peer)  {w:6.2f} s   {size['whole'] / len(rows):7.0f} bytes a row")
    print(f"  shared notes         {n:6.2f} s   {size['notes'] / len(rows):7.0f} bytes a row")
    print(f"  ratio: time {n / w:.3f}, bytes {size['notes'] / size['whole']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
