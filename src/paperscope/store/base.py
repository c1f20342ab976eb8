"""The one interface every library backend offers (SQLite today, PostgreSQL for shared servers later)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from paperscope.models import Paper, UpsertStats

Progress = Callable[[int], None]


class Store(Protocol):
    """A library of papers with full-text search and a small key/value state for harvest checkpoints."""

    def upsert_papers(self, papers: Iterable[Paper], *, progress: Progress | None = None) -> UpsertStats:
        """Add or update papers; the same input twice gives the same library."""
        ...

    def get_paper(self, arxiv_id: str) -> Paper | None: ...

    def get_papers(self, arxiv_ids: Sequence[str]) -> list[Paper]: ...

    def count(self) -> int: ...

    def newest_matching(self, match: str, limit: int, *, within: Sequence[str] | None = None) -> list[Paper]:
        """Papers matching an FTS expression, newest first by last update (ties by id), at most `limit`."""
        ...

    def search(self, match: str, *, order: str = "relevance", limit: int = 50) -> list[Paper]: ...

    def get_state(self, key: str, default: Any = None) -> Any: ...

    def set_state(self, key: str, value: Any) -> None: ...

    def close(self) -> None: ...
