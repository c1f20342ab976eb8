"""Runs the store contract (`tests/store_contract.py`) against every backend (PostgreSQL joins as a second one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperscope.store.api import Store
from store_contract import *  # noqa: F401,F403  (the contract's tests, collected here per backend)

BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        from paperscope.store.sqlite import SQLiteStore

        s: Store = SQLiteStore(tmp_path / "library.db")
    else:  # pragma: no cover - a backend listed but not built here
        pytest.skip(f"no {request.param} backend")
    yield s
    s.close()
