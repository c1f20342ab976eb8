"""The full-text index of a first bulk import, built on a second thread in a file of its own.

Writing the papers and building their FTS5 index are each about half of a big import. One SQLite file has one
writer, so for an import into an *empty* library the index goes to a scratch database (a contentless FTS5 table
with the library's very columns and tokenizer) on a second connection and thread, side by side with the papers:
SQLite releases the GIL while it tokenises and writes. At the end its shadow tables (data, idx, docsize) are
copied into the library's own FTS5 table, whose on-disk format is the same for contentless and external-content
tables of the same SQLite, and the copy is checked against the papers table (a full rebuild if it disagrees).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

TOKENIZE = "porter unicode61 remove_diacritics 2"
CHUNK = 5000
SHADOW = ("data", "idx", "docsize")


class SideIndex:
    """Receives ('insert', rows sorted by rowid) and ('delete', row) commands in order and builds the index."""

    def __init__(self, library_path: str, hashsize: int) -> None:
        self.path = Path(library_path + ".fts-build")
        self.path.unlink(missing_ok=True)
        self._hashsize = hashsize
        self._q: queue.Queue[tuple[str, Any] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.rows = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="paperscope-fts")
        self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
            # A scratch file: if the process dies it is thrown away and the import is run again.
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA cache_size = -131072")
            conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(title, abstract, authors, comment, categories, "
                         f"content='', tokenize='{TOKENIZE}')")
            conn.execute(f"INSERT INTO f(f, rank) VALUES ('hashsize', {self._hashsize})")
            conn.execute("INSERT INTO f(f, rank) VALUES ('automerge', 0)")
            while True:
                item = self._q.get()
                if item is None:
                    break
                kind, payload = item
                conn.execute("BEGIN")
                if kind == "insert":
                    # One statement per chunk: the GIL stays free while SQLite tokenises (see store.sqlite).
                    for i in range(0, len(payload), CHUNK):
                        conn.execute("INSERT INTO f(rowid, title, abstract, authors, comment, categories) "
                                     "SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 "
                                     "FROM json_each(?)", (orjson.dumps(payload[i : i + CHUNK]),))
                    self.rows += len(payload)
                else:
                    conn.execute("INSERT INTO f(f, rowid, title, abstract, authors, comment, categories) "
                                 "VALUES ('delete',?,?,?,?,?,?)", payload)
                    self.rows -= 1
                conn.execute("COMMIT")
            conn.execute("INSERT INTO f(f) VALUES ('optimize')")
            conn.close()
        except BaseException as e:  # reported to the writer by put()/finish()
            self.error = e
            while True:  # keep draining so the writer never blocks on a full queue
                if self._q.get() is None:
                    break

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        self._put(("insert", rows))

    def delete(self, row: tuple[Any, ...]) -> None:
        self._put(("delete", row))

    def _put(self, item: tuple[str, Any]) -> None:
        if self.error is not None:
            raise self.error
        self._q.put(item)

    def finish(self) -> None:
        """Wait until every command is applied and the index merged; raises what the builder hit."""
        self._q.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def copy_into(self, conn: sqlite3.Connection, table: str = "papers_fts") -> None:
        """Replace the (empty) index of `table` with the one built here, in one transaction."""
        conn.execute("ATTACH DATABASE ? AS side", (str(self.path),))
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
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
        self.path.unlink(missing_ok=True)
