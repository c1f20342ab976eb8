"""Versioned schema migrations for the SQLite library; PRAGMA user_version records the applied version.

Each migration runs once, in order, inside one transaction. Never edit a released migration: add a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE papers (
            pk INTEGER PRIMARY KEY,
            arxiv_id TEXT NOT NULL UNIQUE,
            -- FTS rowid: (unix seconds of last update) << 20 | slot, so rowid order is newest-first order
            sort_key INTEGER NOT NULL UNIQUE,
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            abstract TEXT NOT NULL,
            authors TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            categories TEXT NOT NULL DEFAULT '',
            primary_category TEXT NOT NULL DEFAULT '',
            journal_ref TEXT NOT NULL DEFAULT '',
            doi TEXT NOT NULL DEFAULT '',
            license TEXT NOT NULL DEFAULT '',
            report_no TEXT NOT NULL DEFAULT '',
            submitter TEXT NOT NULL DEFAULT '',
            published TEXT,
            updated TEXT NOT NULL,
            authors_json TEXT NOT NULL,
            versions_json TEXT NOT NULL
        );
        CREATE VIRTUAL TABLE papers_fts USING fts5(
            title, abstract, authors, comment, categories,
            content='papers', content_rowid='sort_key',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TABLE state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    ),
    (
        2,
        """
        -- NULL: not looked at yet (bulk imports leave it to the first read); '' means no code.
        ALTER TABLE papers ADD COLUMN code_url TEXT;
        CREATE TABLE citations (
            arxiv_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            fetched TEXT NOT NULL,
            cited_by_count INTEGER,
            influential INTEGER,
            counts_by_year TEXT NOT NULL DEFAULT '{}',
            work_id TEXT,
            doi TEXT
        );
        CREATE TABLE authorships (
            arxiv_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            openalex_id TEXT,
            orcid TEXT,
            s2_id TEXT,
            institutions TEXT NOT NULL DEFAULT '[]',
            source TEXT NOT NULL,
            PRIMARY KEY (arxiv_id, position)
        );
        CREATE INDEX authorships_openalex ON authorships(openalex_id) WHERE openalex_id IS NOT NULL;
        CREATE INDEX authorships_orcid ON authorships(orcid) WHERE orcid IS NOT NULL;
        CREATE TABLE author_stats (
            author_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            fetched TEXT NOT NULL,
            name TEXT,
            orcid TEXT,
            h_index INTEGER,
            i10_index INTEGER,
            two_year_mean REAL,
            works_count INTEGER,
            cited_by_count INTEGER,
            counts_by_year TEXT NOT NULL DEFAULT '{}',
            institutions TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE follows (
            key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            since TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        """
        CREATE TABLE embeddings (
            arxiv_id TEXT NOT NULL,
            model TEXT NOT NULL,
            version INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (arxiv_id, model)
        );
        CREATE TABLE novelty (
            arxiv_id TEXT NOT NULL,
            model TEXT NOT NULL,
            k INTEGER NOT NULL,
            value REAL,
            percentile REAL,
            reason TEXT NOT NULL DEFAULT '',
            neighbours TEXT NOT NULL DEFAULT '[]',
            computed TEXT NOT NULL,
            PRIMARY KEY (arxiv_id, model)
        );
        CREATE TABLE scores (
            arxiv_id TEXT PRIMARY KEY,
            value REAL NOT NULL,
            method TEXT NOT NULL,
            inputs TEXT NOT NULL DEFAULT '{}',
            computed TEXT NOT NULL
        );
        CREATE TABLE not_interested (
            arxiv_id TEXT PRIMARY KEY,
            added TEXT NOT NULL
        );
        """,
    ),
    (
        4,
        """
        CREATE TABLE ratings (
            arxiv_id TEXT PRIMARY KEY,
            rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
            rated TEXT NOT NULL
        );
        """,
    ),
    (
        5,
        """
        -- The change log later stages (embeddings, novelty, scores, code links) read: one row per new paper and
        -- per paper whose text moved to a newer version, written in the papers' own transaction.
        -- AUTOINCREMENT so a seq is never handed out twice, even after prune_changes emptied the table.
        CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            pk INTEGER NOT NULL
        );
        """,
    ),
    (
        6,
        """
        -- The novelty cohort of a paper ('primary category|year'): a daily run re-ranks only the cohorts its new
        -- papers join. '' on rows written before: the first run after this migration scores every paper again.
        ALTER TABLE novelty ADD COLUMN cohort TEXT NOT NULL DEFAULT '';
        CREATE INDEX novelty_cohort ON novelty(model, cohort, value);
        """,
    ),
    (
        7,
        """
        -- The author index: one row per (author-index key, paper, author position), keys from
        -- scoring.names.author_index_keys, so a person's papers are one range of the primary key. Papers
        -- are named by sort_key (known before the insert, unlike pk; rewritten with the row on a new version).
        CREATE TABLE paper_authors (
            name_key TEXT NOT NULL,
            sort_key INTEGER NOT NULL,
            pos INTEGER NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (name_key, sort_key, pos)
        ) WITHOUT ROWID;
        -- A library that already has papers gets its index filled by the next writer that opens it;
        -- until then author lookups use the full-text index.
        INSERT INTO state(key, value) SELECT 'author_index_stale', 'true' WHERE EXISTS (SELECT 1 FROM papers);
        """,
    ),
    (
        8,
        """
        -- What AI Score inputs share across papers (the model's name, its quality statement: ~40 % of each row's
        -- JSON), kept once; a scores row names its note with "$note" (store/vectors.py). Rows from before stay
        -- whole and read as they are.
        CREATE TABLE IF NOT EXISTS score_notes (
            id INTEGER PRIMARY KEY,
            note TEXT NOT NULL UNIQUE
        );
        """,
    ),
]

LATEST = MIGRATIONS[-1][0]


def migrate(conn: sqlite3.Connection, *, on_create: Sequence[str] = ()) -> int:
    """Bring the database to the latest schema; returns the version it was at before (0: created now).

    The version is read again inside each migration's write transaction, so two processes opening a new
    library at once apply each migration exactly once (the second finds it done and skips it).
    `on_create` statements run in the transaction that creates the schema.
    """
    before = conn.execute("PRAGMA user_version").fetchone()[0]
    if before == LATEST:  # the usual case: nothing to write, no write lock taken
        return before
    first_seen: int | None = None
    for version, sql in MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if first_seen is None:
                first_seen = current
            if current > LATEST:
                from paperscope.errors import StoreError

                raise StoreError(f"library schema version {current} is newer than this paperscope knows "
                                 f"({LATEST}); upgrade paperscope")
            if version <= current:
                conn.execute("COMMIT")
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            if version == 1:
                for statement in on_create:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return before if first_seen is None else first_seen


def _statements(sql: str) -> list[str]:
    parts, buf = [], []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        buf.append(line)
        joined = "\n".join(buf)
        if joined.rstrip().endswith(";") and sqlite3.complete_statement(joined):
            parts.append(joined.strip())
            buf = []
    if "".join(buf).strip():
        parts.append("\n".join(buf).strip())
    return parts
