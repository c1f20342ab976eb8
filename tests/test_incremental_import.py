"""A small import into a big library costs what is new: no whole-index merge, code links looked for in the new
papers only, no full-table counts on the normal path; and the change log says which papers changed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import dt, make_paper, pq

import paperscope.store.sqlite as sqlite_mod
from paperscope.scoring.codelinks import primary_code_url
from paperscope.service.ingest import bulk_upsert
from paperscope.store.sqlite import CODE_SEQ_KEY, SQLiteStore, _fts_total_rows

T = dt(2025, 1, 1)


def _papers(start: int, n: int, *, code_every: int = 5) -> list:
    return [make_paper(f"2501.{i:05d}", title=f"graph paper {i}", updated=T + timedelta(seconds=i),
                       abstract=(f"Code: https://github.com/lab/repo{i}." if i % code_every == 0 else "No links."))
            for i in range(start, start + n)]


def _import(store: SQLiteStore, papers: list, *, detect_code: bool = True) -> int:
    """An import as `paperscope import` runs it; returns the papers the code-link pass after it looked at."""
    with store.bulk():
        if detect_code:
            bulk_upsert(store, papers)
        else:
            store.upsert_papers(papers, detect_code=False)
    return store.finish_import()


@pytest.fixture
def big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SQLiteStore:
    """A 'big' library: the threshold scaled down so 300 papers count as a big import."""
    monkeypatch.setattr(sqlite_mod, "OPTIMIZE_MIN_ROWS", 200)
    s = SQLiteStore(tmp_path / "lib.db", code_links=primary_code_url)
    s.upsert_papers(_papers(0, 1))  # not empty: the bulk import indexes in place, with automerge off
    assert _import(s, _papers(1, 299)) == 0  # found while the rows were built: nothing left to look at
    assert s.conn.execute("SELECT count(*) FROM papers WHERE code_url IS NULL").fetchone()[0] == 0
    return s


def test_a_big_in_place_import_is_merged_a_small_one_is_not(big: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(SQLiteStore, "optimize", lambda self: calls.append("optimize"))
    merged: list[int] = []
    real_merge = SQLiteStore.merge_index
    monkeypatch.setattr(SQLiteStore, "merge_index", lambda self, pages: (merged.append(pages), real_merge(self, pages)))
    _import(big, _papers(300, 20))
    assert calls == [] and merged == [sqlite_mod.MERGE_PAGES]
    big.integrity_check()
    assert big.count_matching(pq("graph")) == 320
    _import(big, _papers(320, 250))  # above the (scaled) threshold: one whole merge
    assert calls == ["optimize"]


def test_only_big_imports_are_merged_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_mod, "OPTIMIZE_MIN_ROWS", 200)
    calls: list[str] = []
    real = SQLiteStore.optimize
    monkeypatch.setattr(SQLiteStore, "optimize", lambda self: (calls.append("optimize"), real(self)))
    with SQLiteStore(tmp_path / "lib.db", code_links=primary_code_url) as s:
        _import(s, _papers(0, 300))  # a first import: its index is built (and merged) aside
        assert calls == []
        s.upsert_papers(_papers(300, 1))
        _import(s, _papers(301, 250))  # in place, big: merged
        assert calls == ["optimize"]
        _import(s, _papers(551, 10))
        assert calls == ["optimize"]
        s.integrity_check()
        assert s.count_matching(pq("graph")) == 561


def test_code_links_are_looked_for_in_the_new_papers_only(big: SQLiteStore) -> None:
    # an old paper left unchecked on purpose: a pass over the new papers must not touch it
    big.conn.execute("UPDATE papers SET code_url = NULL WHERE arxiv_id = '2501.00000'")
    assert _import(big, _papers(300, 20), detect_code=False) == 20
    got = dict(big.conn.execute("SELECT arxiv_id, code_url FROM papers WHERE pk > 300").fetchall())
    assert got["2501.00300"] == "https://github.com/lab/repo300" and got["2501.00301"] == ""
    assert None not in got.values()
    assert big.conn.execute("SELECT code_url FROM papers WHERE arxiv_id = '2501.00000'").fetchone()[0] is None
    assert big.get_state(CODE_SEQ_KEY) == big.change_seq()
    assert big.fill_code_urls() == 0  # nothing new since


def test_a_newer_version_is_a_change_and_gets_its_code_link(big: SQLiteStore) -> None:
    seq = big.change_seq()
    newer = make_paper("2501.00007", 2, title="graph paper 7 revised", updated=T + timedelta(days=3),
                       abstract="Now with code at https://github.com/lab/seven.")
    assert _import(big, [newer], detect_code=False) == 1
    assert big.changed_since(seq) == [(seq + 1, 8, "2501.00007")]
    p = big.get_paper("2501.00007")
    assert p is not None and p.code_url == "https://github.com/lab/seven"


def test_code_links_found_while_writing_keep_the_pass_up_to_date(big: SQLiteStore) -> None:
    big.upsert_papers(_papers(300, 3), detect_code=False)  # left for the pass
    assert big.get_state(CODE_SEQ_KEY) == 300
    big.upsert_papers(_papers(303, 3))  # checked as written, but the pass is behind: it stays behind
    assert big.get_state(CODE_SEQ_KEY) == 300
    assert big.fill_code_urls() == 3 and big.get_state(CODE_SEQ_KEY) == 306
    big.upsert_papers(_papers(306, 3))
    assert big.get_state(CODE_SEQ_KEY) == 309 and big.fill_code_urls() == 0


def test_a_library_older_than_the_change_log_is_scanned_once(big: SQLiteStore) -> None:
    big.conn.execute("DELETE FROM state WHERE key = ?", (CODE_SEQ_KEY,))
    big.conn.execute("UPDATE papers SET code_url = NULL WHERE pk <= 10")
    assert big.fill_code_urls() == 10
    assert big.fill_code_urls() == 0 and big.get_state(CODE_SEQ_KEY) == big.change_seq()


def test_no_full_table_counts_on_the_normal_path(big: SQLiteStore, tmp_path: Path) -> None:
    assert _fts_total_rows(big.conn) == 300
    seen: list[str] = []
    big.conn.set_trace_callback(seen.append)
    _import(big, _papers(300, 20))
    big.close()
    again = SQLiteStore(tmp_path / "lib.db", code_links=primary_code_url)  # a writer open checks the index too
    seen2: list[str] = []
    again.conn.set_trace_callback(seen2.append)
    again.repair_index()
    counted = [s for s in seen + seen2 if "count(*)" in s.lower() or "select sort_key from papers" == s.lower()]
    assert counted == []
    assert again.index_in_step() and again.index_in_step(thorough=True)
    again.close()


def test_the_quick_index_check_still_sees_a_missing_entry(big: SQLiteStore) -> None:
    row = big.conn.execute("SELECT sort_key, title, abstract, authors, comment, categories FROM papers "
                           "WHERE pk = 5").fetchone()
    big.conn.execute("INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors, comment, categories) "
                     "VALUES ('delete', ?, ?, ?, ?, ?, ?)", row)
    assert _fts_total_rows(big.conn) == 299
    assert not big.index_in_step() and big.repair_index()
    assert big.index_in_step(thorough=True) and big.count_matching(pq("graph")) == 300
