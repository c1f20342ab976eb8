"""The real `service.ingest.fetch` against a FakeArxiv, rerun while it reports errors (as a user would), and
what the library holds afterwards.

Shared by tests/reliability/test_fetch_faults_e2e.py (a few seeds) and bench/reliability/fetch_faults.py (many).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fake_arxiv import FakeArxiv

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from conftest import make_library  # noqa: E402

from paperscope.config import Config  # noqa: E402
from paperscope.models import Topic  # noqa: E402
from paperscope.service.ingest import fetch  # noqa: E402
from paperscope.sources.http import RetryPolicy  # noqa: E402
from paperscope.store.sqlite import SQLiteStore  # noqa: E402

NOW = datetime(2025, 10, 14, 12, tzinfo=UTC)
# The fake search ignores the query text: both topics page over the same 25 recorded entries.
TOPICS = [Topic("Everything", "the OR of OR and", [], 25), Topic("Newest", "learning", [], 10)]
Row = tuple[str, int, str, str]


@dataclass
class Outcome:
    """The library after a fetch and its reruns, and how many fetches it took."""

    papers: list[Row] = field(default_factory=list)
    duplicates: int = 0
    fetches: int = 0
    ok: bool = False
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def settings(arxiv: FakeArxiv, *, timeout: float = 0.5) -> Config:
    return Config(None, {"arxiv_api_url": arxiv.api_url, "arxiv_feed_url": arxiv.feed_url,
                         "arxiv_oai_url": arxiv.oai_url, "arxiv_pace": 0.05, "http_retries": 6,
                         "http_timeout": timeout, "feed_categories": ["cs.CL", "cs.LG"]}, TOPICS)


def library_rows(db: Path) -> tuple[list[Row], int]:
    """Every paper (id, version, title, abstract) and how many ids are stored more than once."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT arxiv_id, version, title, abstract FROM papers ORDER BY arxiv_id").fetchall()
        dup = conn.execute("SELECT count(*) - count(DISTINCT arxiv_id) FROM papers").fetchone()[0]
    finally:
        conn.close()
    return rows, dup


def fetch_until_ok(arxiv: FakeArxiv, db: Path, *, attempts: int = 4) -> Outcome:
    """Run `fetch(lib, embed=False)` until it reports no error, at most `attempts` times, each in a fresh
    Library (a rerun is a new process); then read the library back."""
    out = Outcome()
    started = time.monotonic()
    for _ in range(attempts):
        store = SQLiteStore(db)
        lib = make_library(store, settings(arxiv), clock=lambda: NOW)
        for src in (lib.sources.api, lib.sources.feed):
            # the default backoff (2 s doubling) is right for arXiv but would make each seed take minutes
            src.client.retry = RetryPolicy(retries=6, backoff=0.02, max_backoff=2.0, jitter=0.5)
        try:
            rep = fetch(lib, embed=False)
        finally:
            lib.close()  # closes the store too
        out.fetches += 1
        out.errors = [*rep.errors, *(t.error for t in rep.topics if t.error)]
        if rep.ok:
            out.ok = True
            break
    out.papers, out.duplicates = library_rows(db)
    out.seconds = time.monotonic() - started
    return out
