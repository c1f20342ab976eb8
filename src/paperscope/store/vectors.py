"""Vector-side tables of the SQLite library: embeddings per (paper, model), novelty evidence, AI Scores.

A mixin of SQLiteStore. Vectors are float32 blobs; the model that made them is part of the key, and the
library records one active model so that two models' vectors are never mixed silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from paperscope.errors import ModelMismatchError, StoreError
from paperscope.store.api import CohortRow, EmbeddingBatch, VectorProblems, EmbeddingMatrix, EmbeddingRow, NoveltyRecord, NoveltyRow, ScoreRecord, ScoreRow, ToEmbed
from paperscope.store.codec import iso
from paperscope.store.records import model_mismatch
from paperscope.store.sqlin import select_in, write_tx


# An embedding with what an index keeps beside it: (rowid, paper key, id, vector, first-submitted day, category).
_EMBEDDED = ("SELECT e.rowid, p.pk, p.arxiv_id, e.vector, "
             "CAST(julianday(substr(coalesce(p.published, p.updated), 1, 10)) - 2440587.5 AS INTEGER), "
             "p.primary_category FROM embeddings e JOIN papers p ON p.arxiv_id = e.arxiv_id ")


# AI Score inputs whose values repeat across papers: the scoring method, the model's name, its quality statement
# and held-out Spearman (the same for every paper of a field). Stored once per distinct combination.
SHARED_INPUTS = ("method", "model", "quality", "held_out_spearman")
NOTE_KEY = "$note"


class VectorTables:
    conn: Any
    _lock: Any
    _notes_read: dict[int, dict[str, Any]] | None = None

    def active_model(self) -> str | None:
        """The embedding model this library's vectors come from (None before the first `embed`)."""
        return self.get_state("embedding:model")  # type: ignore[attr-defined, no-any-return]

    def set_active_model(self, name: str, *, replace: bool = False) -> None:
        """Make `name` the library's model; a different model is refused unless `replace` (re-embed on request)."""
        current = self.active_model()
        if current and current != name and not replace:
            raise model_mismatch(current, name)
        if current != name:
            with self._lock:
                self.conn.execute("DELETE FROM novelty WHERE model != ?", (name,))
            self.set_state("embedding:model", name)  # type: ignore[attr-defined]
            with self._lock:
                self._bump_embeddings_epoch()

    def check_model(self, name: str) -> None:
        current = self.active_model()
        if current is None:
            raise ModelMismatchError("the library has no embeddings yet: run `paperscope embed` first")
        if current != name:
            raise ModelMismatchError(f"the library's vectors come from {current!r}, but {name!r} was asked for")

    def papers_to_embed(self, model: str, *, batch: int = 2000, keys: Sequence[int] | None = None
                        ) -> Iterator[list[ToEmbed]]:
        """(id, version, title, abstract) of papers with no vector from `model`, or one from an older version;
        among the papers of these `keys` only (e.g. those the change log names), or all of them."""
        if keys is not None:
            wanted = sorted(set(int(k) for k in keys))
            q = ("SELECT p.arxiv_id, p.version, p.title, p.abstract FROM papers p LEFT JOIN embeddings e "
                 "ON e.arxiv_id = p.arxiv_id AND e.model = ? WHERE p.pk IN ({in}) "
                 "AND (e.arxiv_id IS NULL OR e.version != p.version)")
            for start in range(0, len(wanted), batch):
                rows = [(r[0], r[1], r[2], r[3]) for r in select_in(self.conn, q, wanted[start:start + batch], (model,))]
                if rows:
                    yield rows
            return
        last = 0
        while True:
            rows = self.conn.execute(
                "SELECT p.pk, p.arxiv_id, p.version, p.title, p.abstract FROM papers p "
                "LEFT JOIN embeddings e ON e.arxiv_id = p.arxiv_id AND e.model = ? "
                "WHERE p.pk > ? AND (e.arxiv_id IS NULL OR e.version != p.version) ORDER BY p.pk LIMIT ?",
                (model, last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(r[1], r[2], r[3], r[4]) for r in rows]

    def count_to_embed(self, model: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM papers p LEFT JOIN embeddings e ON e.arxiv_id = p.arxiv_id AND e.model = ? "
            "WHERE e.arxiv_id IS NULL OR e.version != p.version", (model,)).fetchone()[0]

    def count_embedded(self, model: str) -> int:
        return int(self.conn.execute("SELECT count(*) FROM embeddings WHERE model = ?", (model,)).fetchone()[0])

    def save_embeddings(self, model: str, rows: Iterable[EmbeddingRow]) -> int:
        data = [(i, model, v, np.ascontiguousarray(vec, dtype=np.float32).tobytes()) for i, v, vec in rows]
        with write_tx(self.conn, self._lock):
            self.conn.executemany(
                "INSERT OR REPLACE INTO embeddings(arxiv_id, model, version, vector) VALUES (?,?,?,?)", data)
            if data:
                self._bump_embeddings_version()
        return len(data)

    def _bump_embeddings_version(self) -> None:
        """Inside a write transaction: mark the library's embeddings as changed (in-memory copies reload)."""
        self.conn.execute("INSERT INTO state(key, value) VALUES ('embedding:version', '1') ON CONFLICT(key) DO UPDATE "
                          "SET value = CAST(value AS INTEGER) + 1")

    def embeddings_version(self) -> int:
        """A number that changes whenever embeddings are added or replaced (in-memory copies compare it)."""
        return int(self.get_state("embedding:version", 0))  # type: ignore[attr-defined]

    def embedding_matrix(self, model: str) -> EmbeddingMatrix:
        """(paper keys, ids, vectors, (first-submitted ISO date, primary category)) of every embedded paper."""
        rows = self.conn.execute(
            "SELECT p.pk, p.arxiv_id, e.vector, coalesce(p.published, p.updated), p.primary_category "
            "FROM embeddings e JOIN papers p ON p.arxiv_id = e.arxiv_id WHERE e.model = ? ORDER BY p.pk",
            (model,)).fetchall()
        if not rows:
            return EmbeddingMatrix(np.zeros(0, dtype=np.int64), [], np.zeros((0, 0), dtype=np.float32), [])
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        mat = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        return EmbeddingMatrix(keys, [r[1] for r in rows], mat, [(r[3], r[4]) for r in rows])

    def embeddings_since(self, model: str, after: int, *, limit: int = 100_000) -> EmbeddingBatch:
        """Embeddings of `model` written after rowid `after`, oldest first (INSERT OR REPLACE gives a replaced
        vector a new rowid, so a re-embedded paper comes again)."""
        rows = self.conn.execute(_EMBEDDED + "WHERE e.rowid > ? AND e.model = ? ORDER BY e.rowid LIMIT ?",
                                 (after, model, limit)).fetchall()
        return _batch(rows, after)

    def embeddings_sample(self, model: str, n: int, *, seed: int = 0) -> EmbeddingBatch:
        """About `n` embeddings of `model` drawn at random (reproducibly), for training an index's centroids."""
        top = self.conn.execute("SELECT max(rowid) FROM embeddings").fetchone()[0] or 0
        rng = np.random.default_rng(seed)
        picks = np.unique(rng.integers(1, top + 1, size=min(n, top))) if top else np.zeros(0, np.int64)
        q = _EMBEDDED + "WHERE e.model = ? AND e.rowid IN ({in})"
        rows = list(select_in(self.conn, q, picks.tolist(), (model,)))
        return _batch(rows, 0)

    def embeddings_epoch(self) -> int:
        return int(self.get_state("embedding:epoch", 0))  # type: ignore[attr-defined]

    def _bump_embeddings_epoch(self) -> None:
        """Inside a write transaction: embeddings were removed (copies elsewhere must rebuild)."""
        self.conn.execute("INSERT INTO state(key, value) VALUES ('embedding:epoch', '1') ON CONFLICT(key) DO UPDATE "
                          "SET value = CAST(value AS INTEGER) + 1")

    def embeddings_of(self, model: str, arxiv_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored (full-precision) vectors of these papers under `model`; papers without one are left out."""
        q = "SELECT arxiv_id, vector FROM embeddings WHERE model = ? AND arxiv_id IN ({in})"
        return {i: np.frombuffer(v, dtype=np.float32) for i, v in select_in(self.conn, q, list(arxiv_ids), (model,))}

    def embedding_of(self, model: str, arxiv_id: str) -> np.ndarray | None:
        row = self.conn.execute("SELECT vector FROM embeddings WHERE arxiv_id = ? AND model = ?",
                                (arxiv_id, model)).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype=np.float32).copy()

    def key_id_table(self) -> tuple[np.ndarray, list[str]]:
        """Every paper's key and id, by key (for passes over the whole library)."""
        rows = self.conn.execute("SELECT pk, arxiv_id FROM papers ORDER BY pk").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), [r[1] for r in rows]

    def keys_for_ids(self, arxiv_ids: Sequence[str]) -> dict[str, int]:
        return {i: int(k) for i, k in select_in(self.conn, "SELECT arxiv_id, pk FROM papers WHERE arxiv_id IN ({in})",
                                                   list(arxiv_ids))}

    def ids_for_keys(self, keys: Sequence[int]) -> dict[int, str]:
        return dict(select_in(self.conn, "SELECT pk, arxiv_id FROM papers WHERE pk IN ({in})", (int(k) for k in keys)))

    def ids_by_doi(self, dois: Sequence[str]) -> dict[str, str]:
        """DOI (lower case) -> arXiv id, for papers whose DOI is known."""
        out: dict[str, str] = {}
        for d in dois:
            row = self.conn.execute("SELECT arxiv_id FROM papers WHERE lower(doi) = ?", (d.lower(),)).fetchone()
            if row:
                out[d.lower()] = row[0]
        return out

    def recent_ids(self, since_iso: str, *, limit: int = 50_000) -> list[str]:
        """Papers first submitted on or after a date (ISO), newest first."""
        return [r[0] for r in self.conn.execute(
            "SELECT arxiv_id FROM papers WHERE coalesce(published, updated) >= ? ORDER BY sort_key DESC LIMIT ?",
            (since_iso, limit))]

    def save_novelty(self, model: str, k: int, results: Iterable[NoveltyRow], computed: datetime, *,
                     cohorts: Mapping[str, str] | None = None) -> None:
        """Store novelty rows in one transaction; `cohorts[id]` ('category|year') lets a later run re-rank
        only the cohorts its new papers join."""
        when = iso(computed)
        co = cohorts or {}
        with write_tx(self.conn, self._lock):
            self.conn.executemany(
                "INSERT OR REPLACE INTO novelty(arxiv_id, model, k, value, percentile, reason, neighbours, computed,"
                " cohort) VALUES (?,?,?,?,?,?,?,?,?)",
                [(i, model, k, v, pct, reason, orjson.dumps([[n, round(s, 4)] for n, s in nb]), when, co.get(i, ""))
                 for i, v, pct, reason, nb in results])

    def novelty_for(self, ids: Sequence[str], model: str | None = None) -> dict[str, NoveltyRecord]:
        model = model or self.active_model()
        out: dict[str, NoveltyRecord] = {}
        if not model:
            return out
        q = ("SELECT arxiv_id, k, value, percentile, reason, neighbours, computed FROM novelty WHERE model = ? "
             "AND arxiv_id IN ({in})")
        for r in select_in(self.conn, q, ids, (model,)):
            out[r[0]] = NoveltyRecord(k=r[1], value=r[2], percentile=r[3], reason=r[4],
                                      neighbours=[(n, s) for n, s in orjson.loads(r[5])], computed=r[6])
        return out

    def novelty_cohort_sizes(self, model: str) -> dict[str, int]:
        return {c: int(n) for c, n in self.conn.execute(
            "SELECT cohort, count(value) FROM novelty WHERE model = ? GROUP BY cohort", (model,))}

    def novelty_in_cohorts(self, model: str, cohorts: Sequence[str]) -> list[CohortRow]:
        q = "SELECT arxiv_id, cohort, value, percentile, reason FROM novelty WHERE model = ? AND cohort IN ({in})"
        return [CohortRow(*r) for r in select_in(self.conn, q, list(cohorts), (model,))]

    def novelty_values(self, model: str, cohorts: Sequence[str] | None = None) -> np.ndarray:
        # From the covering index (model, cohort, value): the wide rows themselves are never read.
        if cohorts is None:
            rows: Iterable[tuple[Any, ...]] = self.conn.execute(
                "SELECT value FROM novelty INDEXED BY novelty_cohort WHERE model = ? AND value IS NOT NULL", (model,))
        else:
            rows = select_in(self.conn, "SELECT value FROM novelty INDEXED BY novelty_cohort WHERE model = ? AND "
                             "cohort IN ({in}) AND value IS NOT NULL", list(cohorts), (model,))
        return np.fromiter((r[0] for r in rows), dtype=np.float64)

    def set_percentiles(self, model: str, rows: Iterable[tuple[str, float | None, str]]) -> int:
        # In key order, each page of the table is visited once rather than once per row: a first run's 2.9M
        # percentiles, given in cohort order, 74 s; sorted, 34 s
        data = sorted((i, pct, reason) for i, pct, reason in rows)
        if not data:
            return 0
        data = [(pct, reason, i, model) for i, pct, reason in data]
        with write_tx(self.conn, self._lock):
            self.conn.executemany("UPDATE novelty SET percentile = ?, reason = ? WHERE arxiv_id = ? AND model = ?",
                                  data)
        return len(data)

    def save_scores(self, rows: Iterable[ScoreRow], computed: datetime) -> None:
        """Store AI Scores; the inputs every paper of a model repeats (SHARED_INPUTS) go to one note each, which
        the row names (its own copy of those keys kept in place as null, so the inputs read back in order)."""
        when = iso(computed)
        with write_tx(self.conn, self._lock):
            note_ids: dict[bytes, int] = {}
            out = []
            for i, v, m, inp in rows:
                shared = {k: inp[k] for k in SHARED_INPUTS if k in inp}
                if not shared:
                    out.append((i, v, m, orjson.dumps(inp, default=str), when))
                    continue
                note = orjson.dumps(shared, default=str)
                nid = note_ids.get(note)
                if nid is None:
                    nid = note_ids[note] = self._score_note_id(note)
                row = {k: (None if k in shared else val) for k, val in inp.items()}
                row[NOTE_KEY] = nid
                out.append((i, v, m, orjson.dumps(row, default=str), when))
            self.conn.executemany(
                "INSERT OR REPLACE INTO scores(arxiv_id, value, method, inputs, computed) VALUES (?,?,?,?,?)", out)

    def _score_note_id(self, note: bytes) -> int:
        text = note.decode()
        self.conn.execute("INSERT OR IGNORE INTO score_notes(note) VALUES (?)", (text,))
        return int(self.conn.execute("SELECT id FROM score_notes WHERE note = ?", (text,)).fetchone()[0])

    def scores_for(self, ids: Sequence[str]) -> dict[str, ScoreRecord]:
        q = "SELECT arxiv_id, value, method, inputs, computed FROM scores WHERE arxiv_id IN ({in})"
        return {r[0]: ScoreRecord(value=r[1], method=r[2], inputs=self._score_inputs(r[3]), computed=r[4])
                for r in select_in(self.conn, q, ids)}

    def _score_inputs(self, raw: str | bytes) -> dict[str, Any]:
        inputs: dict[str, Any] = orjson.loads(raw)
        nid = inputs.pop(NOTE_KEY, None)
        if nid is None:
            return inputs
        note = self._score_notes().get(nid)
        if note is None:  # written by another connection since this one read the notes
            self._notes_read = None
            note = self._score_notes().get(nid)
            if note is None:
                raise StoreError(f"an AI Score's inputs name note {nid}, which table score_notes lacks")
        return {k: note.get(k, val) for k, val in inputs.items()}

    def _score_notes(self) -> dict[int, dict[str, Any]]:
        """The notes by id (read once; a committed note never changes, so only a missing id reads again). Inside an
        open transaction they are read afresh and not kept: a note it wrote may yet be rolled back, and its id
        given to another note."""
        notes = self._notes_read
        if notes is None:
            notes = {int(i): orjson.loads(n) for i, n in self.conn.execute("SELECT id, note FROM score_notes")}
            if not self.conn.in_transaction:
                self._notes_read = notes
        return notes

    def mark_not_interested(self, ids: Sequence[str], when: datetime) -> None:
        with write_tx(self.conn, self._lock):
            self.conn.executemany("INSERT OR IGNORE INTO not_interested(arxiv_id, added) VALUES (?,?)",
                                  [(i, iso(when)) for i in ids])

    def rate(self, arxiv_id: str, rating: str, when: datetime) -> None:
        """Record 👍 ('up') or 👎 ('down') for a paper; 'none' takes a rating back."""
        with self._lock:
            if rating == "none":
                self.conn.execute("DELETE FROM ratings WHERE arxiv_id = ?", (arxiv_id,))
            else:
                self.conn.execute("INSERT OR REPLACE INTO ratings(arxiv_id, rating, rated) VALUES (?,?,?)",
                                  (arxiv_id, rating, iso(when)))

    def ratings(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT arxiv_id, rating FROM ratings")}

    def not_interested(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT arxiv_id FROM not_interested")}

    def vector_problems(self, model: str) -> VectorProblems:
        orphans = self.conn.execute("SELECT count(*) FROM embeddings e WHERE NOT EXISTS "
                                    "(SELECT 1 FROM papers p WHERE p.arxiv_id = e.arxiv_id)").fetchone()[0]
        stale = self.conn.execute("SELECT count(*) FROM embeddings e JOIN papers p ON p.arxiv_id = e.arxiv_id "
                                  "WHERE e.model = ? AND e.version != p.version", (model,)).fetchone()[0]
        return VectorProblems(orphans, stale)

    def drop_orphan_embeddings(self) -> int:
        """Delete embeddings whose paper is gone (the embeddings version moves, so in-memory copies reload)."""
        with write_tx(self.conn, self._lock):
            n = self.conn.execute("DELETE FROM embeddings WHERE NOT EXISTS "
                                  "(SELECT 1 FROM papers p WHERE p.arxiv_id = embeddings.arxiv_id)").rowcount
            if n:
                self._bump_embeddings_version()
                self._bump_embeddings_epoch()
        return int(n)


def _batch(rows: list[Any], after: int) -> EmbeddingBatch:
    """(rowid, pk, id, vector blob, day, category) rows as one EmbeddingBatch."""
    if not rows:
        return EmbeddingBatch(after, np.zeros(0, dtype=np.int64), [], np.zeros((0, 0), dtype=np.float32),
                              np.zeros(0, dtype=np.int32), [])
    n = len(rows)
    vecs = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(n, -1)
    return EmbeddingBatch(max(int(r[0]) for r in rows), np.fromiter((r[1] for r in rows), dtype=np.int64, count=n),
                          [r[2] for r in rows], vecs, np.fromiter((r[4] for r in rows), dtype=np.int32, count=n),
                          [r[5] for r in rows])
