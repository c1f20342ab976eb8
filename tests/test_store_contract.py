"""Runs the store contract (`tests/store_contract.py`) against every backend (PostgreSQL joins as a second one)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperscope.store.api import Store
from store_contract import *  # noqa: F401,F403  (the contract's tests, collected here per backend)
import pgserver

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        from paperscope.store.sqlite import SQLiteStore

        s: Store = SQLiteStore(tmp_path / "library.db")
    else:
        pgserver.need_server()
        from paperscope.store.postgres import PostgresStore

        schema = "t_" + uuid.uuid4().hex[:12]
        s = PostgresStore(pgserver.DSN, schema=schema, cache_dir=tmp_path / "cache")
        request.addfinalizer(lambda: pgserver.drop_schema(schema))
    yield s
    s.close()
