"""The full-text index of a first bulk import, built by a second process in a file of its own.

Writing the papers and building their FTS5 index are each about half of a big import. One SQLite file has one
writer, so for an import into an *empty* library the index goes to a scratch database (a contentless FTS5 table
with the library's very columns and tokenizer), built by a helper process while this one parses and writes the
papers. A process rather than a thread: FTS5 inserts are many short SQLite calls, and next to busy Python threads
each one waits to get the GIL back (measured: a 2.4 s index build took minutes beside a spinning thread). At the
end its shadow tables (data, idx, docsize) are copied into the library's own FTS5 table, whose on-disk format is
the same for contentless and external-content tables of the same SQLite, and the copy is checked against the
papers table (a full rebuild if it disagrees).

One side build per library at a time: it holds an exclusive lock on `<db>.fts-build.lock` while it runs (a
second import meanwhile indexes in place), and the kernel drops the lock when the process dies, which is how a
later open tells an abandoned build (repair the index) from a running one (leave it alone).
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: no side builds, imports index in place
    fcntl = None  # type: ignore[assignment]

TOKENIZE = "porter unicode61 remove_diacritics 2"
SHADOW = ("data", "idx", "docsize")
COMMIT_ROWS = 100_000


def _build(path: str, hashsize: int, inbox: IO[bytes], outbox: IO[str]) -> None:
    """The helper process: apply ('insert', rows) and ('delete', row) in order, then merge the index."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        # A scratch file: if anything dies it is thrown away and the index rebuilt from the papers.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -131072")
        conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(title, abstract, authors, comment, categories, "
                     f"content='', tokenize='{TOKENIZE}')")
        conn.execute(f"INSERT INTO f(f, rank) VALUES ('hashsize', {hashsize})")
        conn.execute("INSERT INTO f(f, rank) VALUES ('automerge', 0)")
        rows = 0
        since_commit = 0
        conn.execute("BEGIN")
        while True:
            item = pickle.load(inbox)
            if item is None:
                break
            kind, payload = item
            if kind == "insert":
                conn.executemany("INSERT INTO f(rowid, title, abstract, authors, comment, categories) "
                                 "VALUES (?,?,?,?,?,?)", payload)
                rows += len(payload)
                since_commit += len(payload)
            else:
                conn.execute("INSERT INTO f(f, rowid, title, abstract, authors, comment, categories) "
                             "VALUES ('delete',?,?,?,?,?,?)", payload)
                rows -= 1
            # FTS5 writes a segment at each commit: big transactions mean few segments and little to merge.
            if since_commit >= COMMIT_ROWS:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                since_commit = 0
        conn.execute("COMMIT")
        conn.execute("INSERT INTO f(f) VALUES ('optimize')")
        conn.close()
        outbox.write(f"ok {rows}\n")
    except BaseException as e:  # reported to the writer by finish()
        outbox.write(f"error {type(e).__name__}: {e}\n")
    outbox.flush()


SCRATCH_SUFFIX = ".fts-build"
LOCK_SUFFIX = ".fts-build.lock"


class SideBuildBusy(Exception):
    """Another process is building this library's index aside."""


def _try_lock(library_path: str) -> IO[bytes] | None:
    """The side-build lock of a library, held (None when another process holds it or locks are unavailable)."""
    if fcntl is None:
        return None
    f = open(library_path + LOCK_SUFFIX, "ab")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def build_running(library_path: str) -> bool:
    """Whether a live process is building this library's index aside right now."""
    if fcntl is None or not Path(library_path + LOCK_SUFFIX).exists():
        return False
    f = _try_lock(library_path)
    if f is None:
        return True
    f.close()
    return False


def remove_scratch(library_path: str) -> list[str]:
    """Delete what an abandoned side build left (unless one is running); returns the files removed."""
    lock = _try_lock(library_path)
    if lock is None and fcntl is not None:
        return []
    removed = []
    try:
        for suffix in (SCRATCH_SUFFIX, SCRATCH_SUFFIX + "-journal"):
            p = Path(library_path + suffix)
            if p.exists():
                p.unlink()
                removed.append(str(p))
    finally:
        if lock is not None:
            lock.close()
    return removed


class SideIndex:
    """Sends ('insert', rows sorted by rowid) and ('delete', row) commands, in order, to the helper process."""

    def __init__(self, library_path: str, hashsize: int) -> None:
        """Start the helper; raises SideBuildBusy when another process is building this library's index."""
        self._lock = _try_lock(library_path)
        if self._lock is None:
            raise SideBuildBusy(library_path)
        self.path = Path(library_path + SCRATCH_SUFFIX)
        self.path.unlink(missing_ok=True)
        # A fresh interpreter on this module (not multiprocessing, which would re-run the caller's __main__).
        env = dict(os.environ)
        here = str(Path(__file__).resolve().parents[2])  # the folder paperscope itself was imported from
        env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._proc = subprocess.Popen([sys.executable, "-m", "paperscope.store.sideindex", str(self.path),
                                       str(hashsize)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self._ended = False

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        self._put(("insert", rows))

    def delete(self, row: tuple[Any, ...]) -> None:
        self._put(("delete", row))

    def _put(self, item: tuple[str, Any] | None) -> None:
        assert self._proc.stdin is not None
        try:
            pickle.dump(item, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()
        except BrokenPipeError as e:
            raise RuntimeError("the full-text index builder stopped early") from e

    def end_input(self) -> None:
        """Tell the builder no more commands come, so it starts its final merge now (while the caller goes on
        with other work); `finish` then waits for it. Sending nothing more afterwards is the caller's part."""
        if self._ended:
            return
        self._ended = True
        assert self._proc.stdin is not None
        try:
            self._put(None)
        finally:
            try:
                self._proc.stdin.close()
            except OSError:  # the builder is gone: finish reports it
                pass

    def finish(self) -> None:
        """Wait until every command is applied and the index merged; raises what the builder hit."""
        self.end_input()
        assert self._proc.stdout is not None
        out = self._proc.stdout.read()  # its input is closed, so reading its one pipe to the end cannot block it
        self._proc.stdout.close()
        self._proc.wait()
        status = out.decode("utf-8", "replace").strip()
        if self._proc.returncode != 0 or not status.startswith("ok"):
            raise RuntimeError(f"full-text index builder failed: {status or f'exit {self._proc.returncode}'}")

    def copy_into(self, conn: sqlite3.Connection, table: str = "papers_fts", content: str = "papers") -> None:
        """Replace the index of `table` with the one built here, in one transaction; raises RuntimeError
        (copying nothing) when it does not hold one entry per row of `content` (another writer added papers)."""
        conn.execute("ATTACH DATABASE ? AS side", (str(self.path),))
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                built = conn.execute("SELECT count(*) FROM side.f_docsize").fetchone()[0]
                rows = conn.execute(f"SELECT count(*) FROM main.{content}").fetchone()[0]
                if built != rows:
                    raise RuntimeError(f"index built aside has {built} papers, the library {rows}")
                for part in SHADOW:
                    conn.execute(f"DELETE FROM main.{table}_{part}")
                    conn.execute(f"INSERT INTO main.{table}_{part} SELECT * FROM side.f_{part}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.execute("DETACH DATABASE side")

    def discard(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self.path.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None


if __name__ == "__main__":
    _build(sys.argv[1], int(sys.argv[2]), sys.stdin.buffer, sys.stdout)
