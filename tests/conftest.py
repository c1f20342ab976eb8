"""Shared fixtures: a fresh library and a small paper factory."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from paperscope.models import Author, Paper, Version

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
sys.path.insert(0, str(TESTS))  # local servers (arxiv_server, oai_server, ...) import as plain modules


def dt(y: int, m: int = 1, d: int = 1, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=timezone.utc)


def make_paper(arxiv_id: str = "2501.00001", version: int = 1, *, title: str = "A paper", abstract: str = "Text.",
               updated: datetime | None = None, published: datetime | None = None, authors: list[str] | None = None,
               categories: list[str] | None = None, comment: str = "", **kw: object) -> Paper:
    updated = updated or dt(2025, 1, version)
    published = published or (updated if version == 1 else dt(2025, 1, 1))
    versions = [Version(1, published)] + ([Version(version, updated)] if version > 1 else [])
    return Paper(id=arxiv_id, version=version, title=title, abstract=abstract, updated=updated, published=published,
                 authors=[Author(a) for a in (authors or ["Ada Lovelace"])], categories=categories or ["cs.CL"],
                 primary_category=(categories or ["cs.CL"])[0], comment=comment, versions=versions, **kw)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path):
    from paperscope.store.sqlite import SQLiteStore

    from paperscope.scoring.codelinks import primary_code_url
    from paperscope.scoring.names import author_index_keys

    # As Library.open builds it: code links found and the author index kept as papers are written.
    s = SQLiteStore(tmp_path / "library.db", code_links=primary_code_url, author_keys=author_index_keys)
    yield s
    s.close()


def make_library(store, settings=None, *, clock=None, transport=None):  # type: ignore[no-untyped-def]
    """A Library over an open store (tests build the store themselves)."""
    from paperscope.config import Config
    from paperscope.library import Library

    return Library(settings if settings is not None else Config(None), store, clock=clock, transport=transport)


@pytest.fixture
def library(store):  # type: ignore[no-untyped-def]
    return make_library(store)


def pq(query: str, categories: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """A store query from query text."""
    from paperscope.query import parse_query
    from paperscope.store.api import PaperQuery

    return PaperQuery(parse_query(query), categories)
