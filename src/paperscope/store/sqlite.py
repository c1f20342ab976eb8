"""The SQLite library: papers, their full-text index and harvest state, in one WAL-mode file.

Layout choice that makes digests fast: the FTS5 rowid of a paper is its *sort key*,
`(unix seconds of last update) << 20 | slot`. FTS5 can walk matches in descending rowid order without
sorting, so "the newest 100 papers matching a topic" reads about 100 index entries even when the topic
matches a quarter of the library.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from paperscope.errors import NotFound, NotReady, QueryError, StoreError
from paperscope.models import Paper, UpsertStats, Version
from paperscope.store.api import AuthorKeyer, ChangeRow, CodeLinkFinder, JSONValue, PaperQuery
from paperscope.store.authors import AUTHOR_INDEX_STALE, AUTHOR_PART_SUFFIX, AuthorTables, author_names
from paperscope.store.codec import iso, no_nul, parse_iso as _parse_iso
from paperscope.store.fts5 import compile_match
from paperscope.store.migrations import LATEST, migrate
from paperscope.store.records import (  # noqa: F401  (stored_code_url*, merge_versions: imported from here too)
    _authors_from_json, _authors_json, _code_url_text, _maybe_code, _newer, _versions_from_json, _versions_json,
    _without_nul, fills_from_older, merge_versions, stored_code_url, stored_code_url_of_text)
from paperscope.store import rankindex
from paperscope.store.sideindex import SideBuildBusy, SideIndex, build_running, remove_scratch
from paperscope.store.sqlin import select_in
from paperscope.store.vectors import VectorTables

log = logging.getLogger(__name__)

SLOT_BITS = 20
_KEY_MAX = (1 << 63) - 1


def _key_bounds(q: PaperQuery | None) -> tuple[int, int]:
    """The sort keys of a query's span of last updates (keys are the second << SLOT_BITS | a slot), inclusive."""
    lo = math.ceil(q.since.timestamp()) << SLOT_BITS if q is not None and q.since is not None else -_KEY_MAX
    hi = ((math.floor(q.until.timestamp()) + 1) << SLOT_BITS) - 1 if q is not None and q.until is not None \
        else _KEY_MAX
    return lo, hi


def _key_span(q: PaperQuery) -> tuple[str, tuple[int, ...]]:
    """The rowid condition of the span (FTS5 rowids are the sort keys) and its parameters; '' when unbounded."""
    if q.since is None and q.until is None:
        return "", ()
    return " AND papers_fts.rowid BETWEEN ? AND ?", _key_bounds(q)


def _code_cond(q: PaperQuery, column: str = "code_url") -> str:
    """The papers-table condition of `q.has_code` ('' for either); a NULL link (not looked for yet) is none."""
    if q.has_code is None:
        return ""
    return f" AND {column} <> ''" if q.has_code else f" AND ({column} IS NULL OR {column} = '')"


def _fts_rows(q: PaperQuery) -> str:
    """FROM/WHERE text selecting the FTS rows of a MATCH (one parameter), joined to papers when `q` asks for code."""
    if q.has_code is None:
        return "papers_fts WHERE papers_fts MATCH ?"
    return f"papers_fts JOIN papers p ON p.sort_key = papers_fts.rowid WHERE papers_fts MATCH ?{_code_cond(q, 'p.code_url')}"


BATCH = 2000
# Papers per transaction: FTS5 flushes its in-memory index at each commit, so big transactions
# make few, large segments (a 1M-paper import builds its index about 1.5x faster than with small ones).
TXN_ROWS = 20_000
FTS_HASHSIZE = 256 << 20
# Set (and committed) before a full-text index is built aside, cleared once it is adopted: found set while no
# build runs, it means an import died half-way and the index must be rebuilt from the papers.
SIDE_BUILD_KEY = "fts:side-build"
# The change-log number up to which code links have been looked for (absent in libraries made before the log:
# their first pass scans every unchecked paper once).
CODE_SEQ_KEY = "code:seq"
# A whole-index merge after an import pays only when the import wrote a good part of the index unmerged;
# a daily increment leaves its segment to FTS5's automerge (the merge costs ~20 s at 1M papers).
OPTIMIZE_MIN_ROWS = 50_000
OPTIMIZE_SHARE = 0.1
MERGE_PAGES = 2000  # bounded merge work after a small import (pages of 4 KiB written at most)
# Relevance search of big libraries ranks by its own lists (`store/rankindex.py`): built once a library holds
# RANK_MIN_PAPERS papers (below that FTS5's bm25() answers in milliseconds), and used for a query whose words
# hold at least RANK_FTS_POSTINGS list entries (fewer: FTS5's own ranking costs no more).
RANK_MIN_PAPERS = 200_000
RANK_FTS_POSTINGS = 50_000
RANK_WORKERS_MAX = 3  # each builds a segment of 100k papers at a peak of ~1.5 GB

_COLUMNS = (
    "arxiv_id, sort_key, version, title, abstract, authors, comment, categories, primary_category, "
    "journal_ref, doi, license, report_no, submitter, published, updated, authors_json, versions_json, code_url"
)
_FTS_COLUMNS = ("title", "abstract", "authors", "comment", "categories")
# One row a step (executemany): 7 us a paper, where one INSERT ... SELECT over a JSON array of the batch cost 25-30 us
# (SQLite parses the row's JSON again for each of its 19 columns). A second busy Python thread would make each
# step wait for the GIL, so imports parse and write in turn in one thread (service.ingest.bulk_upsert).
_INSERT = f"INSERT INTO papers ({_COLUMNS}) VALUES ({', '.join('?' * 19)})"
_INSERT_FTS = "INSERT INTO papers_fts(rowid, title, abstract, authors, comment, categories) VALUES (?,?,?,?,?,?)"
_DELETE_FTS = (
    "INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors, comment, categories) "
    "VALUES ('delete',?,?,?,?,?,?)"
)
_SELECT = f"SELECT pk, {_COLUMNS} FROM papers"


class SQLiteStore(AuthorTables, VectorTables):
    """The default library backend. Thread-safe for one writer; readers may use other connections."""

    def __init__(self, path: str | Path, *, readonly: bool = False, create: bool = True,
                 auto_repair: bool = True, code_links: CodeLinkFinder | None = None,
                 author_keys: AuthorKeyer | None = None) -> None:
        """Open (and migrate) the library at `path`. `readonly` opens an existing library for reading only:
        nothing is written, not even the journal mode, so it works on a read-only disk and never waits for a
        writer's lock. Without `create`, a missing file is a NotFound instead of a new empty library.
        A writer open repairs an index an interrupted import left behind, unless `auto_repair` is False
        (`paperscope check` looks before it repairs). `code_links(abstract, comment)` finds a paper's code link
        (the store computes none itself: `Library.open` passes `scoring.codelinks.primary_code_url`); without it,
        code links stay unchecked until a store that has one fills them. `author_keys` likewise keys the author
        index (`scoring.names.author_index_keys`); a store without it marks the index stale when it writes."""
        self.path = str(path)
        self.code_links = code_links
        self.author_keys = author_keys
        self._ix_add: list[tuple[int, list[str]]] = []
        self._ix_del: list[tuple[int, list[str]]] = []
        self._authors_deferred = False
        self._known_code: Mapping[str, str] | None = None
        self.readonly = readonly
        memory = self.path == ":memory:"
        if not memory and not Path(self.path).exists():
            if readonly or not create:
                raise NotFound(f"no library at {self.path}", kind="library", key=self.path)
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self.conn = self._connect()
            if readonly:
                self._check_schema()
            else:
                # The hash size is a persistent FTS5 setting: written once, so later opens write nothing.
                migrate(self.conn, on_create=[
                    f"INSERT INTO papers_fts(papers_fts, rank) VALUES ('hashsize', {FTS_HASHSIZE})",
                    f"INSERT INTO state(key, value) VALUES ('{CODE_SEQ_KEY}', '0')"])
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot open library {self.path}: {e}") from e
        self._slots: dict[int, int] = {}
        self._empty = False
        self._all_keys_cached = False
        self._data_version = -1
        self._fts_pending: dict[int, tuple[Any, ...]] = {}
        self._detect_code = True
        self._misses = 0
        self._side: SideIndex | None = None
        self._code_checked = False  # the open transaction finds every code link, and the pass is up to date
        self._unmerged = 0  # index rows written with automerge off (in-place bulk imports) since the last merge
        self._in_bulk = False
        self._rank: rankindex.RankIndex | None = None
        self._rank_lock = threading.Lock()
        if not readonly and auto_repair:
            try:
                self.repair_index()
            except sqlite3.DatabaseError as e:
                raise StoreError(f"cannot open library {self.path}: {e}") from e

    def _check_schema(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            raise StoreError(f"{self.path} is not a paperscope library (no schema)")
        if version != LATEST:
            raise NotReady(f"{self.path} has schema version {version}, this paperscope uses {LATEST}: "
                           "open it once for writing to upgrade it", needs="migrate")

    def _connect(self) -> sqlite3.Connection:
        if self.readonly and self.path != ":memory:":
            conn = self._connect_readonly()
        else:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            # Reading the mode writes nothing; setting it needs the write lock, so only when it is not WAL yet
            # (a new library, or one a killed bulk import left in rollback mode). Busy: stay as it is.
            if self.path != ":memory:" and str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                try:
                    conn.execute("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError:
                    pass
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    def _connect_readonly(self) -> sqlite3.Connection:
        uri = Path(self.path).resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            # A WAL library on a read-only disk without its -shm file: read it as an immutable file.
            conn.close()
            conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                                   check_same_thread=False)
            return conn

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.conn.close()

    def cache_path(self, suffix: str) -> Path | None:
        """`<library>.<suffix>`, where caches derived from this library live (None in memory)."""
        return None if self.path == ":memory:" else Path(f"{self.path}.{suffix}")

    def __enter__(self) -> "SQLiteStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def _sort_key(self, updated: datetime) -> int:
        sec = int(updated.timestamp())
        nxt = self._slots.get(sec)
        if nxt is None and self._all_keys_cached:
            nxt = 0
        elif nxt is None and self._misses >= 5000:
            # A big write into a big library: one scan of the key index beats a lookup per second.
            self._slots.clear()
            for (k,) in self.conn.execute("SELECT sort_key FROM papers"):
                s = k >> SLOT_BITS
                self._slots[s] = max(self._slots.get(s, 0), (k & ((1 << SLOT_BITS) - 1)) + 1)
            self._all_keys_cached = True
            nxt = self._slots.get(sec, 0)
        elif nxt is None:
            self._misses += 1
            base = sec << SLOT_BITS
            row = self.conn.execute(
                "SELECT max(sort_key) FROM papers WHERE sort_key >= ? AND sort_key < ?",
                (base, base + (1 << SLOT_BITS)),
            ).fetchone()
            nxt = 0 if row[0] is None else (row[0] - base) + 1
        if nxt >= 1 << SLOT_BITS:
            raise StoreError(f"more than {1 << SLOT_BITS} papers updated in the same second ({iso(updated)})")
        self._slots[sec] = nxt + 1
        return (sec << SLOT_BITS) | nxt

    @staticmethod
    def _row(p: Paper, key: int, finder: CodeLinkFinder | None = None, known: str | None = None) -> tuple[Any, ...]:
        return (
            p.id,
            key,
            p.version,
            p.title,
            p.abstract,
            ", ".join(a.name for a in p.authors),
            p.comment,
            " ".join(p.categories),
            p.primary_category or (p.categories[0] if p.categories else ""),
            p.journal_ref,
            p.doi,
            p.license,
            p.report_no,
            p.submitter,
            iso(p.published),
            iso(p.updated),
            _authors_json(p.authors),
            _versions_json(p.versions or [Version(p.version, p.updated)]),
            known if known is not None else p.code_url or _code_url_text(p.abstract, p.comment, finder),
        )

    def upsert_papers(
        self, papers: Iterable[Paper], *, progress: Callable[[int], None] | None = None, detect_code: bool = True,
        code_urls: Mapping[str, str] | None = None,
    ) -> UpsertStats:
        """Add or update papers; every TXN_ROWS papers are one transaction (earlier ones stay if a later fails).

        A newer version replaces the text and joins the history; an older or equal one never overwrites
        a newer one (it may only fill fields that are empty, such as a DOI added later).
        `detect_code=False` leaves code-link detection to the first read of each paper and to `finish_import`'s
        pass over the change log (bulk imports find them as they write: storing them later rewrites every row).
        `code_urls` holds links already found (`stored_code_url` with this store's finder) by id, '' for none.
        """
        self._detect_code = detect_code
        self._known_code = code_urls
        stats = UpsertStats()
        batch: list[Paper] = []
        in_txn = 0
        with self._lock:
            try:
                for p in papers:
                    batch.append(p)
                    if len(batch) >= BATCH:
                        in_txn = self._flush(batch, stats, in_txn, progress)
                        batch = []
                if batch:
                    in_txn = self._flush(batch, stats, in_txn, progress)
                if in_txn:
                    self._commit()
            except BaseException:
                self._fts_pending.clear()
                self._ix_add.clear()
                self._ix_del.clear()
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                self._slots.clear()
                self._all_keys_cached = False
                raise
            finally:
                self._known_code = None
        return stats

    def _flush(self, batch: list[Paper], stats: UpsertStats, in_txn: int,
               progress: Callable[[int], None] | None) -> int:
        if not in_txn:
            self.conn.execute("BEGIN IMMEDIATE")
            # No other writer can run until COMMIT, so key slots seen now stay valid for this transaction.
            dv = self.conn.execute("PRAGMA data_version").fetchone()[0]
            if dv != self._data_version:  # another connection wrote: our slot cache may be stale
                self._slots.clear()
                self._all_keys_cached = False
                self._data_version = dv
            self._empty = self.conn.execute("SELECT 1 FROM papers LIMIT 1").fetchone() is None
            self._code_checked = (self._detect_code and self.code_links is not None
                                  and self.get_state(CODE_SEQ_KEY) == self.change_seq())
            if self._empty:
                self._slots.clear()
                self._all_keys_cached = True
        stats.add(self._upsert_batch(batch))
        if progress:
            progress(len(batch))
        in_txn += len(batch)
        if in_txn >= TXN_ROWS:
            self._commit()
            return 0
        return in_txn

    def _commit(self) -> None:
        self._write_fts()
        if self._code_checked:
            # Every paper this transaction wrote got its code link: when the code-link pass had read all changes
            # before it, it has now read these too (so the pass after an import has nothing to look at).
            self.set_state(CODE_SEQ_KEY, self.change_seq())
        self.conn.execute("COMMIT")

    def _write_fts(self) -> None:
        # FTS5 flushes its in-memory index whenever a rowid is lower than the one before, so rows go in
        # sorted by rowid: one segment per transaction instead of thousands of tiny ones (4x faster imports).
        if self._fts_pending:
            rows = sorted(self._fts_pending.values())
            if self._side is not None:
                self._side.insert(rows)
            else:
                self.conn.executemany(_INSERT_FTS, rows)
                if self._in_bulk:
                    self._unmerged += len(rows)
            self._fts_pending.clear()

    def _upsert_batch(self, batch: list[Paper]) -> UpsertStats:
        # Within one batch the same id may appear twice: fold them first, newest version wins.
        folded: dict[str, Paper] = {}
        for p in map(_without_nul, batch):
            have = folded.get(p.id)
            folded[p.id] = p if have is None else _newer(have, p)
        stats = UpsertStats()
        existing = {} if self._empty else self._existing(list(folded))
        new_rows = []
        for p in folded.values():
            old = existing.get(p.id)
            if old is None:
                row = self._row(p, self._sort_key(p.updated), self.code_links if self._detect_code else None,
                                self._known_code.get(p.id) if self._known_code is not None else None)
                new_rows.append(row)
                self._fts_pending[row[1]] = (row[1], row[3], row[4], row[5], row[6], row[7])
                self._ix_add.append((row[1], [a.name for a in p.authors]))
                stats.new += 1
                stats.new_ids.append(p.id)
            elif self._merge_existing(old, p):
                stats.updated += 1
                stats.updated_ids.append(p.id)
            else:
                stats.unchanged += 1
        if new_rows:
            # Keys are handed out above the highest one (no writer can come between: BEGIN IMMEDIATE), so the
            # rows just added are those above it; their change-log rows go in the same transaction.
            top = 0 if self._empty else self.conn.execute("SELECT max(pk) FROM papers").fetchone()[0] or 0
            self.conn.executemany(_INSERT, new_rows)
            self.conn.execute("INSERT INTO changes(pk) SELECT pk FROM papers WHERE pk > ? ORDER BY pk", (top,))
        self._write_author_index()
        self._empty = False
        return stats

    def _existing(self, ids: list[str]) -> dict[str, tuple[Any, ...]]:
        return {row[1]: row for row in self._rows_where("arxiv_id", ids)}

    def _merge_existing(self, old: tuple[Any, ...], p: Paper) -> bool:
        """Apply `p` over the stored row `old`; True when the paper's text moved to a newer version."""
        pk, old_key, old_version = old[0], old[2], old[3]
        old_versions = _versions_from_json(old[18])
        merged_versions = merge_versions(old_versions, p.versions or [Version(p.version, p.updated)])
        if p.version > old_version:
            row = self._row(p, self._sort_key(p.updated), self.code_links if self._detect_code else None)
            row = row[:-2] + (_versions_json(merged_versions), row[-1])
            if self._fts_pending.pop(old_key, None) is None:  # not yet in the index if added in this transaction
                if self._side is not None:
                    self._side.delete((old_key, old[4], old[5], old[6], old[7], old[8]))
                else:
                    self.conn.execute(_DELETE_FTS, (old_key, old[4], old[5], old[6], old[7], old[8]))
            self.conn.execute(
                f"UPDATE papers SET ({_COLUMNS}) = ({', '.join('?' * 19)}) WHERE pk = ?", (*row, pk)
            )
            self._fts_pending[row[1]] = (row[1], row[3], row[4], row[5], row[6], row[7])
            self.conn.execute("INSERT INTO changes(pk) VALUES (?)", (pk,))
            self._author_rows_changed(old_key, old[17], row[1], [a.name for a in p.authors])
            return True
        # Older or equal version: keep the text, only fill what is missing.
        stored = {"journal_ref": old[10], "doi": old[11], "license": old[12], "report_no": old[13],
                  "submitter": old[14], "published": old[15], "version": old_version, "authors_json": old[17]}
        fills = fills_from_older(p, stored, old_versions, merged_versions)
        if "authors_json" in fills:
            self._author_rows_changed(old_key, old[17], old_key, [a.name for a in p.authors])
        if fills:
            sets = ", ".join(f"{c} = ?" for c in fills)
            self.conn.execute(f"UPDATE papers SET {sets} WHERE pk = ?", (*fills.values(), pk))
        return False

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Big imports: a rollback journal while they run, so new pages are written once instead of to the WAL
        and again at each checkpoint. Left in WAL mode when another connection has the library open."""
        switched = False
        if self.path != ":memory:":
            try:
                mode = self.conn.execute("PRAGMA journal_mode = TRUNCATE").fetchone()[0]
                switched = str(mode).lower() == "truncate"
            except sqlite3.OperationalError:
                switched = False
        self.conn.execute("PRAGMA cache_size = -262144")
        fresh = self.path != ":memory:" and self.conn.execute("SELECT 1 FROM papers LIMIT 1").fetchone() is None
        if fresh:
            self._side = self._start_side_build()
        if self._side is not None and self.author_keys is not None:
            # A first import: the author index is built in one sorted pass at the end. Marked stale before the
            # first paper, so a kill at any later point leaves it to be filled by the next writer.
            self.set_state(AUTHOR_INDEX_STALE, True)
            self._authors_deferred = True
        if self._side is None:  # merging as we go is wasted work when an optimize follows the import
            self.conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('automerge', 0)")
        self._in_bulk = True
        try:
            yield
        finally:
            self._in_bulk = False
            try:
                try:
                    if self._side is not None:
                        # Every paper has gone aside: the builder starts its final merge now, so that it and the
                        # author-index pass below run at once (2.9M papers: the merge ~40 s, the pass ~2 min).
                        try:
                            self._side.end_input()
                        except RuntimeError:
                            pass  # the builder died: adopting its index below fails and rebuilds it
                    if self._authors_deferred:  # while the side process still merges its index
                        self._authors_deferred = False
                        self.fill_author_index()
                finally:
                    if self._side is not None:
                        self._adopt_side_index()
                    else:
                        self.conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('automerge', 4)")
            finally:
                self.conn.execute("PRAGMA cache_size = -65536")
                if switched:
                    self.conn.execute("PRAGMA journal_mode = WAL")

    def _start_side_build(self) -> SideIndex | None:
        """A side index for a first import, or None (in-place indexing) when another process builds one."""
        try:
            side = SideIndex(self.path, FTS_HASHSIZE)
        except SideBuildBusy:
            return None
        # Committed before the first paper, so a kill at any later point leaves the marker for repair_index.
        self.set_state(SIDE_BUILD_KEY, {"pid": os.getpid()})
        return side

    def _adopt_side_index(self) -> None:
        side, self._side = self._side, None
        assert side is not None
        try:
            side.finish()
            side.copy_into(self.conn)
        except Exception as e:  # the papers are stored: index them the slow way rather than fail the import
            log.info("full-text index built aside could not be used (%s); rebuilding it from the papers", e)
            side.discard()
            self.rebuild_fts()
            self._clear_side_marker()
            return
        side.discard()
        # FTS5 caches the index structure per connection: start a fresh one on the copied index.
        self.conn.close()
        self.conn = self._connect()
        try:  # back to the bulk journal; with another process on the library it stays in WAL, which is fine
            self.conn.execute("PRAGMA journal_mode = TRUNCATE")
        except sqlite3.OperationalError:
            pass
        if not self.index_in_step():
            self.rebuild_fts()
        self._clear_side_marker()

    def _clear_side_marker(self) -> None:
        with self._lock:
            self.conn.execute("DELETE FROM state WHERE key = ?", (SIDE_BUILD_KEY,))

    def index_in_step(self, *, thorough: bool = False) -> bool:
        """Whether the full-text index holds one entry per paper (a count, not a word-for-word check).

        The quick form (every writer open and import) compares two numbers read in O(1): the row total FTS5
        keeps in its averages record and the highest paper key (papers are never deleted, so it is their
        count). Only when they differ, or with `thorough` (`paperscope check`), are both tables counted."""
        with self._lock:
            own = self.conn.in_transaction
            if not own:
                self.conn.execute("BEGIN")  # both counts from one snapshot, whatever other writers do
            try:
                if not thorough:
                    top = self.conn.execute("SELECT max(pk) FROM papers").fetchone()[0] or 0
                    if _fts_total_rows(self.conn) == top:
                        return True
                docs = self.conn.execute("SELECT count(*) FROM papers_fts_docsize").fetchone()[0]
                papers = self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]
            finally:
                if not own:
                    self.conn.execute("COMMIT")
        return bool(docs == papers)

    def repair_index(self) -> list[str]:
        """Rebuild the full-text index when an interrupted import left it out of step with the papers, and
        remove its scratch files; returns what was done (nothing while another process builds it aside)."""
        if self._side is not None or (self.path != ":memory:" and build_running(self.path)):
            return []
        done: list[str] = []
        marker = self.get_state(SIDE_BUILD_KEY)
        if marker is not None or not self.index_in_step():
            why = "an interrupted import's index" if marker is not None else "index out of step with the papers"
            log.warning("%s: rebuilding the full-text index of %s", why, self.path)
            self.rebuild_fts()
            self._clear_side_marker()
            done.append(f"rebuilt the full-text index ({why})")
        if self.author_keys is not None and self.author_index_stale():
            log.warning("filling the author index of %s", self.path)
            done.append(f"filled the author index ({self.fill_author_index()} papers)")
        if self.path != ":memory:":
            done += [f"removed {f}" for f in remove_scratch(self.path)]
        return done

    def fill_code_urls(self, *, batch: int = 20_000, progress: Callable[[int], None] | None = None) -> int:
        """Look for code links in papers a bulk import left unchecked, and store what is found ('' for none).

        Reads only the papers the change log names since the last pass (a daily import costs its own papers,
        not a scan of the library); a library older than the log is scanned once. Returns papers looked at."""
        upto = self.change_seq()
        since = self.get_state(CODE_SEQ_KEY)
        if isinstance(since, int) and not isinstance(since, bool):
            # Paged by change number (the log's own key); a paper listed twice is looked at once per page.
            sql = ("SELECT c.seq, p.pk, p.abstract, p.comment FROM changes c JOIN papers p ON p.pk = c.pk "
                   "WHERE c.seq > ? AND c.seq <= ? AND p.code_url IS NULL ORDER BY c.seq LIMIT ?")
            last, bound = since, upto
        else:
            sql = ("SELECT pk, pk, abstract, comment FROM papers WHERE pk > ? AND pk <= ? AND code_url IS NULL "
                   "ORDER BY pk LIMIT ?")
            last, bound = 0, self._top_pk()
        done = 0
        while True:
            rows = self.conn.execute(sql, (last, bound, batch)).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            found = {pk: _code_url_text(abstract, comment, self.code_links) for _, pk, abstract, comment in rows}
            with self._lock:
                self.conn.execute("UPDATE papers SET code_url = j.value->>1 FROM json_each(?) AS j "
                                  "WHERE papers.pk = j.value->>0", (orjson.dumps(list(found.items())),))
            done += len(found)
            if progress:
                progress(len(found))
        if self.code_links is not None:  # without a finder nothing was filled: leave them for one that has
            self.set_state(CODE_SEQ_KEY, upto)
        return done

    def finish_import(self, *, progress: Callable[[int], None] | None = None) -> int:
        """After an import: repair the full-text index, merge it when the import wrote much of it unmerged (a
        small one is left to FTS5's automerge plus a bounded merge step), and find the code links the bulk load
        left unchecked, in the papers just written."""
        self.repair_index()
        if self._unmerged >= max(OPTIMIZE_MIN_ROWS, OPTIMIZE_SHARE * self._top_pk()):
            self.optimize()
        elif self._unmerged:
            self.merge_index(MERGE_PAGES)
        checked = self.fill_code_urls(progress=progress)
        self.update_rank_index(progress=progress)
        return checked

    def update_rank_index(self, *, progress: Callable[[int], None] | None = None,
                          workers: int | None = None) -> bool:
        """Bring the relevance-ranking lists up to the papers (a first build once the library is big enough:
        in one worker process per core, at most RANK_WORKERS_MAX). False when there is none (a small or in-memory
        library)."""
        path = self.cache_path("rank")
        if path is None or self.readonly:
            return False
        return rankindex.update(rankindex.RankIndex(path), self.path, self.conn, self.change_seq(),
                                min_papers=RANK_MIN_PAPERS,
                                workers=workers or min(os.cpu_count() or 1, RANK_WORKERS_MAX),
                                progress=progress)

    def _top_pk(self) -> int:
        return int(self.conn.execute("SELECT max(pk) FROM papers").fetchone()[0] or 0)

    def merge_index(self, pages: int) -> None:
        """Some incremental merge work on the full-text index (at most about `pages` pages written)."""
        with self._lock:
            try:
                self.conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('merge', ?)", (pages,))
            except sqlite3.OperationalError:  # another writer holds the library: FTS5's automerge catches up later
                return
            self._unmerged = 0

    # ------------------------------------------------------------------ change log
    def change_seq(self) -> int:
        """The newest change's number (0 when nothing was ever written)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        return int(row[0]) if row else 0

    def changed_since(self, seq: int, *, limit: int | None = None) -> list[ChangeRow]:
        """(seq, paper key, arxiv id) of changes numbered above `seq`, oldest first."""
        sql = ("SELECT c.seq, c.pk, p.arxiv_id FROM changes c JOIN papers p ON p.pk = c.pk "
               "WHERE c.seq > ? ORDER BY c.seq")
        if limit is not None:
            return [(int(a), int(b), str(c)) for a, b, c in self.conn.execute(sql + " LIMIT ?", (seq, limit))]
        return [(int(a), int(b), str(c)) for a, b, c in self.conn.execute(sql, (seq,))]

    def prune_changes(self, upto: int) -> int:
        """Forget changes numbered `upto` and below; a store that fills code links keeps those its own pass has
        not read yet. Returns how many were removed."""
        if self.code_links is not None:
            mine = self.get_state(CODE_SEQ_KEY)
            upto = min(upto, mine if isinstance(mine, int) else 0)
        path = self.cache_path("rank")
        if path is not None:  # nor those the ranking lists have yet to read
            listed = rankindex.RankIndex(path).read()
            if listed is not None:
                upto = min(upto, int(listed["seq"]))  # type: ignore[call-overload]
        with self._lock:
            return int(self.conn.execute("DELETE FROM changes WHERE seq <= ?", (upto,)).rowcount)

    def rebuild_fts(self) -> None:
        """Rebuild the full-text index from the papers table (after an interrupted bulk import)."""
        with self._lock:
            self.conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')")

    def rebuild_index(self) -> None:
        """Rebuild the full-text index and the ranking lists from the papers (repair)."""
        self.rebuild_fts()
        self._clear_side_marker()
        path = self.cache_path("rank")
        if path is not None and path.exists():
            shutil.rmtree(path, ignore_errors=True)
            self.update_rank_index()

    def scratch_files(self) -> list[Path]:
        if self.path == ":memory:" or build_running(self.path):
            return []
        lib = Path(self.path)
        names = (lib.name + ".fts-build", lib.name + ".fts-build-journal")
        found = [lib.with_name(n) for n in names if lib.with_name(n).exists()]
        # An author-index helper's file outlives its pass only when the pass was killed after its commit (a pass
        # killed before it leaves the index stale, and the next writer's pass replaces the file).
        part = lib.with_name(lib.name + AUTHOR_PART_SUFFIX)
        if part.exists() and not self.author_index_stale():
            found.append(part)
        # Temporary vector caches of a process that died before renaming them into place.
        found += [p for p in lib.parent.glob(lib.name + ".*.space.tmp*") if not _pid_alive(p.name)]
        return sorted(found)

    def optimize(self) -> None:
        """Merge the full-text index into one segment (after a bulk import) and refresh planner stats."""
        with self._lock:
            # SQLite answers "locked" at once (no busy wait) when two writers' WAL snapshots cross; a later try works
            for attempt in range(200):
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as e:
                    if "locked" not in str(e) or attempt == 199:
                        raise
                    time.sleep(0.05 + 0.01 * attempt)
            try:
                self.conn.execute("INSERT INTO papers_fts(papers_fts) VALUES ('optimize')")
                self.conn.execute("COMMIT")
                self._unmerged = 0
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            try:  # planner statistics only: skipped while another writer holds the library
                self.conn.execute("PRAGMA optimize")
            except sqlite3.OperationalError:
                pass

    # ------------------------------------------------------------------ reading
    def _paper(self, row: Sequence[Any]) -> Paper:
        p = Paper(
            id=row[1],
            version=row[3],
            title=row[4],
            abstract=row[5],
            comment=row[7],
            categories=row[8].split() if row[8] else [],
            primary_category=row[9],
            journal_ref=row[10],
            doi=row[11],
            license=row[12],
            report_no=row[13],
            submitter=row[14],
            published=_parse_iso(row[15]),
            updated=_parse_iso(row[16]),  # type: ignore[arg-type]
            authors=_authors_from_json(row[17]),
            versions=_versions_from_json(row[18]),
            code_url=row[19] or "",
        )
        if row[19] is None and self.code_links is not None:  # imported in bulk: look now (microseconds, mostly)
            p.code_url = _code_url_text(p.abstract, p.comment, self.code_links) or ""
        return p

    def get_paper(self, arxiv_id: str) -> Paper | None:
        row = self.conn.execute(f"{_SELECT} WHERE arxiv_id = ?", (no_nul(arxiv_id),)).fetchone()
        return self._paper(row) if row else None

    def get_papers(self, arxiv_ids: Sequence[str]) -> list[Paper]:
        """Papers for the ids that are in the library, in the order asked."""
        found = {row[1]: row for row in self._rows_where("arxiv_id", list(arxiv_ids))}
        return [self._paper(found[i]) for i in arxiv_ids if i in found]

    def titles_and_authors(self, keys: Sequence[int]) -> dict[int, tuple[str, list[str]]]:
        """(title, author names) by key for the keys in the library: two columns, no `Paper` built."""
        sql = "SELECT pk, title, authors_json FROM papers WHERE pk IN ({in})"
        return {key: (title, author_names(raw)) for key, title, raw in select_in(self.conn, sql, sorted(keys))}

    def _rows_where(self, column: str, values: list[Any]) -> Iterator[tuple[Any, ...]]:
        return select_in(self.conn, f"{_SELECT} WHERE {column} IN ({{in}})", values)

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    def iter_papers(self, *, batch: int = 5000) -> Iterator[Paper]:
        """Every paper, in storage order, a batch of rows at a time (for exports)."""
        last = 0
        while True:
            rows = self.conn.execute(f"{_SELECT} WHERE pk > ? ORDER BY pk LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            for row in rows:
                yield self._paper(row)
            last = rows[-1][0]

    def _match(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.OperationalError as e:
            msg = str(e)
            if any(w in msg for w in ("locked", "disk", "readonly", "corrupt", "no such table")):
                raise StoreError(f"{self.path}: {msg}") from e
            raise QueryError(f"full-text query rejected: {msg}") from e

    def newest_matching(self, q: PaperQuery, limit: int, *, within: Sequence[str] | None = None) -> list[Paper]:
        """The newest `limit` papers matching `q`, by last update then id, both descending."""
        if limit <= 0:
            return []
        match = compile_match(q)
        span, bounds = _key_span(q)
        if match is None:
            return self._newest(limit, within, q)
        if within is not None:
            keys = self._keys_for(within)
            if not keys:
                return []
            cur = self._match(
                f"SELECT papers_fts.rowid FROM {_fts_rows(q)} AND papers_fts.rowid IN ({','.join('?' * len(keys))})"
                f"{span} ORDER BY papers_fts.rowid DESC",
                (match, *keys, *bounds),
            )
        else:
            cur = self._match(f"SELECT papers_fts.rowid FROM {_fts_rows(q)}{span}"
                              " ORDER BY papers_fts.rowid DESC", (match, *bounds))
        picked: list[int] = []
        boundary = None
        # Rowids come newest second first; keep going past `limit` only while still in the same second,
        # so that ties inside that second can be ordered by id exactly.
        for (key,) in cur:
            sec = key >> SLOT_BITS
            if len(picked) >= limit and sec != boundary:
                break
            picked.append(key)
            if len(picked) == limit:
                boundary = sec
        cur.close()
        return self._papers_by_keys(picked, limit)

    def _newest(self, limit: int, within: Sequence[str] | None, q: PaperQuery | None = None) -> list[Paper]:
        lo, hi = _key_bounds(q)
        code = _code_cond(q) if q is not None else ""
        if within is not None:
            keys = sorted((k for k in self._keys_for(within, code) if lo <= k <= hi), reverse=True)
        else:
            keys = [k for (k,) in self.conn.execute(
                f"SELECT sort_key FROM papers WHERE sort_key BETWEEN ? AND ?{code} ORDER BY sort_key DESC LIMIT ?",
                (lo, hi, limit + 64))]
        if len(keys) > limit:  # keep the whole last second so ties are ordered by id
            sec = keys[limit - 1] >> SLOT_BITS
            keys = [k for i, k in enumerate(keys) if i < limit or k >> SLOT_BITS == sec]
        return self._papers_by_keys(keys, limit)

    def _papers_by_keys(self, keys: list[int], limit: int) -> list[Paper]:
        papers = [self._paper(r) for r in self._rows_where("sort_key", keys)]
        papers.sort(key=lambda p: (p.updated, p.id), reverse=True)
        return papers[:limit]

    def _keys_for(self, arxiv_ids: Sequence[str], code: str = "") -> list[int]:
        return [k for (k,) in select_in(self.conn, f"SELECT sort_key FROM papers WHERE arxiv_id IN ({{in}}){code}",
                                        arxiv_ids)]

    def count_matching(self, q: PaperQuery, *, at_most: int | None = None) -> int:
        match = compile_match(q)
        cap, capped = ("", ()) if at_most is None else (" LIMIT ?", (max(at_most, 0),))
        if match is None:
            if not q.bounded:
                return self.count() if at_most is None else min(self.count(), max(at_most, 0))
            return int(self.conn.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM papers WHERE sort_key BETWEEN ? AND ?{_code_cond(q)}{cap})",
                (*_key_bounds(q), *capped)).fetchone()[0])
        span, bounds = _key_span(q)
        sql = (f"SELECT count(*) FROM (SELECT papers_fts.rowid FROM {_fts_rows(q)}"
               f"{span}{cap})")
        return int(self._match(sql, (match, *bounds, *capped)).fetchone()[0])

    def search(self, q: PaperQuery, *, order: str = "relevance", limit: int = 50) -> list[Paper]:
        """Full-text search; `order` is 'relevance' (BM25, title weighted highest) or 'date' (newest first)."""
        if order not in ("relevance", "date"):
            raise QueryError(f"unknown order {order!r}: use 'relevance' or 'date'")
        match = compile_match(q)
        if order == "date" or match is None:
            return self.newest_matching(q, limit)
        if limit <= 0:
            return []
        ranked = None if q.bounded else self._rank_search(q, match, limit)  # the lists know no dates or code
        if ranked is not None:
            keys = ranked
        else:
            span, bounds = _key_span(q)
            rows = self._match(
                f"SELECT papers_fts.rowid FROM {_fts_rows(q)}{span} "
                "ORDER BY bm25(papers_fts, 8.0, 1.0, 4.0, 0.5, 0.0) LIMIT ?",
                (match, *bounds, limit),
            ).fetchall()
            keys = [r[0] for r in rows]
        by_key = {r[2]: r for r in self._rows_where("sort_key", keys)}
        return [self._paper(by_key[k]) for k in keys if k in by_key]

    def _rank_search(self, q: PaperQuery, match: str, limit: int) -> list[int] | None:
        """The best `limit` papers' sort keys by the ranking lists, or None where FTS5 ranks instead (no lists,
        lists too far behind, a query they cannot plan, or one cheap for FTS5)."""
        path = self.cache_path("rank")
        if path is None:
            return None
        with self._rank_lock:
            if self._rank is None:
                self._rank = rankindex.RankIndex(path)
            index = self._rank
            if not index.refresh():
                return None
            try:
                plan = rankindex.plan_query(q.query.root if q.query else None, q.categories, q.title_words,
                                            index.terms)
            except rankindex.Unplannable:
                return None
            if not index.catch_up(self.change_seq(), self._changed_rows):
                return None
            if index.estimate(plan) < RANK_FTS_POSTINGS:
                return None
            docs, tokens = index.totals

            def verify(keys: list[int]) -> set[int]:
                return {k for (k,) in select_in(
                    self.conn, "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? AND rowid IN ({in})",
                    keys, (match,))}

            return index.search(plan, limit, self._keys_of_pks, self._texts_of_pks, verify,
                                docs=docs, tokens=tokens)

    def _keys_of_pks(self, pks: list[int]) -> dict[int, int]:
        return {pk: key for pk, key in select_in(self.conn, "SELECT pk, sort_key FROM papers WHERE pk IN ({in})",
                                                 pks)}

    def _texts_of_pks(self, pks: list[int]) -> dict[int, rankindex.Texts]:
        sql = "SELECT pk, sort_key, title, abstract, authors, comment FROM papers WHERE pk IN ({in})"
        return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in select_in(self.conn, sql, pks)}

    def _changed_rows(self, after: int, upto: int) -> list[rankindex.Row] | None:
        """The rows of papers changed after change `after` up to `upto`; None when over rankindex.TAIL_MAX."""
        pks = rankindex.changed_pks(self.conn, after, upto, rankindex.TAIL_MAX + 1)
        return None if len(pks) > rankindex.TAIL_MAX else rankindex.rows_for(self.conn, pks)

    def get_state(self, key: str, default: JSONValue = None) -> JSONValue:
        row = self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return default if row is None else orjson.loads(row[0])  # type: ignore[no-any-return]

    def set_state(self, key: str, value: JSONValue) -> None:
        with self._lock:
            self.conn.execute(
                "INSERT INTO state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, orjson.dumps(value, default=str)),
            )

    def database_problems(self) -> list[str]:
        """What `PRAGMA integrity_check` reports (empty when the file is sound)."""
        try:
            rows = [r[0] for r in self.conn.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as e:
            return [str(e)]
        return [] if rows == ["ok"] else rows

    def index_problem(self) -> str | None:
        """Why the full-text index disagrees with the papers (FTS5's integrity check with rank=1), or None."""
        if not self.index_in_step(thorough=True):
            return "the full-text index and the papers table hold different numbers of papers"
        try:
            # Read-only opens cannot run the check command (it is an INSERT); their index is checked by count.
            if not self.readonly:
                self.conn.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as e:
            return str(e)
        path = self.cache_path("rank")
        lists = rankindex.problem(rankindex.RankIndex(path), self.change_seq()) if path is not None else None
        return f"ranking lists {path}: {lists}" if lists else None

    def integrity_check(self) -> None:
        """Raise StoreError if the database is damaged or the full-text index disagrees with the papers table."""
        problems = self.database_problems()
        if problems:
            raise StoreError(f"{self.path} is damaged: {'; '.join(problems[:3])}")
        problem = self.index_problem()
        if problem:
            raise StoreError(f"full-text index out of step with papers: {problem}")


def _fts_total_rows(conn: sqlite3.Connection) -> int:
    """The number of rows FTS5 counts in its index: the first varint of the averages record (id 1)."""
    row = conn.execute("SELECT block FROM papers_fts_data WHERE id = 1").fetchone()
    if row is None or not row[0]:
        return 0
    block: bytes = row[0]
    value = 0
    for i, b in enumerate(block[:9]):  # SQLite varint: 7 bits a byte, big-endian; a 9th byte gives all 8
        if i == 8:
            return (value << 8) | b
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value
    return value


def _pid_alive(name: str) -> bool:
    """Whether the process whose id ends a temporary name ('...tmp1234') still runs."""
    tail = name.rsplit("tmp", 1)[-1]
    if not tail.isdigit():
        return False
    try:
        os.kill(int(tail), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
