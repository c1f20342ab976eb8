"""`... WHERE x IN (many values)` under SQLite's limit on bound variables, for every table of the library."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
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
