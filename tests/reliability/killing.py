"""Shared by the kill -9 tests and `bench/reliability/kill_suite.py`: run paperscope in a subprocess, kill it
with SIGKILL after a seeded delay, rerun it, and compare the library with an uninterrupted run's."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import paperscope

SAMPLE = Path(paperscope.__file__).parent / "data" / "sample.jsonl.gz"
QUERIES = ("learning", "quantum", '"neural network"', "graph NOT survey", "au:smith")


def env() -> dict[str, str]:
    e = dict(os.environ)
    src = str(Path(paperscope.__file__).resolve().parents[1])
    e["PYTHONPATH"] = src + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


def cli(db: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paperscope", "--db", str(db), *args], capture_output=True,
                          text=True, env=env(), timeout=timeout)


def killed(db: Path, args: list[str], delay: float) -> bool:
    """Start `paperscope args`, SIGKILL it after `delay` s; True when it was killed (not already finished)."""
    proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--db", str(db), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
    time.sleep(delay)
    done = proc.poll() is not None
    if not done:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return not done


def integrity(db: Path, *, index: bool = True) -> None:
    """PRAGMA integrity_check and (with `index`) FTS5's integrity check with rank=1 pass (raises otherwise).

    Right after a kill only the file is checked: an index a first import had not adopted yet is repaired by
    the next writer, which is what the rerun then proves."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        if not index or conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'papers_fts'").fetchone() is None:
            return
        conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES('integrity-check', 1)")
        docs = conn.execute("SELECT count(*) FROM papers_fts_docsize").fetchone()[0]
        papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
        assert docs == papers, f"index holds {docs} papers, the library {papers}"
    finally:
        conn.close()


def snapshot(db: Path) -> dict[str, object]:
    """What must converge: ids, versions and texts, and the results of a few searches."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT arxiv_id, version, title, abstract, authors, versions_json FROM papers "
                            "ORDER BY arxiv_id").fetchall()
    finally:
        conn.close()
    hits = {qq: cli(db, "search", qq, "--limit", "50").stdout for qq in QUERIES}
    return {"papers": rows, "search": hits}


def delays(seed: int, n: int, longest: float) -> list[float]:
    rnd = random.Random(seed)
    return [round(rnd.uniform(0.05, longest), 3) for _ in range(n)]
