"""Author-side tables of the SQLite library: citations, authorships, author figures, follows.

A mixin of SQLiteStore (it uses `self.conn`, `self._lock` and the paper readers); kept apart so that each file
stays about one thing.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from paperscope.store.api import AuthorKeyer, AuthorshipRecord, AuthorStatsRecord, CitationRecord, FollowRecord
from paperscope.store.codec import iso_text as _iso
from paperscope.store.sqlin import select_in, write_tx

if TYPE_CHECKING:
    from paperscope.sources.citations import AuthorStats, PaperCitations


# Set while `paper_authors` lacks some papers (a library from before it, or papers written by a store
# without a keyer); the next writer with a keyer fills it again, and lookups use the full-text index meanwhile.
AUTHOR_INDEX_STALE = "author_index_stale"
_INSERT_AUTHOR = "INSERT OR REPLACE INTO paper_authors(name_key, sort_key, pos, name) VALUES (?,?,?,?)"
_DELETE_AUTHOR = "DELETE FROM paper_authors WHERE name_key = ? AND sort_key = ?"


def _years(raw: str) -> dict[int, int]:
    return {int(k): v for k, v in orjson.loads(raw).items()}


def _key_queries(columns: str, tail: str, keys: Sequence[str], prefixes: Sequence[str],
                 names: Sequence[str] | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """(sql, parameters) reading `columns` of the author-index rows under each key and each key prefix."""
    among: tuple[str, ...] = ()
    where_names = ""
    if names is not None:
        among = tuple(dict.fromkeys(names))
        if not among:
            return []
        where_names = f" AND name IN ({','.join('?' * len(among))})"
    out = [(f"SELECT {columns} FROM paper_authors WHERE name_key = ?{where_names}{tail}", (k, *among))
           for k in dict.fromkeys(keys)]
    # Keys never hold '-' inside the surname: [prefix, prefix with its last character bumped) is the range.
    out += [(f"SELECT {columns} FROM paper_authors WHERE name_key >= ? AND name_key < ?{where_names}{tail}",
             (p, p[:-1] + chr(ord(p[-1]) + 1), *among)) for p in dict.fromkeys(prefixes) if p]
    return out


def author_names(raw: str | bytes) -> list[str]:
    """The author names of a stored `authors_json`, in order, without building an `Author` each."""
    return [a if isinstance(a, str) else a[0] for a in orjson.loads(raw)]


AUTHOR_HELPER_FROM = 200_000  # papers from which the author-index pass shares its work with a helper process
AUTHOR_PART_SUFFIX = ".authors-part"  # the helper's scratch file beside the library
_PART_SCHEMA = "author_part"


def _gather_author_rows(conn: sqlite3.Connection, table: str, keys: AuthorKeyer, after: int, upto: int | None,
                        batch: int, *, into: sqlite3.Connection | None = None) -> int:
    """Every author-index row of the papers with after < sort key (<= upto) into `table` (of `into`, default
    `conn`), in key order; returns the papers read."""
    done, last = 0, after
    bound = "" if upto is None else f" AND sort_key <= {int(upto)}"
    out = conn if into is None else into
    while True:
        rows = conn.execute(f"SELECT sort_key, authors_json FROM papers WHERE sort_key > ?{bound} "
                            "ORDER BY sort_key LIMIT ?", (last, batch)).fetchall()
        if not rows:
            return done
        last = rows[-1][0]
        out.executemany(f"INSERT INTO {table} VALUES (?,?,?,?)", [
            (k, sk, i, n) for sk, raw in rows for i, n in enumerate(author_names(raw)) for k in keys(n)])
        done += len(rows)


def _author_part_main(library: str, scratch: str, after: int, keys: AuthorKeyer, batch: int,
                      gc_threshold: tuple[int, int, int]) -> None:
    """The helper process: the rows of the papers after sort key `after` into `scratch` (table author_rows), then
    their number into table done; reads the library read-only; collects garbage as its parent did."""
    import gc

    gc.set_threshold(*gc_threshold)  # an import's writer collects rarely: millions of short-lived tuples
    src = sqlite3.connect(f"{Path(library).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    out = sqlite3.connect(scratch, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        out.execute("PRAGMA journal_mode = OFF")  # a scratch file: on any failure it is thrown away
        out.execute("PRAGMA synchronous = OFF")
        out.execute("CREATE TABLE author_rows (name_key TEXT, sort_key INTEGER, pos INTEGER, name TEXT)")
        out.execute("BEGIN")
        done = _gather_author_rows(src, "author_rows", keys, after, None, batch, into=out)
        out.execute("CREATE TABLE done (papers INTEGER)")
        out.execute("INSERT INTO done VALUES (?)", (done,))
        out.execute("COMMIT")
    finally:
        src.close()
        out.close()


class _AuthorPart:
    """The helper process of an author-index pass and its scratch file (`<library>.authors-part`)."""

    def __init__(self, proc: Any, scratch: Path, after: int) -> None:
        self.proc, self.scratch, self.after = proc, scratch, after
        self._attached = False

    @classmethod
    def start(cls, conn: sqlite3.Connection, library: str, keys: AuthorKeyer, batch: int) -> _AuthorPart | None:
        """A helper for the later half of the papers, or None (a small or in-memory library, or no process)."""
        if library == ":memory:":
            return None
        n = conn.execute("SELECT max(pk) FROM papers").fetchone()[0] or 0
        if n < AUTHOR_HELPER_FROM:
            return None
        row = conn.execute("SELECT sort_key FROM papers ORDER BY sort_key LIMIT 1 OFFSET ?", (n // 2,)).fetchone()
        if row is None:
            return None
        scratch = Path(library + AUTHOR_PART_SUFFIX)
        try:
            import gc
            from multiprocessing import get_context

            scratch.unlink(missing_ok=True)
            # spawn, not fork: this process holds an open SQLite connection in a write transaction
            proc = get_context("spawn").Process(target=_author_part_main, daemon=True, name="paperscope-authors",
                                                args=(library, str(scratch), int(row[0]), keys, batch,
                                                      gc.get_threshold()))
            proc.start()
        except Exception:  # a keyer that cannot go to another process, no processes here: all in this one
            scratch.unlink(missing_ok=True)
            return None
        return cls(proc, scratch, int(row[0]))

    def join(self, conn: sqlite3.Connection) -> int | None:
        """Wait for the helper and attach its file to `conn` as `author_part`; the papers it read, or None when it
        failed (nothing attached)."""
        self.proc.join()
        if self.proc.exitcode != 0 or not self.scratch.exists():
            return None
        try:
            conn.execute(f"ATTACH DATABASE ? AS {_PART_SCHEMA}", (str(self.scratch),))
            self._attached = True
            return int(conn.execute(f"SELECT papers FROM {_PART_SCHEMA}.done").fetchone()[0])
        except (sqlite3.Error, TypeError):
            self._detach(conn)
            return None

    def _detach(self, conn: sqlite3.Connection) -> None:
        if self._attached:
            self._attached = False
            try:
                conn.execute(f"DETACH DATABASE {_PART_SCHEMA}")
            except sqlite3.Error:  # the connection is going anyway; what matters is the scratch file going
                pass

    def close(self, conn: sqlite3.Connection) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        self._detach(conn)
        self.scratch.unlink(missing_ok=True)


class AuthorTables:
    conn: Any
    _lock: Any
    path: str  # the library's file, or ":memory:"
    author_keys: AuthorKeyer | None
    # (sort key, author strings) to add to / remove from the author index at the end of an upsert batch
    _ix_add: list[tuple[int, list[str]]]
    _ix_del: list[tuple[int, list[str]]]
    _authors_deferred: bool

    # ---------------------------------------------------------------- the author index
    def _author_rows_changed(self, old_key: int | None, old_authors_json: str | bytes | None, new_key: int,
                             names: list[str]) -> None:
        """Note one paper's author strings (and those it had, under its old sort key) for the index."""
        if old_key is not None and old_authors_json is not None:
            self._ix_del.append((old_key, author_names(old_authors_json)))
        self._ix_add.append((new_key, names))

    def _write_author_index(self) -> None:
        """Write the noted author rows: one executemany each for deletions and insertions (in the caller's
        transaction, so the index never disagrees with the papers). While a first bulk import defers the index
        (`_authors_deferred`), the rows are dropped: the index is marked stale and built in one sorted pass at
        the end (rows in key order append to the B-tree; in paper order each lands on a random page)."""
        if not self._ix_add and not self._ix_del:
            return
        keys = self.author_keys
        if keys is None or self._authors_deferred:
            self.conn.execute("INSERT OR IGNORE INTO state(key, value) VALUES (?, 'true')", (AUTHOR_INDEX_STALE,))
        else:
            if self._ix_del:
                self.conn.executemany(_DELETE_AUTHOR, list(dict.fromkeys(
                    (k, sk) for sk, names in self._ix_del for n in names for k in keys(n))))
            self.conn.executemany(_INSERT_AUTHOR, [
                (k, sk, i, n) for sk, names in self._ix_add for i, n in enumerate(names) for k in keys(n)])
        self._ix_add.clear()
        self._ix_del.clear()

    def author_index_stale(self) -> bool:
        return self.conn.execute("SELECT 1 FROM state WHERE key = ?", (AUTHOR_INDEX_STALE,)).fetchone() is not None

    def fill_author_index(self, *, batch: int = 20_000) -> int:
        """Rebuild the author index from the papers (a library from before it, or after a first bulk import);
        returns the papers indexed. The rows are gathered in a temporary table and written in key order.

        In a library of AUTHOR_HELPER_FROM papers or more, a helper process gathers the later half of the papers'
        rows into a scratch file meanwhile (reading the library, never writing it), so the pass uses a second
        core (after a first import the other one is the side index's final merge); should it fail, this process
        gathers that half itself."""
        keys = self.author_keys
        if keys is None:
            return 0
        with self._lock:
            # The rows (about six a paper) and their sort spill to a temporary file rather than memory: 19M rows for
            # all of arXiv would otherwise hold ~1.5 GB. (Changing temp_store drops temp tables; the store has none.)
            self.conn.execute("PRAGMA temp_store = FILE")
            self.conn.execute("BEGIN IMMEDIATE")
            helper: _AuthorPart | None = None
            try:
                self.conn.execute("CREATE TEMP TABLE author_rows_new (name_key TEXT, sort_key INTEGER, pos INTEGER, "
                                  "name TEXT)")
                helper = _AuthorPart.start(self.conn, self.path, keys, batch)
                split = helper.after if helper is not None else None
                done = _gather_author_rows(self.conn, "temp.author_rows_new", keys, -1, split, batch)
                source = "temp.author_rows_new"
                if helper is not None:
                    theirs = helper.join(self.conn)
                    if theirs is not None:
                        done += theirs
                        source = ("(SELECT * FROM temp.author_rows_new UNION ALL "
                                  f"SELECT * FROM {_PART_SCHEMA}.author_rows)")
                    else:  # the helper failed: its half is gathered here
                        done += _gather_author_rows(self.conn, "temp.author_rows_new", keys, helper.after, None,
                                                    batch)
                self.conn.execute("DELETE FROM paper_authors")
                self.conn.execute("INSERT OR REPLACE INTO paper_authors(name_key, sort_key, pos, name) SELECT "
                                  f"name_key, sort_key, pos, name FROM {source} ORDER BY name_key, sort_key, pos")
                self.conn.execute("DELETE FROM state WHERE key = ?", (AUTHOR_INDEX_STALE,))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            finally:
                if helper is not None:
                    helper.close(self.conn)
                self.conn.execute("DROP TABLE IF EXISTS temp.author_rows_new")
                self.conn.execute("PRAGMA temp_store = MEMORY")
        return done

    def author_index(self, keys: Sequence[str], prefixes: Sequence[str] = (),
                     keep: Callable[[str], bool] | None = None, *,
                     names: Sequence[str] | None = None) -> list[tuple[str, int, str]] | None:
        """(arxiv_id, author position, author string) of index rows under `keys` or starting with `prefixes`
        whose author string `keep` accepts (asked once per distinct string) and, given `names`, is one of them,
        in sort-key order (the order the full-text index returns papers in); None while the index is stale."""
        if self.author_index_stale():
            return None
        found: dict[tuple[int, int], str] = {}
        verdict: dict[str, bool] = {}
        for sql, params in _key_queries("sort_key, pos, name", "", keys, prefixes, names):
            for sk, pos, name in self.conn.execute(sql, params):
                ok = verdict.get(name)
                if ok is None:
                    ok = verdict[name] = keep is None or keep(name)
                if ok:
                    found[(sk, pos)] = name
        ids = dict(select_in(self.conn, "SELECT sort_key, arxiv_id FROM papers WHERE sort_key IN ({in})",
                             list(dict.fromkeys(sk for sk, _ in found))))
        return [(ids[sk], pos, found[(sk, pos)]) for sk, pos in sorted(found) if sk in ids]

    def author_name_counts(self, keys: Sequence[str], prefixes: Sequence[str] = ()) -> list[tuple[str, int]] | None:
        """Each distinct author string under `keys` or starting with `prefixes`, with its number of index rows
        there (counted by SQLite: a bare surname fits hundreds of thousands of rows); None while stale."""
        if self.author_index_stale():
            return None
        counts: dict[str, int] = {}
        for sql, params in _key_queries("name, count(*)", " GROUP BY name", keys, prefixes):
            for name, n in self.conn.execute(sql, params):
                counts[name] = counts.get(name, 0) + n
        return list(counts.items())

    # ---------------------------------------------------------------- papers by author
    def author_candidates(self, surname_tokens: Sequence[str], *, limit: int = 200_000) -> list[tuple[str, list[str]]]:
        """(arxiv_id, author names) of papers whose author list contains all the surname tokens."""
        toks = [t for t in surname_tokens if t]
        if not toks:
            return []
        phrase = " ".join('"' + t.replace('"', '""') + '"' for t in toks)
        match = f"authors : ({phrase})" if len(toks) == 1 else f'authors : NEAR({phrase}, 0)'
        rows = self.conn.execute(
            "SELECT p.arxiv_id, p.authors_json FROM papers_fts f JOIN papers p ON p.sort_key = f.rowid "
            "WHERE papers_fts MATCH ? LIMIT ?",
            (match, limit),
        ).fetchall()
        out = []
        for arxiv_id, raw in rows:
            out.append((arxiv_id, [a if isinstance(a, str) else a[0] for a in orjson.loads(raw)]))
        return out

    # ---------------------------------------------------------------- citations and authorships
    def save_citations(self, results: Iterable["PaperCitations"]) -> int:
        """Store each paper's citation figures and authorships, with their source and fetch date."""
        n = 0
        with write_tx(self.conn, self._lock):
            for r in results:
                self.conn.execute(
                    "INSERT INTO citations(arxiv_id, source, fetched, cited_by_count, influential, counts_by_year,"
                    " work_id, doi) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(arxiv_id) DO UPDATE SET "
                    "source=excluded.source, fetched=excluded.fetched, cited_by_count=excluded.cited_by_count, "
                    "influential=excluded.influential, counts_by_year=excluded.counts_by_year, "
                    "work_id=excluded.work_id, doi=excluded.doi",
                    (r.arxiv_id, r.source, _iso(r.fetched), r.cited_by_count, r.influential_citations,
                     orjson.dumps({str(k): v for k, v in r.counts_by_year.items()}), r.work_id, r.doi),
                )
                if r.authorships:
                    self.conn.execute("DELETE FROM authorships WHERE arxiv_id = ?", (r.arxiv_id,))
                    self.conn.executemany(
                        "INSERT INTO authorships(arxiv_id, position, name, openalex_id, orcid, s2_id, institutions,"
                        " source) VALUES (?,?,?,?,?,?,?,?)",
                        [(r.arxiv_id, a.position, a.name, a.openalex_id, a.orcid, a.s2_id,
                          orjson.dumps([asdict(i) for i in a.institutions]), r.source) for a in r.authorships],
                    )
                n += 1
        return n

    def count_with_citations(self) -> int:
        """Papers with a known citation count."""
        return int(self.conn.execute("SELECT count(*) FROM citations WHERE cited_by_count IS NOT NULL").fetchone()[0])

    def citations_for(self, arxiv_ids: Sequence[str]) -> dict[str, CitationRecord]:
        out: dict[str, CitationRecord] = {}
        q = ("SELECT arxiv_id, source, fetched, cited_by_count, influential, counts_by_year, work_id, doi "
             "FROM citations WHERE arxiv_id IN ({in})")
        for row in select_in(self.conn, q, arxiv_ids):
            out[row[0]] = {"source": row[1], "fetched": row[2], "cited_by_count": row[3], "influential": row[4],
                           "counts_by_year": _years(row[5]), "work_id": row[6], "doi": row[7]}
        return out

    def authorships_for(self, arxiv_ids: Sequence[str]) -> dict[str, list[AuthorshipRecord]]:
        out: dict[str, list[AuthorshipRecord]] = {}
        q = ("SELECT arxiv_id, position, name, openalex_id, orcid, s2_id, institutions, source FROM authorships "
             "WHERE arxiv_id IN ({in}) ORDER BY arxiv_id, position")
        for row in select_in(self.conn, q, arxiv_ids):
            out.setdefault(row[0], []).append(
                {"position": row[1], "name": row[2], "openalex_id": row[3], "orcid": row[4], "s2_id": row[5],
                 "institutions": orjson.loads(row[6]), "source": row[7]})
        return out

    def ids_needing_citations(self, older_than: datetime, *, limit: int | None = None) -> list[str]:
        """Papers with no citation figures, or figures fetched before `older_than`, newest papers first."""
        q = ("SELECT p.arxiv_id FROM papers p LEFT JOIN citations c ON c.arxiv_id = p.arxiv_id "
             "WHERE c.arxiv_id IS NULL OR c.fetched < ? ORDER BY p.sort_key DESC")
        params: tuple[Any, ...] = (_iso(older_than),)
        if limit:
            q += " LIMIT ?"
            params += (limit,)
        return [r[0] for r in self.conn.execute(q, params)]

    def save_author_stats(self, stats: Iterable["AuthorStats"]) -> None:
        with write_tx(self.conn, self._lock):
            self.conn.executemany(
                "INSERT OR REPLACE INTO author_stats(author_id, source, fetched, name, orcid, h_index, i10_index, "
                "two_year_mean, works_count, cited_by_count, counts_by_year, institutions) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(s.author_id, s.source, _iso(s.fetched), s.name, s.orcid, s.h_index, s.i10_index,
                  s.two_year_mean_citedness, s.works_count, s.cited_by_count,
                  orjson.dumps({str(k): v for k, v in s.counts_by_year.items()}),
                  orjson.dumps([asdict(i) for i in s.institutions])) for s in stats],
            )

    def author_stats(self, author_id: str) -> AuthorStatsRecord | None:
        row = self.conn.execute(
            "SELECT author_id, source, fetched, name, orcid, h_index, i10_index, two_year_mean, works_count, "
            "cited_by_count, counts_by_year, institutions FROM author_stats WHERE author_id = ?", (author_id,)
        ).fetchone()
        if row is None:
            return None
        return AuthorStatsRecord(author_id=row[0], source=row[1], fetched=row[2], name=row[3], orcid=row[4],
                                 h_index=row[5], i10_index=row[6], two_year_mean=row[7], works_count=row[8],
                                 cited_by_count=row[9], counts_by_year=_years(row[10]),
                                 institutions=orjson.loads(row[11]))

    # ---------------------------------------------------------------- follows
    def follow(self, key: str, name: str, since: datetime) -> bool:
        """Follow an author; False when already followed."""
        with self._lock:
            cur = self.conn.execute("INSERT OR IGNORE INTO follows(key, name, since) VALUES (?,?,?)",
                                    (key, name, _iso(since)))
        return cur.rowcount == 1

    def unfollow(self, key: str) -> bool:
        with self._lock:
            return self.conn.execute("DELETE FROM follows WHERE key = ?", (key,)).rowcount == 1

    def following(self) -> list[FollowRecord]:
        return [FollowRecord(key=k, name=n, since=s)
                for k, n, s in self.conn.execute("SELECT key, name, since FROM follows ORDER BY name")]


def surname_tokens(last_name: str) -> list[str]:
    """FTS tokens of a surname as unicode61 would split it ("Del Maestro" -> del, maestro)."""
    return [t for t in re.split(r"[^\w]+", last_name.lower()) if t]
