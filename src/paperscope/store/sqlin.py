"""Helpers for every table of the library: `... WHERE x IN (many values)` under SQLite's limit on bound
variables, and one write transaction for a batch of rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

# SQLite 3.32+ allows 32766 bound variables; stay well below (leaving room for a few fixed parameters).
MAX_VARS = 30000


def select_in(conn: sqlite3.Connection, sql: str, values: Iterable[Any],
              params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
    """Rows of `sql`, whose one `{in}` stands for the placeholder list, over all `values` in chunks.

    `params` are bound before each chunk's values (for placeholders that come earlier in the statement).
    """
    vals = list(values)
    for i in range(0, len(vals), MAX_VARS):
        chunk = vals[i : i + MAX_VARS]
        yield from conn.execute(sql.replace("{in}", ",".join("?" * len(chunk))), (*params, *chunk))


@contextmanager
def write_tx(conn: sqlite3.Connection, lock: AbstractContextManager[Any]) -> Iterator[None]:
    """One write transaction under the store's lock: committed at the end, rolled back on any error.

    The store's connections are in autocommit mode, where each statement of a bare `executemany` is its own
    transaction (~80 us a row for 25,000 AI Scores, against a few us in one). Inside a transaction the caller
    opened, the rows join it and the caller commits.
    """
    with lock:
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
