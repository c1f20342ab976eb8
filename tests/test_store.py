"""The SQLite library: idempotent upserts, version rules, FTS in step, newest-first topic reads, migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from conftest import pq, dt, make_paper

from paperscope.errors import QueryError, StoreError
from paperscope.models import Author, Version
from paperscope.scoring.names import author_index_keys
from paperscope.store.migrations import LATEST
from paperscope.store.sqlite import SQLiteStore


def dump(store: SQLiteStore) -> list[tuple]:
    cols = "arxiv_id, version, title, abstract, authors, comment, categories, published, updated, authors_json, versions_json"
    return store.conn.execute(f"SELECT {cols} FROM papers ORDER BY arxiv_id").fetchall()


def test_same_input_twice_gives_same_library(store: SQLiteStore) -> None:
    papers = [make_paper(f"2501.{i:05d}", title=f"Paper {i}", updated=dt(2025, 1, 1 + i % 20)) for i in range(50)]
    first = store.upsert_papers(papers)
    before = dump(store)
    second = store.upsert_papers(papers)
    assert (first.new, first.updated, first.unchanged) == (50, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 50)
    assert dump(store) == before
    store.integrity_check()


def test_newer_version_replaces_text_and_joins_history(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001", 1, title="Old title", abstract="about cats")])
    stats = store.upsert_papers([make_paper("2501.00001", 2, title="New title", abstract="about dogs",
                                            updated=dt(2025, 3, 1))])
    assert (stats.updated, stats.updated_ids) == (1, ["2501.00001"])
    p = store.get_paper("2501.00001")
    assert p is not None and (p.version, p.title) == (2, "New title")
    assert [v.version for v in p.versions] == [1, 2]
    assert p.versions[0].created == dt(2025, 1, 1) and p.versions[1].created == dt(2025, 3, 1)
    # the index follows the text: old words are gone, new ones found
    assert store.search(pq('"cats"')) == []
    assert [x.id for x in store.search(pq('"dogs"'))] == ["2501.00001"]
    store.integrity_check()


def test_older_or_equal_version_never_overwrites(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001", 3, title="Third", updated=dt(2025, 5, 1))])
    s1 = store.upsert_papers([make_paper("2501.00001", 1, title="First")])
    s2 = store.upsert_papers([make_paper("2501.00001", 3, title="Third, other text", updated=dt(2025, 5, 1))])
    assert s1.unchanged == 1 and s2.unchanged == 1
    p = store.get_paper("2501.00001")
    assert p is not None and (p.version, p.title) == (3, "Third")
    store.integrity_check()


def test_equal_version_fills_missing_fields_only(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001", 1, title="T")])
    richer = make_paper("2501.00001", 1, title="T changed", doi="10.1/x", journal_ref="J. Foo 1 (2025)")
    richer.authors = [Author("Ada Lovelace", ["University of London"])]
    store.upsert_papers([richer])
    p = store.get_paper("2501.00001")
    assert p is not None
    assert (p.title, p.doi, p.journal_ref) == ("T", "10.1/x", "J. Foo 1 (2025)")
    assert p.authors[0].affiliations == ["University of London"]


def test_duplicates_inside_one_batch_fold_to_newest(store: SQLiteStore) -> None:
    stats = store.upsert_papers([make_paper("2501.00001", 1, title="v1"),
                                 make_paper("2501.00001", 2, title="v2", updated=dt(2025, 2, 2))])
    assert stats.new == 1
    p = store.get_paper("2501.00001")
    assert p is not None and p.title == "v2" and [v.version for v in p.versions] == [1, 2]


def test_roundtrip_keeps_every_field(store: SQLiteStore) -> None:
    p = make_paper("hep-th/9901001", 2, title="Strings", abstract="Über alles", updated=dt(1999, 2, 1, 12, 30, 5),
                   published=dt(1999, 1, 1, 8), categories=["hep-th", "gr-qc"], comment="12 pages | 3 figs",
                   journal_ref="Phys.Rev.D 1", doi="10.1103/x", license="http://creativecommons.org/licenses/by/4.0/",
                   report_no="CERN-TH-1", submitter="A. Person")
    p.authors = [Author("Jürgen Müller", ["CERN", "ETH Zurich"]), Author("B. Smith")]
    store.upsert_papers([p])
    q = store.get_paper("hep-th/9901001")
    assert q == p


def test_newest_matching_orders_by_update_then_id(store: SQLiteStore) -> None:
    same_day = dt(2025, 6, 1, 12)
    papers = [make_paper("2506.00003", title="graph a", updated=same_day),
              make_paper("2506.00001", title="graph b", updated=same_day),
              make_paper("2506.00002", title="graph c", updated=same_day),
              make_paper("2505.00009", title="graph old", updated=dt(2025, 5, 1)),
              make_paper("2507.00001", title="graph new", updated=dt(2025, 7, 1)),
              make_paper("2507.00002", title="unrelated", updated=dt(2025, 8, 1))]
    store.upsert_papers(papers)
    got = [p.id for p in store.newest_matching(pq('"graph"'), 10)]
    assert got == ["2507.00001", "2506.00003", "2506.00002", "2506.00001", "2505.00009"]
    # a limit that cuts through a tie still gives the exact order
    assert [p.id for p in store.newest_matching(pq('"graph"'), 2)] == ["2507.00001", "2506.00003"]
    assert [p.id for p in store.newest_matching(pq('"graph"'), 10, within=["2505.00009", "2507.00002"])] == ["2505.00009"]


def test_version_update_moves_paper_to_the_top(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001", title="topic x", updated=dt(2025, 1, 1)),
                         make_paper("2501.00002", title="topic x", updated=dt(2025, 2, 1))])
    store.upsert_papers([make_paper("2501.00001", 2, title="topic x", updated=dt(2025, 3, 1))])
    assert [p.id for p in store.newest_matching(pq('"topic"'), 5)] == ["2501.00001", "2501.00002"]


def test_bad_match_is_a_query_error(store: SQLiteStore) -> None:
    with pytest.raises(QueryError):
        store.search(pq('"unclosed'))


def test_state_roundtrip(store: SQLiteStore) -> None:
    assert store.get_state("missing", 7) == 7
    store.set_state("oai", {"token": "abc", "from": "2025-01-01"})
    store.set_state("oai", {"token": "def"})
    assert store.get_state("oai") == {"token": "def"}


def test_migrations_run_once_and_refuse_newer(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(path)


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "junk.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        SQLiteStore(bad)


def test_a_failing_write_loses_nothing_already_stored(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001", title="keep me")])

    def papers():
        yield make_paper("2501.00002", title="half way")
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError):
        store.upsert_papers(papers())
    assert [p.id for p in store.newest_matching(pq('"keep"'), 5)] == ["2501.00001"]
    assert store.count() == 1
    store.upsert_papers([make_paper("2501.00003", title="after")])  # the store still works
    assert store.count() == 2
    store.integrity_check()


def test_a_batch_of_scores_is_one_transaction(store: SQLiteStore) -> None:
    """Scores (and the other batch writes) go in one transaction: a bad row takes the whole batch back, where
    autocommit would have kept the rows before it; inside a transaction the caller opened, they join it."""
    store.upsert_papers([make_paper(f"2501.0000{i}") for i in range(1, 5)])
    store.save_scores([("2501.00001", 50.0, "pretrained", {})], dt(2025, 3, 1))
    bad = [("2501.00002", 60.0, "pretrained", {}), ("2501.00003", None, "pretrained", {})]  # value is NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        store.save_scores(bad, dt(2025, 3, 2))  # type: ignore[arg-type]
    assert set(store.scores_for(["2501.00001", "2501.00002", "2501.00003"])) == {"2501.00001"}
    assert not store.conn.in_transaction
    store.conn.execute("BEGIN IMMEDIATE")
    store.save_scores([("2501.00004", 70.0, "pretrained", {})], dt(2025, 3, 3))
    store.mark_not_interested(["2501.00004"], dt(2025, 3, 3))
    assert store.conn.in_transaction  # joined, not committed
    store.conn.execute("ROLLBACK")
    assert store.scores_for(["2501.00004"]) == {} and store.not_interested() == set()
    store.save_scores([("2501.00004", 70.0, "pretrained", {})], dt(2025, 3, 3))
    assert store.scores_for(["2501.00004"])["2501.00004"]["value"] == 70.0


def test_other_writer_between_transactions_keeps_keys_unique(tmp_path: Path) -> None:
    a, b = SQLiteStore(tmp_path / "l.db"), SQLiteStore(tmp_path / "l.db")
    t = dt(2025, 1, 1)
    a.upsert_papers([make_paper("2501.00001", updated=t)])
    b.upsert_papers([make_paper("2501.00002", updated=t)])
    a.upsert_papers([make_paper("2501.00003", updated=t)])
    assert a.count() == 3
    keys = [k for (k,) in a.conn.execute("SELECT sort_key FROM papers")]
    assert len(set(keys)) == 3
    a.close(), b.close()


def test_many_papers_in_one_second_and_big_batches(store: SQLiteStore) -> None:
    t = dt(2025, 1, 1)
    papers = [make_paper(f"2501.{i:05d}", title="same second", updated=t) for i in range(4500)]
    assert store.upsert_papers(papers).new == 4500
    more = [make_paper(f"2502.{i:05d}", title="same second", updated=t) for i in range(10)]
    assert store.upsert_papers(more).new == 10
    got = store.newest_matching(pq('"same"'), 3)
    assert [p.id for p in got] == ["2502.00009", "2502.00008", "2502.00007"]
    store.integrity_check()
    assert store.count_matching(pq('"second"')) == 4510


def test_merge_versions_prefers_known_dates() -> None:
    from paperscope.store.sqlite import merge_versions

    merged = merge_versions([Version(1, None), Version(2, dt(2025, 2, 1))], [Version(1, dt(2025, 1, 1)), Version(3)])
    assert merged == [Version(1, dt(2025, 1, 1)), Version(2, dt(2025, 2, 1)), Version(3, None)]


def test_bulk_mode_returns_to_wal_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    with SQLiteStore(path) as s:
        with s.bulk():
            assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"
            s.upsert_papers([make_paper(f"2501.{i:05d}", title="bulk") for i in range(10)])
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        reader = SQLiteStore(path)
        reader.count()  # another connection has it open: bulk mode must not pull WAL out from under it
        with s.bulk():
            s.upsert_papers([make_paper("2502.00001", title="bulk")])
        assert reader.count() == 11
        reader.close()
        s.integrity_check()


def test_fresh_bulk_import_builds_the_index_aside_and_stays_exact(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import paperscope.store.sqlite as sqlite_mod
    from paperscope.service.ingest import bulk_upsert

    monkeypatch.setattr(sqlite_mod, "TXN_ROWS", 4)  # many transactions, so updates reach rows already sent aside
    papers = [make_paper(f"2501.{i:05d}", title=f"graph paper {i}", updated=dt(2025, 1, 1 + i % 28)) for i in range(30)]
    revisions = [make_paper("2501.00003", 2, title="hypergraph revision", updated=dt(2025, 3, 1)),
                 make_paper("2501.00029", 2, title="hypergraph revision", updated=dt(2025, 3, 2))]
    with SQLiteStore(tmp_path / "fresh.db") as s:
        with s.bulk():
            assert s._side is not None
            stats = bulk_upsert(s, iter(papers))
            stats.add(s.upsert_papers(revisions))  # their first versions already went to the side index
        assert (stats.new, stats.updated) == (30, 2)
        assert not (tmp_path / "fresh.db.fts-build").exists()
        s.integrity_check()  # index and papers agree, word for word
        assert [p.id for p in s.newest_matching(pq('"hypergraph"'), 5)] == ["2501.00029", "2501.00003"]
        assert s.count_matching(pq('"graph"')) == 28
        # later imports into the now non-empty library take the ordinary path
        with s.bulk():
            assert s._side is None
            s.upsert_papers([make_paper("2502.00001", title="graph late")])
        s.integrity_check()
        assert s.count_matching(pq('"graph"')) == 29


def test_the_side_index_merges_while_the_author_index_is_filled(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A first import's two closing passes overlap: the builder has its end of input (and starts its final merge)
    before the writer fills the author index, not after it."""
    seen: list[bool] = []
    fill = SQLiteStore.fill_author_index

    def watched_fill(self: SQLiteStore, **kw: int) -> int:
        side = self._side
        assert side is not None  # still to be adopted
        seen.append(side._proc.stdin is not None and side._proc.stdin.closed)
        return fill(self, **kw)

    monkeypatch.setattr(SQLiteStore, "fill_author_index", watched_fill)
    with SQLiteStore(tmp_path / "f.db", author_keys=author_index_keys) as s:
        with s.bulk():
            s.upsert_papers([make_paper(f"2501.{i:05d}", title="merged words", authors=["Ada Lovelace"])
                             for i in range(5)])
        assert seen == [True]
        s.integrity_check()
        assert s.count_matching(pq('"merged"')) == 5
        assert not s.author_index_stale()
        assert len(s.author_index(author_index_keys("Ada Lovelace")) or []) == 5


def test_bulk_import_checks_code_links_on_read_then_stores_them(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001", abstract="Code: https://github.com/a/b."),
                         make_paper("2501.00002", abstract="No links here.")], detect_code=False)
    assert store.conn.execute("SELECT count(*) FROM papers WHERE code_url IS NULL").fetchone()[0] == 2
    p = store.get_paper("2501.00001")
    assert p is not None and p.code_url == "https://github.com/a/b" and p.has_code
    assert store.fill_code_urls() == 2
    got = dict(store.conn.execute("SELECT arxiv_id, code_url FROM papers").fetchall())
    assert got == {"2501.00001": "https://github.com/a/b", "2501.00002": ""}
    assert store.fill_code_urls() == 0


def test_a_failed_side_index_falls_back_to_a_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import paperscope.store.sideindex as side_mod

    def broken_finish(self: side_mod.SideIndex) -> None:
        raise RuntimeError("builder died")

    monkeypatch.setattr(side_mod.SideIndex, "finish", broken_finish)
    with SQLiteStore(tmp_path / "f.db") as s:
        with s.bulk():
            s.upsert_papers([make_paper(f"2501.{i:05d}", title="rebuilt words") for i in range(5)])
        s.integrity_check()
        assert s.count_matching(pq('"rebuilt"')) == 5


def test_author_and_version_lists_are_stored_as_text_on_insert_and_update(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001", authors=["Ada Lovelace"]), make_paper("2501.00002")])
    store.upsert_papers([make_paper("2501.00001", 2, title="revised", updated=dt(2025, 6, 1))])
    kinds = store.conn.execute("SELECT arxiv_id, typeof(authors_json), typeof(versions_json) FROM papers "
                               "ORDER BY arxiv_id").fetchall()
    assert kinds == [("2501.00001", "text", "text"), ("2501.00002", "text", "text")]
    assert store.conn.execute("SELECT authors_json->>0 FROM papers WHERE arxiv_id = '2501.00001'").fetchone() == (
        "Ada Lovelace",)
    assert [v.version for v in store.get_papers(["2501.00001"])[0].versions] == [1, 2]


def _inputs(method: str, field: str, points: float) -> dict[str, object]:
    """AI Score inputs in the shapes scoring/aiscore.py writes (pretrained, local model, formula)."""
    if method == "formula":
        return {"method": "formula", "base": 0.0, "contributions": {"novelty": points}, "values": {"novelty": "p80"},
                "assumed": ["author h-index"], "model": "formula (last resort)", "text": f"AI Score {points:.0f}"}
    return {"method": method, "base": 49.7, "contributions": {"text (embedding)": points, "field": -3.03},
            "values": {"field": field, "authors": "4"}, "assumed": [],
            "model": "pretrained impact model v1" if method == "pretrained" else "local model",
            "text": f"AI Score {points:.0f} — predicted citation percentile among {field} papers",
            "quality": f"held-out Spearman 0.45 on 5,402 papers, 0.40 on its {field} papers" * 3,
            "held_out_spearman": 0.452 if method == "pretrained" else None}


def test_score_inputs_shared_by_papers_are_stored_once_and_read_back_whole(store: SQLiteStore, tmp_path: Path) -> None:
    store.upsert_papers([make_paper(f"2501.{i:05d}") for i in range(61)])
    rows = [(f"2501.{i:05d}", 40.0 + i % 7, m, _inputs(m, ("cs.CV", "cs.CL")[i % 2], -7.7 + i / 10))
            for i, m in enumerate(["pretrained"] * 40 + ["model"] * 10 + ["formula"] * 10)]
    rows.append(("2501.00060", 1.0, "prior", {"novelty": 80.0}))  # no shared part: stored as it is
    store.save_scores(rows[:30], dt(2025, 3, 1))
    store.save_scores(rows[30:], dt(2025, 3, 1))  # a second batch finds the notes the first one wrote
    other = SQLiteStore(store.path)  # another connection reads them too
    try:
        for reader in (store, other):
            got = reader.scores_for([r[0] for r in rows])
            for i, value, method, inputs in rows:
                assert got[i]["inputs"] == inputs and list(got[i]["inputs"]) == list(inputs)  # same keys, same order
                assert got[i]["value"] == value and got[i]["method"] == method
    finally:
        other.close()
    # pretrained x 2 fields, model x 2 fields, formula: five notes for 60 rows
    assert store.conn.execute("SELECT count(*) FROM score_notes").fetchone()[0] == 5
    stored = sum(len(r[0]) for r in store.conn.execute("SELECT inputs FROM scores"))
    whole = sum(len(orjson.dumps(r[3])) for r in rows)
    assert stored < 0.6 * whole


def test_score_rows_written_whole_before_the_notes_still_read(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001")])
    inputs = _inputs("pretrained", "cs.CV", -1.0)
    store.conn.execute("INSERT INTO scores(arxiv_id, value, method, inputs, computed) VALUES (?,?,?,?,?)",
                       ("2501.00001", 44.0, "pretrained", orjson.dumps(inputs).decode(), "2025-03-01T00:00:00Z"))
    assert store.scores_for(["2501.00001"])["2501.00001"]["inputs"] == inputs


def test_a_score_naming_a_missing_note_is_a_clear_error(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001")])
    store.conn.execute("INSERT INTO scores(arxiv_id, value, method, inputs, computed) VALUES (?,?,?,?,?)",
                       ("2501.00001", 44.0, "pretrained", '{"model": null, "$note": 99}', "2025-03-01T00:00:00Z"))
    with pytest.raises(StoreError, match="note 99"):
        store.scores_for(["2501.00001"])


def test_a_note_of_a_rolled_back_batch_is_not_remembered(store: SQLiteStore) -> None:
    """Read inside the transaction that wrote it, then rolled back: its id may go to another note, which is what
    the next read must give."""
    store.upsert_papers([make_paper("2501.00001"), make_paper("2501.00002")])
    store.conn.execute("BEGIN IMMEDIATE")
    store.save_scores([("2501.00001", 40.0, "pretrained", _inputs("pretrained", "cs.CV", -1.0))], dt(2025, 3, 1))
    assert store.scores_for(["2501.00001"])["2501.00001"]["inputs"]["quality"].endswith("cs.CV papers")
    store.conn.execute("ROLLBACK")
    other = _inputs("model", "cs.CL", 2.0)
    store.save_scores([("2501.00002", 60.0, "model", other)], dt(2025, 3, 1))
    assert store.scores_for(["2501.00002"])["2501.00002"]["inputs"] == other
