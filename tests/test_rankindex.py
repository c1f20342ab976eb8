"""The ranking lists of big libraries (store/rankindex.py): the same answers as FTS5's bm25(), kept up to date by
imports (a segment per import, the unindexed tail in memory), and a first build that a killed process resumes.

The lists are built here for small libraries by lowering the store's size limits; the 2.9M-paper figures are
bench/scale.py's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from conftest import dt, make_library, make_paper, pq
from paperscope.store import rankindex, sqlite as sqlite_store
from paperscope.store.sqlite import SQLiteStore

SAMPLE = Path(__file__).resolve().parent.parent / "src" / "paperscope" / "data" / "sample.jsonl.gz"
BM25 = "bm25(papers_fts, 8.0, 1.0, 4.0, 0.5, 0.0)"


@pytest.fixture
def lists_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every library gets the lists and every plannable query uses them."""
    monkeypatch.setattr(sqlite_store, "RANK_MIN_PAPERS", 1)
    monkeypatch.setattr(sqlite_store, "RANK_FTS_POSTINGS", 0)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample (3,737 real papers) imported, lists built."""
    from paperscope.library import Library
    from paperscope.service.ingest import import_files

    path = tmp_path_factory.mktemp("rank") / "lib.db"
    mp = pytest.MonkeyPatch()
    mp.setattr(sqlite_store, "RANK_MIN_PAPERS", 1)
    try:
        lib = Library.open(str(path))
        import_files(lib, [SAMPLE], embed=False)
        lib.close()
    finally:
        mp.undo()
    return path


def fts5_ranking(store: SQLiteStore, query: str, categories: tuple[str, ...] = (), limit: int = 20) -> list[int]:
    from paperscope.store.fts5 import compile_match

    match = compile_match(pq(query, categories))
    return [k for (k,) in store.conn.execute(
        f"SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY {BM25} LIMIT ?", (match, limit))]


def lists_ranking(store: SQLiteStore, query: str, categories: tuple[str, ...] = (), limit: int = 20) -> list[int]:
    from paperscope.store.fts5 import compile_match

    q = pq(query, categories)
    keys = store._rank_search(q, compile_match(q) or "", limit)
    assert keys is not None, f"{query!r} was not ranked by the lists"
    return keys


EXACT = ["transformer", "graph neural network", "transformer AND segmentation", "reinforcement learning NOT survey",
         "diffusion OR flow", "(vision OR image) segmentation -medical", "retrieval cat:cs.CL", "language models",
         "Learning"]
PHRASES = ['"diffusion model"', '"large language model"', '"reward model" NOT survey', "state-of-the-art"]


@pytest.mark.parametrize("query", EXACT + PHRASES)
def test_lists_rank_as_fts5_bm25(sample_db: Path, lists_always: None, query: str) -> None:
    store = SQLiteStore(sample_db, readonly=True)
    try:
        theirs = fts5_ranking(store, query)
        assert len(theirs) >= 5, "a query the sample answers"
        assert lists_ranking(store, query) == theirs
    finally:
        store.close()


def test_categories_filter_and_scores_are_fts5s(sample_db: Path, lists_always: None) -> None:
    store = SQLiteStore(sample_db, readonly=True)
    try:
        ours = lists_ranking(store, "attention", ("cs.CV", "cs.RO"))
        assert ours == fts5_ranking(store, "attention", ("cs.CV", "cs.RO"))
        cats = dict(store.conn.execute(
            f"SELECT sort_key, categories FROM papers WHERE sort_key IN ({','.join(map(str, ours))})"))
        assert all({"cs.CV", "cs.RO"} & set(cats[k].split()) for k in ours)
    finally:
        store.close()


def test_a_span_of_dates_is_ranked_by_fts5_within_it(sample_db: Path, lists_always: None) -> None:
    """The lists know no dates: a search bounded by last update is FTS5's bm25 over the papers of the span."""
    from datetime import datetime, timezone

    from paperscope.store.api import PaperQuery

    store = SQLiteStore(sample_db, readonly=True)
    try:
        since, until = datetime(2025, 10, 1, tzinfo=timezone.utc), datetime(2025, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
        q = pq("transformer")
        bounded = PaperQuery(q.query, (), (), since, until)
        got = store.search(bounded, limit=20)
        inside = [k for k in fts5_ranking(store, "transformer", limit=10_000)
                  if since.timestamp() <= (k >> sqlite_store.SLOT_BITS) <= until.timestamp()]
        assert len(got) >= 5 and [p.id for p in got] == _ids_of_keys(store, inside[:20])
        assert all(since <= p.updated <= until for p in got)
        assert [p.id for p in store.search(q, limit=20)] != [p.id for p in got]  # the unbounded top differs
    finally:
        store.close()


def _ids_of_keys(store: SQLiteStore, keys: list[int]) -> list[str]:
    by = dict(store.conn.execute(f"SELECT sort_key, arxiv_id FROM papers WHERE sort_key IN ({','.join(map(str, keys))})"))
    return [by[k] for k in keys]


def test_phrase_with_words_keeps_fts5s_top(sample_db: Path, lists_always: None) -> None:
    """A phrase beside other words: its document count is estimated from a sample, so only near-ties may swap."""
    store = SQLiteStore(sample_db, readonly=True)
    try:
        for query in ('"large language model" hallucination', '"neural network" pruning'):
            theirs, ours = fts5_ranking(store, query), lists_ranking(store, query)
            assert len(set(theirs) & set(ours)) >= len(theirs) - 2, query
    finally:
        store.close()


def test_terms_are_fts5s_own(tmp_path: Path) -> None:
    """Words the Python side splits differently (dashes, diacritics, case) get FTS5's terms."""
    terms = rankindex.Terms()
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{rankindex.TOKENIZE}')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    text = "Naïve Über-models, state-of-the-art—ish LLMs' ‘quoted’ 3D-GS networks running ÆON café"
    conn.execute("INSERT INTO t(x) VALUES (?)", (text,))
    fts = [term for (term,) in conn.execute("SELECT term FROM v ORDER BY offset")]
    ours = [t for ws in terms.words_terms(text) for t in ws]
    names = {tid: name for name, tid in terms._ids.items()}
    assert [names[t] for t in ours] == fts


TEXTS = ["Naïve Über-models, state-of-the-art—ish LLMs' ‘quoted’ 3D-GS networks", "", "  ... !!! ",
         "Graph neural networks for graph problems", "x" * 300 + " tail", "dog god odg GOD Dog", "café CAFÉ cafe",
         "A. Smith, B. Jones and 王小明", "see https://github.com/foo/bar-baz_2 (code)"]


def _by_word(terms: rankindex.Terms, texts: list[str]) -> tuple[list[tuple[str, ...]], list[int]]:
    """Each word's terms (by name) and text number, found word by word: what `text_ids` must give."""
    per_text = [terms.words_terms(t) for t in texts]
    names = {tid: name for name, tid in terms._ids.items()}
    out, owner = [], []
    for i, words in enumerate(per_text):
        for ws in words:
            out.append(tuple(names[x] for x in ws))
            owner.append(i)
    return out, owner


def _hashed(terms: rankindex.Terms, texts: list[str]) -> tuple[list[tuple[str, ...]], list[int]]:
    ids, owner = terms.text_ids(texts)
    names = {tid: name for name, tid in terms._ids.items()}
    words = [tuple(names[x] for x in (terms.compounds[i - rankindex.COMPOUND] if i >= rankindex.COMPOUND else (i,)))
             for i in ids.tolist()]
    return words, owner.tolist()


def test_text_ids_are_the_word_by_word_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hashed tokenizer of segment builds gives every text's words as `words_terms` does, across calls
    (words met before come from the table) and when the texts are cut into several hashed pieces."""
    terms = rankindex.Terms()
    assert _hashed(terms, TEXTS) == _by_word(rankindex.Terms(), TEXTS)
    assert _hashed(terms, TEXTS[::-1]) == _by_word(rankindex.Terms(), TEXTS[::-1])
    monkeypatch.setattr(rankindex, "TEXT_BYTES", 40)  # a piece per text or two
    many = TEXTS * 30
    assert _hashed(rankindex.Terms(), many) == _by_word(rankindex.Terms(), many)
    assert rankindex.Terms().text_ids([])[0].tolist() == []


def test_words_sharing_a_hash_fall_back_to_word_by_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a first multiplier of 1 the first hash is the sum of a word's bytes, so anagrams share it: the second
    hash tells, and those texts are read word by word, within one call and across calls."""
    monkeypatch.setattr(rankindex, "_Q", (1, rankindex._Q[1]))
    monkeypatch.setattr(rankindex, "_POWERS", [])
    calls = []
    real = rankindex.Terms.ids
    monkeypatch.setattr(rankindex.Terms, "ids", lambda self, words: calls.append(len(words)) or real(self, words))
    terms = rankindex.Terms()

    def fell_back(text: str) -> bool:
        want = _by_word(rankindex.Terms(), [text])
        calls.clear()
        assert _hashed(terms, [text]) == want
        return bool(calls)

    assert fell_back("dog and god")  # within one call
    assert not fell_back("the dog")  # no two words alike: hashed
    assert fell_back("a god")  # "god" meets the stored "dog"


def test_word_table_grows_and_finds_every_word() -> None:
    table = rankindex._WordTable(bits=4)
    rng = np.random.default_rng(0)
    h1 = np.unique(rng.integers(1, 2**63, 5000, dtype=np.int64).astype(np.uint64))
    h2 = h1 ^ np.uint64(12345)
    for part in np.array_split(np.arange(len(h1)), 7):
        table.add(h1[part], h2[part], part.astype(np.int64))
    got, same = table.find(h1, h2)
    assert same and got.tolist() == list(range(len(h1)))
    assert 2 * table.used <= len(table.key)
    missing, same = table.find(np.asarray([7, 8], dtype=np.uint64), np.asarray([0, 0], dtype=np.uint64))
    assert same and missing.tolist() == [-1, -1]
    _, same = table.find(h1[:1], h2[:1] + np.uint64(1))
    assert not same


def test_small_library_has_no_lists(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2501.00001", title="Graph transformers")])
    store.finish_import()
    assert not Path(f"{store.path}.rank").exists()
    assert [p.id for p in store.search(pq("graph"))] == ["2501.00001"]


def _papers(n: int, start: int = 0, word: str = "graph") -> list:  # type: ignore[type-arg]
    return [make_paper(f"2501.{i:05d}", title=f"{word} study {i}", abstract=f"We study {word} number {i}.",
                       updated=dt(2025, 1, 1 + i % 28, i % 24)) for i in range(start, start + n)]


def test_an_import_adds_a_segment_and_leaves_the_others(store: SQLiteStore, lists_always: None) -> None:
    store.upsert_papers(_papers(30))
    store.finish_import()
    rank = Path(f"{store.path}.rank")
    first = json.loads((rank / "manifest.json").read_text())
    seg = first["segments"][0]
    before = (rank / f"{seg}.docs.npy").stat()
    store.upsert_papers(_papers(5, 30, word="lattice"))
    store.finish_import()
    after = json.loads((rank / "manifest.json").read_text())
    assert after["segments"][0] == seg and len(after["segments"]) == 2
    assert (rank / f"{seg}.docs.npy").stat().st_ino == before.st_ino  # not rewritten
    assert after["docs"] == 35 and after["seq"] == store.change_seq()
    found = {p.id for p in store.search(pq("lattice"))}
    assert found == {f"2501.{i:05d}" for i in range(30, 35)}


def test_new_version_moves_a_paper_to_its_new_words(store: SQLiteStore, lists_always: None) -> None:
    store.upsert_papers(_papers(20))
    store.finish_import()
    p = make_paper("2501.00003", version=2, title="Lattice gauge theory", abstract="Nothing of the old words.",
                   updated=dt(2025, 3, 1))
    store.upsert_papers([p])
    store.finish_import()
    assert "2501.00003" not in {x.id for x in store.search(pq("graph"), limit=50)}
    assert [x.id for x in store.search(pq("lattice"))] == ["2501.00003"]
    manifest = json.loads(Path(f"{store.path}.rank/manifest.json").read_text())
    assert manifest["docs"] == 20  # the paper counts once, in its newest segment


def test_papers_written_since_the_lists_are_ranked_from_memory(store: SQLiteStore, lists_always: None) -> None:
    store.upsert_papers(_papers(20))
    store.finish_import()
    store.upsert_papers(_papers(3, 20, word="lattice"))  # no finish_import: a fetch, a harvest page
    assert json.loads(Path(f"{store.path}.rank/manifest.json").read_text())["seq"] < store.change_seq()
    q = pq("lattice")
    keys = store._rank_search(q, "lattice", 20)
    assert keys is not None and len(keys) == 3
    assert {p.id for p in store.search(q)} == {"2501.00020", "2501.00021", "2501.00022"}


def test_lists_too_far_behind_leave_ranking_to_fts5(store: SQLiteStore, lists_always: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store.upsert_papers(_papers(20))
    store.finish_import()
    store.upsert_papers(_papers(5, 20, word="lattice"))
    monkeypatch.setattr(rankindex, "TAIL_MAX", 2)
    assert store._rank_search(pq("lattice"), "lattice", 20) is None
    assert len(store.search(pq("lattice"))) == 5


def test_unplannable_queries_go_to_fts5(store: SQLiteStore, lists_always: None) -> None:
    store.upsert_papers(_papers(10))
    store.finish_import()
    assert store._rank_search(pq("ti:graph"), "x", 5) is None
    assert len(store.search(pq("ti:graph"))) == 10


def test_a_killed_first_build_is_resumed(store: SQLiteStore, lists_always: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rankindex, "SEGMENT_PAPERS", 10)
    store.upsert_papers(_papers(40))
    built: list[str] = []
    real = rankindex.build_part

    def dies_on_third(db, path, name, lo, hi, pks):  # type: ignore[no-untyped-def]
        if len(built) == 2:
            raise KeyboardInterrupt  # the process killed half-way through its first build
        built.append(name)
        return real(db, path, name, lo, hi, pks)

    monkeypatch.setattr(rankindex, "build_part", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        store.update_rank_index(workers=1)
    manifest = json.loads(Path(f"{store.path}.rank/manifest.json").read_text())
    assert not manifest["complete"] and manifest["done"] == built
    assert store._rank_search(pq("graph"), "graph", 5) is None  # an unfinished build is not read
    again: list[str] = []
    monkeypatch.setattr(rankindex, "build_part",
                        lambda db, path, name, lo, hi, pks: (again.append(name), real(db, path, name, lo, hi, pks))[1])
    assert store.update_rank_index(workers=1)
    assert again == ["b00002", "b00003"]
    manifest = json.loads(Path(f"{store.path}.rank/manifest.json").read_text())
    assert manifest["complete"] and manifest["docs"] == 40 and len(manifest["segments"]) == 4
    assert len(store.search(pq("graph"), limit=50)) == 40


def test_first_build_in_worker_processes(store: SQLiteStore, lists_always: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rankindex, "SEGMENT_PAPERS", 15)
    store.upsert_papers(_papers(40))
    assert store.update_rank_index(workers=2)
    manifest = json.loads(Path(f"{store.path}.rank/manifest.json").read_text())
    assert manifest["segments"] == ["b00000", "b00001", "b00002"] and manifest["docs"] == 40
    assert {p.id for p in store.search(pq("graph"), limit=50)} == {f"2501.{i:05d}" for i in range(40)}


def test_small_segments_are_merged(store: SQLiteStore, lists_always: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rankindex, "MAX_SMALL", 2)
    store.upsert_papers(_papers(10))
    store.finish_import()
    for k in range(3):
        store.upsert_papers(_papers(2, 10 + 2 * k, word="lattice"))
        store.finish_import()
    manifest = json.loads(Path(f"{store.path}.rank/manifest.json").read_text())
    assert len(manifest["segments"]) == 2 and manifest["segments"][1].startswith("m")
    files = {p.name.split(".", 1)[0] for p in Path(f"{store.path}.rank").glob("*.npy")}
    assert files == set(manifest["segments"])  # the merged ones are gone
    assert len(store.search(pq("lattice"))) == 6 and manifest["docs"] == 16


def test_prune_keeps_changes_the_lists_have_not_read(store: SQLiteStore, lists_always: None) -> None:
    store.upsert_papers(_papers(5))
    store.finish_import()
    mark = store.change_seq()
    store.upsert_papers(_papers(3, 5, word="lattice"))
    store.prune_changes(store.change_seq())
    assert [s for s, _, _ in store.changed_since(0)] == [mark + 1, mark + 2, mark + 3]


def test_the_search_service_answers_through_the_lists(store: SQLiteStore, lists_always: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from paperscope.service import papers

    store.upsert_papers(_papers(12) + _papers(4, 12, word="lattice"))
    store.finish_import()
    calls: list[int] = []
    real = rankindex.RankIndex.search
    monkeypatch.setattr(rankindex.RankIndex, "search",
                        lambda self, plan, limit, *a, **k: (calls.append(limit), real(self, plan, limit, *a, **k))[1])
    hits = papers.search(make_library(store), "lattice study", limit=7).hits
    assert calls == [7]
    assert {h.paper.id for h in hits} == {f"2501.{i:05d}" for i in range(12, 16)}


def test_check_finds_a_torn_segment_and_repair_rebuilds(store: SQLiteStore, lists_always: None) -> None:
    from paperscope.service.check import check

    store.upsert_papers(_papers(12))
    store.finish_import()
    lib = make_library(store)
    assert check(lib).findings == []
    rank = Path(f"{store.path}.rank")
    seg = json.loads((rank / "manifest.json").read_text())["segments"][0]
    (rank / f"{seg}.docs.npy").unlink()
    found = check(lib, repair=True).findings
    assert len(found) == 1 and found[0].part == "index" and "ranking lists" in found[0].problem
    assert found[0].repaired
    assert check(lib).findings == [] and len(store.search(pq("graph"))) == 12


def test_a_first_build_killed_by_sigkill_is_completed_by_the_next(store: SQLiteStore, lists_always: None,
                                                                  tmp_path: Path) -> None:
    """A real process, killed (SIGKILL) between segments of its first build: the next build finishes the job."""
    import os
    import signal
    import subprocess
    import sys
    import time

    store.upsert_papers(_papers(60))
    script = f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent / "src")!r})
from paperscope.store import rankindex, sqlite as sqlite_store
from paperscope.store.sqlite import SQLiteStore
sqlite_store.RANK_MIN_PAPERS = 1
rankindex.SEGMENT_PAPERS = 5
real = rankindex.build_part
def slow(*a):
    out = real(*a)
    time.sleep(0.3)
    return out
rankindex.build_part = slow
SQLiteStore({store.path!r}).update_rank_index(workers=1)
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    manifest = Path(f"{store.path}.rank/manifest.json")
    deadline = time.time() + 60
    while time.time() < deadline:
        if manifest.exists() and len(json.loads(manifest.read_text()).get("done", [])) >= 3:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    half = json.loads(manifest.read_text())
    assert not half["complete"] and 3 <= len(half["done"]) < 12
    assert store._rank_search(pq("graph"), "graph", 5) is None  # FTS5 ranks until the build is complete
    assert store.update_rank_index(workers=1)
    whole = json.loads(manifest.read_text())
    assert whole["complete"] and len(whole["segments"]) == 12 and whole["docs"] == 60
    assert not list(Path(f"{store.path}.rank").glob("*.tmp*"))
    assert store.index_problem() is None
    assert {p.id for p in store.search(pq("graph"), limit=100)} == {f"2501.{i:05d}" for i in range(60)}


def test_descending_gives_every_position_best_first_with_the_next_bound() -> None:
    import numpy as np

    values = np.random.default_rng(7).random(5_000).round(2)  # ties too
    seen: list[int] = []
    for chunk, next_best in rankindex._descending(values, 8):
        seen += chunk
        rest = np.delete(values, seen)
        assert next_best == (rest.max() if len(rest) else float("-inf"))
        assert values[chunk].min() >= next_best
    assert sorted(seen) == list(range(5_000))
    assert list(values[seen]) == sorted(values, reverse=True)


def test_meet_by_search_and_by_address_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    a = np.unique(rng.integers(0, 10_000, 3_000)).astype(np.uint32)
    b = np.unique(rng.integers(0, 10_000, 6_000)).astype(np.uint32)
    answers = []
    for how in (0, 1 << 40):  # 0: always binary search; huge: always direct address
        monkeypatch.setattr(rankindex, "MEET_SEARCH", how)
        docs, i, j = rankindex._meet(a, b, 10_000)
        assert list(docs) == sorted(set(a.tolist()) & set(b.tolist()))
        assert list(a[i]) == list(docs) and list(b[j]) == list(docs)
        answers.append(list(docs))
    assert answers[0] == answers[1]


def test_damaged_lists_leave_search_to_fts5(store: SQLiteStore, lists_always: None) -> None:
    store.upsert_papers(_papers(12))
    store.finish_import()
    rank = Path(f"{store.path}.rank")
    seg = json.loads((rank / "manifest.json").read_text())["segments"][0]
    (rank / f"{seg}.terms.npy").write_bytes(b"not an array")
    fresh = SQLiteStore(store.path, readonly=True)
    try:
        assert fresh._rank_search(pq("graph"), "graph", 5) is None
        assert len(fresh.search(pq("graph"))) == 12
        assert "ranking lists" in (fresh.index_problem() or "")
    finally:
        fresh.close()


def test_a_harvest_brings_the_lists_up_to_date(store: SQLiteStore, lists_always: None) -> None:
    """Papers that come by OAI-PMH (or a fetch), not by an import, get their segment at the end of the run."""
    from conftest import FIXTURES
    from oai_server import OAIServer, PagedOAI

    from paperscope.config import Config
    from paperscope.service.ingest import harvest

    store.upsert_papers(_papers(10))
    store.finish_import()
    pages = [(FIXTURES / "oai" / f"arxivraw_page{i}.xml").read_bytes() for i in (1, 2, 3)]
    with OAIServer(PagedOAI(pages)) as server:
        cfg = Config(None, {"arxiv_pace": 0.0, "http_retries": 0, "arxiv_oai_url": server.url})
        harvest(make_library(store, cfg), prefix="arXivRaw")
    manifest = json.loads(Path(f"{store.path}.rank/manifest.json").read_text())
    assert manifest["seq"] == store.change_seq() and len(manifest["segments"]) == 2
    assert manifest["docs"] == store.count() == 17
