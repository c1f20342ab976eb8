"""The PostgreSQL server the tests use: Debian's, started by `.ci/run` (PAPERSCOPE_TEST_PG names it; without
it, the local server's socket as the current user). Each test gets a schema of its own, dropped afterwards.

Where no server answers, PostgreSQL tests skip, unless PAPERSCOPE_REQUIRE_PG is set (`.ci/run` sets it), where
they fail: CI never passes without having run them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

DSN = os.environ.get("PAPERSCOPE_TEST_PG", "postgresql:///postgres")
_reachable: bool | None = None


def available() -> bool:
    global _reachable
    if _reachable is None:
        try:
            import psycopg

            with psycopg.connect(DSN, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _reachable = True
        except Exception:
            _reachable = False
    return _reachable


def need_server() -> None:
    if not available():
        if os.environ.get("PAPERSCOPE_REQUIRE_PG"):
            pytest.fail(f"no PostgreSQL server at {DSN} (PAPERSCOPE_REQUIRE_PG is set)")
        pytest.skip(f"no PostgreSQL server at {DSN}")


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema name on the test server (the library is made by whoever opens it first)."""
    need_server()
    schema = "t_" + uuid.uuid4().hex[:12]
    yield schema
    drop_schema(schema)
