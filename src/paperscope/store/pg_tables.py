"""The PostgreSQL library's tables beside the papers: embeddings, novelty, AI Scores, feedback, citations,
author figures, follows and the author index. A mixin of `PostgresStore` (it uses `self.conn`, `self._write()`
and the state readers); the SQL is PostgreSQL's, the records those of the store contract."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from paperscope.store.api import (AuthorKeyer, AuthorshipRecord, AuthorStatsRecord, CitationRecord, CohortRow,
                                  EmbeddingBatch, EmbeddingMatrix, EmbeddingRow, FollowRecord, JSONValue,
                                  NoveltyRecord, NoveltyRow, ScoreRecord, ScoreRow, ToEmbed, VectorProblems)
from paperscope.store.codec import iso, iso_text
from paperscope.store.records import model_mismatch

if TYPE_CHECKING:
    from paperscope.sources.citations import AuthorStats, PaperCitations

AUTHOR_INDEX_STALE = "author_index_stale"
# An embedding with what an index keeps beside it: (rid, paper key, id, vector, first-submitted day, category).
_EMBEDDED = ("SELECT e.rid, p.pk, p.arxiv_id, e.vector, "
             "(substr(coalesce(p.published, p.updated), 1, 10)::date - DATE '1970-01-01'), "
             "p.primary_category FROM embeddings e JOIN papers p ON p.arxiv_id = e.arxiv_id ")


def _years(raw: str) -> dict[int, int]:
    return {int(k): v for k, v in orjson.loads(raw).items()}


def author_names(raw: str | bytes) -> list[str]:
    return [a if isinstance(a, str) else a[0] for a in orjson.loads(raw)]


def _batch(rows: list[Any], after: int) -> EmbeddingBatch:
    if not rows:
        return EmbeddingBatch(after, np.zeros(0, dtype=np.int64), [], np.zeros((0, 0), dtype=np.float32),
                              np.zeros(0, dtype=np.int32), [])
    n = len(rows)
    vecs = np.frombuffer(b"".join(bytes(r[3]) for r in rows), dtype=np.float32).reshape(n, -1)
    return EmbeddingBatch(max(int(r[0]) for r in rows), np.fromiter((r[1] for r in rows), dtype=np.int64, count=n),
                          [r[2] for r in rows], vecs, np.fromiter((r[4] for r in rows), dtype=np.int32, count=n),
                          [r[5] for r in rows])


class PgTables:
    conn: Any
    _lock: Any
    author_keys: AuthorKeyer | None
    _write: Callable[[], AbstractContextManager[None]]
    get_state: Callable[..., JSONValue]
    set_state: Callable[[str, JSONValue], None]

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one read, under the store's lock: the connection is shared by threads (the web app's), and a
        read run while another thread's write transaction is open would run inside it (an error there would abort
        that write)."""
        with self._lock:
            return list(self.conn.execute(sql, params).fetchall())

    # ---------------------------------------------------------------- vectors
    def active_model(self) -> str | None:
        got = self.get_state("embedding:model")
        return got if isinstance(got, str) else None

    def set_active_model(self, name: str, *, replace: bool = False) -> None:
        current = self.active_model()
        if current and current != name and not replace:
            raise model_mismatch(current, name)
        if current != name:
            with self._write():
                self.conn.execute("DELETE FROM novelty WHERE model != %s", (name,))
                self.set_state("embedding:model", name)
                self._bump("embedding:epoch")

    def _bump(self, key: str) -> None:
        self.conn.execute("INSERT INTO state(key, value) VALUES (%s, '1') ON CONFLICT (key) DO UPDATE "
                          "SET value = (state.value::bigint + 1)::text", (key,))

    def papers_to_embed(self, model: str, *, batch: int = 2000, keys: Sequence[int] | None = None
                        ) -> Iterator[list[ToEmbed]]:
        base = ("SELECT p.pk, p.arxiv_id, p.version, p.title, p.abstract FROM papers p LEFT JOIN embeddings e "
                "ON e.arxiv_id = p.arxiv_id AND e.model = %s WHERE (e.arxiv_id IS NULL OR e.version != p.version) ")
        if keys is not None:
            wanted = sorted(set(int(k) for k in keys))
            for start in range(0, len(wanted), batch):
                rows = self._rows(base + "AND p.pk = ANY(%s) ORDER BY p.pk", (model, wanted[start:start + batch]))
                if rows:
                    yield [(r[1], r[2], r[3], r[4]) for r in rows]
            return
        last = 0
        while True:
            rows = self._rows(base + "AND p.pk > %s ORDER BY p.pk LIMIT %s", (model, last, batch))
            if not rows:
                return
            last = rows[-1][0]
            yield [(r[1], r[2], r[3], r[4]) for r in rows]

    def count_to_embed(self, model: str) -> int:
        return int(self._rows(
            "SELECT count(*) FROM papers p LEFT JOIN embeddings e ON e.arxiv_id = p.arxiv_id AND e.model = %s "
            "WHERE e.arxiv_id IS NULL OR e.version != p.version", (model,))[0][0])

    def count_embedded(self, model: str) -> int:
        return int(self._rows("SELECT count(*) FROM embeddings WHERE model = %s", (model,))[0][0])

    def save_embeddings(self, model: str, rows: Iterable[EmbeddingRow]) -> int:
        data = [(i, model, v, np.ascontiguousarray(vec, dtype=np.float32).tobytes()) for i, v, vec in rows]
        if not data:
            return 0
        with self._write():
            with self.conn.cursor() as cur:
                # A replaced vector takes a new rid, so `embeddings_since` hands it out again.
                cur.executemany(
                    "INSERT INTO embeddings(arxiv_id, model, version, vector) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (arxiv_id, model) DO UPDATE SET version = excluded.version, "
                    "vector = excluded.vector, rid = nextval(pg_get_serial_sequence('embeddings', 'rid'))", data)
            self._bump("embedding:version")
        return len(data)

    def embeddings_version(self) -> int:
        return int(self.get_state("embedding:version", 0) or 0)  # type: ignore[arg-type]

    def embeddings_epoch(self) -> int:
        return int(self.get_state("embedding:epoch", 0) or 0)  # type: ignore[arg-type]

    def embedding_matrix(self, model: str) -> EmbeddingMatrix:
        rows = self._rows(
            "SELECT p.pk, p.arxiv_id, e.vector, coalesce(p.published, p.updated), p.primary_category "
            "FROM embeddings e JOIN papers p ON p.arxiv_id = e.arxiv_id WHERE e.model = %s ORDER BY p.pk", (model,))
        if not rows:
            return EmbeddingMatrix(np.zeros(0, dtype=np.int64), [], np.zeros((0, 0), dtype=np.float32), [])
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        mat = np.frombuffer(b"".join(bytes(r[2]) for r in rows), dtype=np.float32).reshape(len(rows), -1)
        return EmbeddingMatrix(keys, [r[1] for r in rows], mat, [(r[3], r[4]) for r in rows])

    def embeddings_since(self, model: str, after: int, *, limit: int = 100_000) -> EmbeddingBatch:
        rows = self._rows(_EMBEDDED + "WHERE e.rid > %s AND e.model = %s ORDER BY e.rid LIMIT %s",
                          (after, model, limit))
        return _batch(rows, after)

    def embeddings_sample(self, model: str, n: int, *, seed: int = 0) -> EmbeddingBatch:
        top = self._rows("SELECT coalesce(max(rid), 0) FROM embeddings")[0][0]
        rng = np.random.default_rng(seed)
        picks = np.unique(rng.integers(1, top + 1, size=min(n, top))) if top else np.zeros(0, np.int64)
        rows = self._rows(_EMBEDDED + "WHERE e.model = %s AND e.rid = ANY(%s)", (model, picks.tolist()))
        return _batch(rows, 0)

    def embeddings_of(self, model: str, arxiv_ids: Sequence[str]) -> dict[str, np.ndarray]:
        rows = self._rows("SELECT arxiv_id, vector FROM embeddings WHERE model = %s AND arxiv_id = ANY(%s)",
                          (model, list(arxiv_ids)))
        return {i: np.frombuffer(bytes(v), dtype=np.float32) for i, v in rows}

    def embedding_of(self, model: str, arxiv_id: str) -> np.ndarray | None:
        rows = self._rows("SELECT vector FROM embeddings WHERE arxiv_id = %s AND model = %s", (arxiv_id, model))
        return np.frombuffer(bytes(rows[0][0]), dtype=np.float32).copy() if rows else None

    def key_id_table(self) -> tuple[np.ndarray, list[str]]:
        rows = self._rows("SELECT pk, arxiv_id FROM papers ORDER BY pk")
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), [r[1] for r in rows]

    def keys_for_ids(self, arxiv_ids: Sequence[str]) -> dict[str, int]:
        return {i: int(k) for i, k in self._rows("SELECT arxiv_id, pk FROM papers WHERE arxiv_id = ANY(%s)",
                                                    (list(arxiv_ids),))}

    def ids_for_keys(self, keys: Sequence[int]) -> dict[int, str]:
        return {int(k): i for k, i in self._rows("SELECT pk, arxiv_id FROM papers WHERE pk = ANY(%s)",
                                                    ([int(k) for k in keys],))}

    def ids_by_doi(self, dois: Sequence[str]) -> dict[str, str]:
        wanted = [d.lower() for d in dois]
        return {d: i for d, i in self._rows("SELECT DISTINCT ON (lower(doi)) lower(doi), arxiv_id FROM papers "
                                            "WHERE lower(doi) = ANY(%s) ORDER BY lower(doi), pk", (wanted,))}

    def recent_ids(self, since_iso: str, *, limit: int = 50_000) -> list[str]:
        return [r[0] for r in self._rows(
            "SELECT arxiv_id FROM papers WHERE coalesce(published, updated) >= %s "
            "ORDER BY updated DESC, arxiv_id DESC LIMIT %s", (since_iso, limit))]

    # ---------------------------------------------------------------- novelty and scores
    def save_novelty(self, model: str, k: int, results: Iterable[NoveltyRow], computed: datetime, *,
                     cohorts: Mapping[str, str] | None = None) -> None:
        when = iso(computed)
        co = cohorts or {}
        data = [(i, model, k, v, pct, reason, orjson.dumps([[n, round(s, 4)] for n, s in nb]).decode(), when,
                 co.get(i, "")) for i, v, pct, reason, nb in results]
        with self._write(), self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO novelty(arxiv_id, model, k, value, percentile, reason, neighbours, computed, cohort) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (arxiv_id, model) DO UPDATE SET "
                "k = excluded.k, value = excluded.value, percentile = excluded.percentile, reason = excluded.reason, "
                "neighbours = excluded.neighbours, computed = excluded.computed, cohort = excluded.cohort", data)

    def novelty_for(self, ids: Sequence[str], model: str | None = None) -> dict[str, NoveltyRecord]:
        model = model or self.active_model()
        if not model:
            return {}
        rows = self._rows("SELECT arxiv_id, k, value, percentile, reason, neighbours, computed FROM novelty "
                          "WHERE model = %s AND arxiv_id = ANY(%s)", (model, list(ids)))
        return {r[0]: NoveltyRecord(k=r[1], value=r[2], percentile=r[3], reason=r[4],
                                    neighbours=[(n, s) for n, s in orjson.loads(r[5])], computed=r[6]) for r in rows}

    def novelty_cohort_sizes(self, model: str) -> dict[str, int]:
        return {c: int(n) for c, n in self._rows(
            "SELECT cohort, count(value) FROM novelty WHERE model = %s GROUP BY cohort", (model,))}

    def novelty_in_cohorts(self, model: str, cohorts: Sequence[str]) -> list[CohortRow]:
        return [CohortRow(*r) for r in self._rows(
            "SELECT arxiv_id, cohort, value, percentile, reason FROM novelty WHERE model = %s AND cohort = ANY(%s)",
            (model, list(cohorts)))]

    def novelty_values(self, model: str, cohorts: Sequence[str] | None = None) -> np.ndarray:
        if cohorts is None:
            rows = self._rows("SELECT value FROM novelty WHERE model = %s AND value IS NOT NULL", (model,))
        else:
            rows = self._rows("SELECT value FROM novelty WHERE model = %s AND cohort = ANY(%s) AND value IS NOT NULL",
                              (model, list(cohorts)))
        return np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))

    def set_percentiles(self, model: str, rows: Iterable[tuple[str, float | None, str]]) -> int:
        data = [(pct, reason, i, model) for i, pct, reason in sorted(rows, key=lambda r: r[0])]
        if not data:
            return 0
        with self._write(), self.conn.cursor() as cur:
            cur.executemany("UPDATE novelty SET percentile = %s, reason = %s WHERE arxiv_id = %s AND model = %s", data)
        return len(data)

    def save_scores(self, rows: Iterable[ScoreRow], computed: datetime) -> None:
        when = iso(computed)
        data = [(i, v, m, orjson.dumps(inp, default=str).decode(), when) for i, v, m, inp in rows]
        with self._write(), self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO scores(arxiv_id, value, method, inputs, computed) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (arxiv_id) DO UPDATE SET value = excluded.value, method = excluded.method, "
                "inputs = excluded.inputs, computed = excluded.computed", data)

    def scores_for(self, ids: Sequence[str]) -> dict[str, ScoreRecord]:
        rows = self._rows("SELECT arxiv_id, value, method, inputs, computed FROM scores WHERE arxiv_id = ANY(%s)",
                          (list(ids),))
        return {r[0]: ScoreRecord(value=r[1], method=r[2], inputs=orjson.loads(r[3]), computed=r[4]) for r in rows}

    # ---------------------------------------------------------------- feedback
    def mark_not_interested(self, ids: Sequence[str], when: datetime) -> None:
        with self._write(), self.conn.cursor() as cur:
            cur.executemany("INSERT INTO not_interested(arxiv_id, added) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                            [(i, iso(when)) for i in dict.fromkeys(ids)])

    def rate(self, arxiv_id: str, rating: str, when: datetime) -> None:
        with self._write():
            if rating == "none":
                self.conn.execute("DELETE FROM ratings WHERE arxiv_id = %s", (arxiv_id,))
            else:
                self.conn.execute("INSERT INTO ratings(arxiv_id, rating, rated) VALUES (%s, %s, %s) ON CONFLICT "
                                  "(arxiv_id) DO UPDATE SET rating = excluded.rating, rated = excluded.rated",
                                  (arxiv_id, rating, iso(when)))

    def ratings(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._rows("SELECT arxiv_id, rating FROM ratings")}

    def not_interested(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT arxiv_id FROM not_interested")}

    def vector_problems(self, model: str) -> VectorProblems:
        orphans = self._rows("SELECT count(*) FROM embeddings e WHERE NOT EXISTS "
                             "(SELECT 1 FROM papers p WHERE p.arxiv_id = e.arxiv_id)")[0][0]
        stale = self._rows("SELECT count(*) FROM embeddings e JOIN papers p ON p.arxiv_id = e.arxiv_id "
                           "WHERE e.model = %s AND e.version != p.version", (model,))[0][0]
        return VectorProblems(int(orphans), int(stale))

    def drop_orphan_embeddings(self) -> int:
        with self._write():
            n = self.conn.execute("DELETE FROM embeddings e WHERE NOT EXISTS "
                                  "(SELECT 1 FROM papers p WHERE p.arxiv_id = e.arxiv_id)").rowcount
            if n:
                self._bump("embedding:version")
                self._bump("embedding:epoch")
        return int(n)

    # ---------------------------------------------------------------- citations and author figures
    def save_citations(self, results: Iterable["PaperCitations"]) -> int:
        n = 0
        with self._write():
            for r in results:
                self.conn.execute(
                    "INSERT INTO citations(arxiv_id, source, fetched, cited_by_count, influential, counts_by_year, "
                    "work_id, doi) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (arxiv_id) DO UPDATE SET "
                    "source = excluded.source, fetched = excluded.fetched, cited_by_count = excluded.cited_by_count, "
                    "influential = excluded.influential, counts_by_year = excluded.counts_by_year, "
                    "work_id = excluded.work_id, doi = excluded.doi",
                    (r.arxiv_id, r.source, iso_text(r.fetched), r.cited_by_count, r.influential_citations,
                     orjson.dumps({str(k): v for k, v in r.counts_by_year.items()}).decode(), r.work_id, r.doi))
                if r.authorships:
                    self.conn.execute("DELETE FROM authorships WHERE arxiv_id = %s", (r.arxiv_id,))
                    with self.conn.cursor() as cur:
                        cur.executemany(
                            "INSERT INTO authorships(arxiv_id, position, name, openalex_id, orcid, s2_id, "
                            "institutions, source) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                            [(r.arxiv_id, a.position, a.name, a.openalex_id, a.orcid, a.s2_id,
                              orjson.dumps([asdict(i) for i in a.institutions]).decode(), r.source)
                             for a in r.authorships])
                n += 1
        return n

    def count_with_citations(self) -> int:
        return int(self._rows("SELECT count(*) FROM citations WHERE cited_by_count IS NOT NULL")[0][0])

    def citations_for(self, arxiv_ids: Sequence[str]) -> dict[str, CitationRecord]:
        rows = self._rows("SELECT arxiv_id, source, fetched, cited_by_count, influential, counts_by_year, work_id, "
                          "doi FROM citations WHERE arxiv_id = ANY(%s)", (list(arxiv_ids),))
        return {r[0]: {"source": r[1], "fetched": r[2], "cited_by_count": r[3], "influential": r[4],
                       "counts_by_year": _years(r[5]), "work_id": r[6], "doi": r[7]} for r in rows}

    def authorships_for(self, arxiv_ids: Sequence[str]) -> dict[str, list[AuthorshipRecord]]:
        out: dict[str, list[AuthorshipRecord]] = {}
        for r in self._rows("SELECT arxiv_id, position, name, openalex_id, orcid, s2_id, institutions, source "
                            "FROM authorships WHERE arxiv_id = ANY(%s) ORDER BY arxiv_id, position",
                            (list(arxiv_ids),)):
            out.setdefault(r[0], []).append(
                {"position": r[1], "name": r[2], "openalex_id": r[3], "orcid": r[4], "s2_id": r[5],
                 "institutions": orjson.loads(r[6]), "source": r[7]})
        return out

    def ids_needing_citations(self, older_than: datetime, *, limit: int | None = None) -> list[str]:
        sql = ("SELECT p.arxiv_id FROM papers p LEFT JOIN citations c ON c.arxiv_id = p.arxiv_id "
               "WHERE c.arxiv_id IS NULL OR c.fetched < %s ORDER BY p.updated DESC, p.arxiv_id DESC")
        params: tuple[Any, ...] = (iso_text(older_than),)
        if limit:
            sql += " LIMIT %s"
            params += (limit,)
        return [r[0] for r in self._rows(sql, params)]

    def save_author_stats(self, stats: Iterable["AuthorStats"]) -> None:
        data = [(s.author_id, s.source, iso_text(s.fetched), s.name, s.orcid, s.h_index, s.i10_index,
                 s.two_year_mean_citedness, s.works_count, s.cited_by_count,
                 orjson.dumps({str(k): v for k, v in s.counts_by_year.items()}).decode(),
                 orjson.dumps([asdict(i) for i in s.institutions]).decode()) for s in stats]
        with self._write(), self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO author_stats(author_id, source, fetched, name, orcid, h_index, i10_index, two_year_mean, "
                "works_count, cited_by_count, counts_by_year, institutions) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (author_id) DO UPDATE SET "
                "source = excluded.source, fetched = excluded.fetched, name = excluded.name, orcid = excluded.orcid, "
                "h_index = excluded.h_index, i10_index = excluded.i10_index, two_year_mean = excluded.two_year_mean, "
                "works_count = excluded.works_count, cited_by_count = excluded.cited_by_count, "
                "counts_by_year = excluded.counts_by_year, institutions = excluded.institutions", data)

    def author_stats(self, author_id: str) -> AuthorStatsRecord | None:
        rows = self._rows("SELECT author_id, source, fetched, name, orcid, h_index, i10_index, two_year_mean, "
                          "works_count, cited_by_count, counts_by_year, institutions FROM author_stats "
                          "WHERE author_id = %s", (author_id,))
        if not rows:
            return None
        r = rows[0]
        return AuthorStatsRecord(author_id=r[0], source=r[1], fetched=r[2], name=r[3], orcid=r[4], h_index=r[5],
                                 i10_index=r[6], two_year_mean=r[7], works_count=r[8], cited_by_count=r[9],
                                 counts_by_year=_years(r[10]), institutions=orjson.loads(r[11]))

    # ---------------------------------------------------------------- follows
    def follow(self, key: str, name: str, since: datetime) -> bool:
        with self._write():
            cur = self.conn.execute("INSERT INTO follows(key, name, since) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                                    (key, name, iso_text(since)))
        return bool(cur.rowcount == 1)

    def unfollow(self, key: str) -> bool:
        with self._write():
            cur = self.conn.execute("DELETE FROM follows WHERE key = %s", (key,))
        return bool(cur.rowcount == 1)

    def following(self) -> list[FollowRecord]:
        return [FollowRecord(key=k, name=n, since=s)
                for k, n, s in self._rows("SELECT key, name, since FROM follows ORDER BY name")]

    # ---------------------------------------------------------------- the author index
    def _index_authors(self, papers: Sequence[tuple[int, list[str]]], *, replace: bool) -> None:
        """Inside a write: the author-index rows of these (paper key, author strings); `replace` drops the rows
        the papers had first. Without a keyer the index is marked stale (the next store with one fills it)."""
        if not papers:
            return
        keys = self.author_keys
        if keys is None:
            self.conn.execute("INSERT INTO state(key, value) VALUES (%s, 'true') ON CONFLICT DO NOTHING",
                              (AUTHOR_INDEX_STALE,))
            return
        if replace:
            self.conn.execute("DELETE FROM paper_authors WHERE pk = ANY(%s)", ([pk for pk, _ in papers],))
        rows = dict.fromkeys((k, pk, i, n) for pk, names in papers for i, n in enumerate(names) for k in keys(n))
        # COPY: no row can be there already (the papers are new, or their rows were just deleted; keys deduplicated)
        with self.conn.cursor() as cur, cur.copy("COPY paper_authors (name_key, pk, pos, name) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def author_index_stale(self) -> bool:
        return bool(self._rows("SELECT 1 FROM state WHERE key = %s", (AUTHOR_INDEX_STALE,)))

    def fill_author_index(self, *, batch: int = 20_000) -> int:
        """Rebuild the author index from the papers; returns the papers indexed."""
        if self.author_keys is None:
            return 0
        done = 0
        with self._write():
            self.conn.execute("DELETE FROM paper_authors")
            last = 0
            while True:
                rows = self._rows("SELECT pk, authors_json FROM papers WHERE pk > %s ORDER BY pk LIMIT %s",
                                  (last, batch))
                if not rows:
                    break
                self._index_authors([(pk, author_names(raw)) for pk, raw in rows], replace=False)
                last = rows[-1][0]
                done += len(rows)
            self.conn.execute("DELETE FROM state WHERE key = %s", (AUTHOR_INDEX_STALE,))
        return done

    def _key_rows(self, columns: str, tail: str, keys: Sequence[str], prefixes: Sequence[str],
                  names: Sequence[str] | None) -> Iterator[tuple[Any, ...]]:
        among = "" if names is None else " AND a.name = ANY(%s)"
        extra: tuple[Any, ...] = () if names is None else (list(dict.fromkeys(names)),)
        if names is not None and not extra[0]:
            return
        for k in dict.fromkeys(keys):
            yield from self._rows(f"SELECT {columns} WHERE a.name_key = %s{among}{tail}", (k, *extra))
        for p in dict.fromkeys(prefixes):
            if p:  # keys are compared byte by byte (COLLATE "C"): [p, p with its last character bumped)
                yield from self._rows(f"SELECT {columns} WHERE a.name_key >= %s AND a.name_key < %s{among}{tail}",
                                      (p, p[:-1] + chr(ord(p[-1]) + 1), *extra))

    def author_index(self, keys: Sequence[str], prefixes: Sequence[str] = (),
                     keep: Callable[[str], bool] | None = None, *,
                     names: Sequence[str] | None = None) -> list[tuple[str, int, str]] | None:
        if self.author_index_stale():
            return None
        found: dict[tuple[str, str, int], str] = {}
        verdict: dict[str, bool] = {}
        cols = "p.updated, p.arxiv_id, a.pos, a.name FROM paper_authors a JOIN papers p ON p.pk = a.pk"
        for updated, arxiv_id, pos, name in self._key_rows(cols, "", keys, prefixes, names):
            ok = verdict.get(name)
            if ok is None:
                ok = verdict[name] = keep is None or keep(name)
            if ok:
                found[(updated, arxiv_id, pos)] = name
        return [(arxiv_id, pos, found[(u, arxiv_id, pos)]) for u, arxiv_id, pos in sorted(found)]

    def author_name_counts(self, keys: Sequence[str], prefixes: Sequence[str] = ()) -> list[tuple[str, int]] | None:
        if self.author_index_stale():
            return None
        counts: dict[str, int] = {}
        for name, n in self._key_rows("a.name, count(*) FROM paper_authors a", " GROUP BY a.name", keys, prefixes,
                                      None):
            counts[name] = counts.get(name, 0) + int(n)
        return list(counts.items())
