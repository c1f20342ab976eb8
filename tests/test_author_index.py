"""The author index: kept as papers are written and re-versioned, filled for libraries from before it, and
giving the same people as the full-text path it replaced."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest
from conftest import dt, make_library, make_paper

from paperscope.scoring.names import (
    author_index_keys,
    author_lookup_keys,
    merge_identities,
    names_compatible,
)
from paperscope.service.people import find_author, find_people
from paperscope.store.sqlite import SQLiteStore

# Spellings that test the keys: accents, LaTeX, German transliteration, particles, glued and hyphenated
# initials, "Last, First", names without a given name, and a script with no ASCII folding.
NAMES = [
    "Jürgen Schmidhuber", "J\\\"urgen Schmidhuber", "Schmidhuber, Jurgen", "J. Schmidhuber", "Jan Schmidhuber",
    "Schmidhuber", "Jürgen Müller", "Juergen Mueller", "J. Muller", "M. Müller", "Xue-Qian Wang", "Xueqian Wang",
    "X. Wang", "X.-Q. Wang", "Xin Wang", "Wang", "Wei Wang", "W. Wang", "Korentin Le Floch", "K. Le Floch",
    "Le Song", "L. Song", "Ludwig van Beethoven", "L. van Beethoven", "Øystein Øbro", "O. Obro", "李 小龙", "小龙",
    "J.P. Hague", "J.-P. Hague", "Jean-Pierre Hague", "Ryo Ishikawa Jr.", "R. Ishikawa",
]


def found_by_index(query: str, name: str) -> bool:
    keys, prefixes = author_lookup_keys(query)
    stored = author_index_keys(name)
    return any(k in keys or any(k.startswith(p) for p in prefixes) for k in stored)


def test_every_compatible_name_is_under_a_looked_up_key() -> None:
    pairs = [(a, b) for a, b in itertools.product(NAMES, NAMES) if names_compatible(a, b)]
    assert len(pairs) > len(NAMES)  # the list holds real matches, not only each name with itself
    assert [(a, b) for a, b in pairs if not found_by_index(a, b)] == []
    # and the keys narrow the search: another surname, or another initial, is not looked at
    assert not found_by_index("Xin Wang", "Wei Wang") and not found_by_index("Xin Wang", "Xin Zhang")
    assert author_index_keys("J. Müller") == ("mueller-j", "muller-j")


def library(tmp_path: Path, *, keyed: bool = True) -> SQLiteStore:
    return SQLiteStore(tmp_path / "lib.db", author_keys=author_index_keys if keyed else None)


PAPERS = [
    make_paper("2401.00001", authors=["Jürgen Schmidhuber", "Sepp Hochreiter"], updated=dt(2024, 1, 5)),
    make_paper("2402.00002", authors=["J\\\"urgen Schmidhuber", "David Ha"], updated=dt(2024, 2, 5)),
    make_paper("2403.00003", authors=["Schmidhuber, Jurgen", "Kazuki Irie"], updated=dt(2024, 3, 5)),
    make_paper("2404.00004", authors=["Jan Schmidhuber", "J. Schmidhuber"], updated=dt(2024, 4, 5)),
    make_paper("2405.00005", authors=["Xin Wang", "X. Wang", "Wei Wang"], updated=dt(2024, 5, 5)),
    make_paper("2406.00006", authors=["Xiao Wang", "Wang"], updated=dt(2024, 6, 5)),
]
QUERIES = ["Jürgen Schmidhuber", "J. Schmidhuber", "Schmidhuber", "Xin Wang", "X. Wang", "Wang", "Sepp Hochreiter"]


def people(store: SQLiteStore, name: str) -> list[tuple[str, list[str], list[str]]]:
    return [(p.name, p.names, p.paper_ids) for p in find_people(store, name)]


def test_index_and_full_text_paths_find_the_same_people(tmp_path: Path) -> None:
    store = library(tmp_path)
    store.upsert_papers(PAPERS)
    assert not store.author_index_stale()
    via_index = {q: people(store, q) for q in QUERIES}
    store.author_index = lambda *a, **k: None  # type: ignore[method-assign]  # what a stale index answers
    assert {q: people(store, q) for q in QUERIES} == via_index
    # a bare "Wang" fits anyone called Wang; Xiao and Wei do not fit Xin
    assert sorted(via_index["Xin Wang"]) == [("Wang", ["Wang"], ["2406.00006"]),
                                             ("Xin Wang", ["Xin Wang", "X. Wang"], ["2405.00005"])]
    # with the bare surname, "X. Wang" fits both Xin and Xiao: a person of its own
    assert sorted(p[0] for p in via_index["Wang"]) == ["Wang", "Wei Wang", "X. Wang", "Xiao Wang", "Xin Wang"]


def test_index_finds_the_transliterated_spelling_the_words_missed(tmp_path: Path) -> None:
    # "Müller" is the word "muller" to the full-text index, "Mueller" is "mueller": the index has both keys.
    store = library(tmp_path)
    store.upsert_papers([make_paper("2401.00001", authors=["Jürgen Müller"], updated=dt(2024, 1, 5)),
                         make_paper("2402.00002", authors=["Juergen Mueller"], updated=dt(2024, 2, 5))])
    assert sorted(p.name for p in find_people(store, "Jürgen Müller")) == ["Juergen Mueller", "Jürgen Müller"]
    store.author_index = lambda *a, **k: None  # type: ignore[method-assign]
    assert [p.name for p in find_people(store, "Jürgen Müller")] == ["Jürgen Müller"]


def test_a_new_version_with_other_authors_moves_the_rows(tmp_path: Path) -> None:
    store = library(tmp_path)
    store.upsert_papers([make_paper("2401.00001", authors=["Ada Lovelace", "Charles Babbage"])])
    store.upsert_papers([make_paper("2401.00001", 2, authors=["Ada Lovelace", "Mary Somerville"])])
    assert find_people(store, "Charles Babbage") == []
    assert find_author(store, "Mary Somerville").paper_ids == ["2401.00001"]
    rows = store.conn.execute("SELECT name_key, pos, name FROM paper_authors ORDER BY pos").fetchall()
    assert rows == [("lovelace-a", 0, "Ada Lovelace"), ("somerville-m", 1, "Mary Somerville")]
    # an older or equal version leaves the index as it is
    store.upsert_papers([make_paper("2401.00001", 1, authors=["Someone Else"])])
    assert find_people(store, "Someone Else") == []


def test_a_store_without_keys_marks_the_index_stale_and_a_writer_fills_it(tmp_path: Path) -> None:
    plain = library(tmp_path, keyed=False)
    plain.upsert_papers(PAPERS)
    assert plain.author_index_stale() and plain.author_index(["wang-x"]) is None
    before = {q: people(plain, q) for q in QUERIES}  # the full-text path meanwhile
    plain.close()
    writer = library(tmp_path)  # a writer with keys fills it on open
    assert not writer.author_index_stale()
    assert writer.author_index(["wang-x"]) is not None
    assert {q: people(writer, q) for q in QUERIES} == before


def test_migration_marks_an_older_library_and_the_next_writer_fills_it(tmp_path: Path) -> None:
    store = library(tmp_path)
    store.upsert_papers(PAPERS)
    expected = {q: people(store, q) for q in QUERIES}
    store.close()
    conn = sqlite3.connect(tmp_path / "lib.db")  # back to the schema before the author index
    conn.executescript("DROP TABLE paper_authors; DROP TABLE score_notes; PRAGMA user_version = 6;")
    conn.close()
    with pytest.raises(Exception, match="schema version"):
        SQLiteStore(tmp_path / "lib.db", readonly=True)
    store = library(tmp_path)
    assert not store.author_index_stale()
    assert store.conn.execute("SELECT count(*) FROM paper_authors").fetchone()[0] == 13  # one per author
    assert {q: people(store, q) for q in QUERIES} == expected


def test_clustering_by_distinct_spelling_keeps_the_order_rules() -> None:
    # An initial that fits two people goes to the rest; once one of them has taken a spelling that refuses it,
    # the next record of that initial fits only the other.
    recs = [("Xin Wang", None, None, "p1"), ("Xiao Wang", None, None, "p2"), ("X. Wang", None, None, "p3"),
            ("X. Wang", None, None, "p4"), ("Xin Wang", None, None, "p5"), ("Wei Wang", None, None, "p6")]
    got = sorted((i.name, i.paper_ids) for i in merge_identities(recs))
    assert got == [("Wei Wang", ["p6"]), ("X. Wang", ["p3", "p4"]), ("Xiao Wang", ["p2"]),
                   ("Xin Wang", ["p1", "p5"])]


def test_a_first_bulk_import_builds_the_index_in_one_sorted_pass(tmp_path: Path) -> None:
    """A first import into an empty library writes no author rows per batch: the index is marked stale before
    the first paper and built at the end from the papers, to exactly the rows paper-by-paper writing gives."""
    import gzip
    import json

    from paperscope.service.ingest import import_file
    from paperscope.service.pipeline import sample_path
    from paperscope.sources.snapshot import record_to_paper

    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:600]
    src = tmp_path / "first.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bulk = library(tmp_path / "bulk")
    seen: list[bool] = []
    real = bulk.fill_author_index

    def fill(**kw):  # type: ignore[no-untyped-def]
        seen.append(bulk.author_index_stale())  # stale (and empty) until the pass
        seen.append(bulk.conn.execute("SELECT count(*) FROM paper_authors").fetchone()[0] == 0)
        return real(**kw)

    bulk.fill_author_index = fill  # type: ignore[method-assign]
    assert import_file(bulk, src).new == 600
    assert seen == [True, True]
    assert not bulk.author_index_stale()
    one_by_one = library(tmp_path / "plain")
    for line in lines:
        one_by_one.upsert_papers([record_to_paper(json.loads(line))])
    rows = "SELECT name_key, p.arxiv_id, pos, name FROM paper_authors a JOIN papers p USING (sort_key) ORDER BY 1, 2, 3"
    got, want = bulk.conn.execute(rows).fetchall(), one_by_one.conn.execute(rows).fetchall()
    assert len(got) > 1000 and got == want


@pytest.mark.parametrize("helper", ["works", "fails", "cannot start"])
def test_a_helper_process_gathers_the_later_half_of_the_author_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   helper: str) -> None:
    """In a big library the pass shares its work with a helper process (the later half of the papers, into a
    scratch file): the index is the one this process alone builds, also when the helper fails or cannot start,
    and no scratch file is left."""
    import paperscope.store.authors as authors_mod

    papers = [make_paper(f"2401.{i:05d}", authors=[f"Author{i % 37} Wang", f"B. Smith{i % 11}", "Sepp Hochreiter"],
                         updated=dt(2024, 1 + i % 12, 1 + i % 28)) for i in range(400)]
    alone = library(tmp_path / "alone")
    alone.upsert_papers(papers)
    assert alone.fill_author_index() == 400  # 400 papers < AUTHOR_HELPER_FROM: no helper
    rows = "SELECT name_key, p.arxiv_id, pos, name FROM paper_authors a JOIN papers p USING (sort_key) ORDER BY 1, 2, 3"
    want = alone.conn.execute(rows).fetchall()

    monkeypatch.setattr(authors_mod, "AUTHOR_HELPER_FROM", 0)
    started: list[bool] = []
    real_start = authors_mod._AuthorPart.start.__func__  # type: ignore[attr-defined]

    def start(cls, conn, library_path, keys, batch):  # type: ignore[no-untyped-def]
        if helper == "cannot start":
            keys = lambda name: (name,)  # noqa: E731  # a keyer that cannot go to another process
        part = real_start(cls, conn, library_path, keys, batch)
        started.append(part is not None)
        return part

    monkeypatch.setattr(authors_mod._AuthorPart, "start", classmethod(start))
    if helper == "fails":
        monkeypatch.setattr(authors_mod._AuthorPart, "join", lambda self, conn: None)
    gathered: list[int] = []
    real_gather = authors_mod._gather_author_rows

    def gather(conn, table, keys, after, upto, batch):  # type: ignore[no-untyped-def]
        n = real_gather(conn, table, keys, after, upto, batch)
        gathered.append(n)
        return n

    monkeypatch.setattr(authors_mod, "_gather_author_rows", gather)
    shared = library(tmp_path / "shared")
    shared.upsert_papers(papers)
    assert shared.fill_author_index(batch=50) == 400
    assert started == [helper != "cannot start"]
    # here: the earlier half (and the later one too when the helper failed), or everything without a helper
    assert {"works": len(gathered) == 1 and 150 < gathered[0] < 250,
            "fails": len(gathered) == 2 and sum(gathered) == 400, "cannot start": gathered == [400]}[helper]
    assert shared.conn.execute(rows).fetchall() == want and len(want) > 1000
    assert not (tmp_path / "shared" / ("lib.db" + authors_mod.AUTHOR_PART_SUFFIX)).exists()
    assert shared.scratch_files() == []


def test_a_first_import_killed_before_the_index_pass_leaves_it_stale_for_the_next_writer(tmp_path: Path) -> None:
    import gzip

    from paperscope.service.ingest import import_file
    from paperscope.service.pipeline import sample_path

    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:200]
    src = tmp_path / "first.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = library(tmp_path / "lib")

    def killed(**kw):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # the process dies between the last batch and the pass

    store.fill_author_index = killed  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        import_file(store, src)
    assert store.author_index_stale()
    store.close()
    again = library(tmp_path / "lib")  # the next writer fills it
    assert not again.author_index_stale()
    assert again.conn.execute("SELECT count(DISTINCT sort_key) FROM paper_authors").fetchone()[0] == 200


def crowd(tmp_path: Path) -> SQLiteStore:
    """A library where the surname Wang is written by many people, each with their own number of papers."""
    store = library(tmp_path)
    given = ["Xin", "Xiao", "Xue", "Xia", "Xun", "Wei", "Yu", "Yan", "Hao", "Jun", "Lei", "Ming"]
    papers, n = [], 0
    for i, g in enumerate(given):
        for _ in range(len(given) - i):  # Xin Wang writes most, Ming Wang least
            n += 1
            papers.append(make_paper(f"2401.{n:05d}", authors=[f"{g} Wang", "Sepp Hochreiter"],
                                     updated=dt(2024, 1, 1 + n % 27)))
    papers.append(make_paper("2402.00001", authors=["Wang"], updated=dt(2024, 2, 1)))
    store.upsert_papers(papers)
    return store


def test_a_broad_name_is_answered_from_its_exact_and_most_frequent_spellings(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from paperscope.service import people

    store = crowd(tmp_path)
    whole = {p.name: len(p.paper_ids) for p in find_people(store, "X. Wang")}
    assert whole == {"Xin Wang": 12, "Xiao Wang": 11, "Xue Wang": 10, "Xia Wang": 9, "Xun Wang": 8, "Wang": 1}
    monkeypatch.setattr(people, "BROAD_ROWS", 20)
    monkeypatch.setattr(people, "BROAD_SAMPLE", 30)
    monkeypatch.setattr(people, "BROAD_SPELLINGS", 2)
    # 51 rows fit "X. Wang" (a bare "Wang" fits too): only the most frequent spellings, until 30 rows, are grouped into people
    assert {p.name: len(p.paper_ids) for p in find_people(store, "X. Wang")} == {
        "Xin Wang": 12, "Xiao Wang": 11, "Xue Wang": 10}
    with pytest.raises(people.AmbiguousAuthor) as err:
        find_author(store, "X. Wang")
    assert err.value.breadth == people.Breadth(spellings=6, rows=51)
    assert "'X. Wang' fits 51 author entries under 6 spellings; the most frequent are 3 people: Xin Wang (12" \
        in str(err.value)
    # a spelling written exactly as asked is always among those grouped, however rare, and is the answer
    assert find_author(store, "Wang").names == ["Wang"]
    assert find_author(store, "Ming Wang").paper_ids == [f"2401.{n:05d}" for n in range(78, 79)]
    # a name below the bound is grouped whole, as before
    assert len(find_author(store, "Sepp Hochreiter").paper_ids) == 78


def test_a_broad_name_with_an_id_or_followed_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from paperscope.service import people
    from paperscope.sources.citations import Authorship, PaperCitations

    store = crowd(tmp_path)
    rare = [p.id for p in store.get_papers([f"2401.{n:05d}" for n in range(1, 79)])
            if p.authors[0].name == "Xun Wang"]
    store.save_citations([PaperCitations(i, "openalex", dt(2025, 1, 1), 3, {}, None,
                                         [Authorship(0, "Xun Wang", "A123", None)], None, None) for i in rare])
    monkeypatch.setattr(people, "BROAD_ROWS", 20)
    monkeypatch.setattr(people, "BROAD_SAMPLE", 30)
    monkeypatch.setattr(people, "BROAD_SPELLINGS", 2)
    # Xun Wang is not among the spellings a broad "X. Wang" groups, but an id finds them among all of them
    assert "Xun Wang" not in {p.name for p in find_people(store, "X. Wang")}
    person = find_author(store, "X. Wang", author_id="https://openalex.org/A123")
    assert sorted(person.paper_ids) == sorted(rare) and len(rare) == 8
    store.follow("wang-x", "X. Wang", dt(2024, 1, 1))
    followed = people.followed_papers(make_library(store), since=dt(2023, 1, 1))
    assert {p.id for p, _, _ in followed} >= set(rare) and len(followed) == 51  # and bare "Wang"


def test_the_cli_says_how_broad_an_ambiguous_name_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    from paperscope.cli import main
    from paperscope.service import people

    crowd(tmp_path).close()
    db = str(tmp_path / "lib.db")
    res = CliRunner().invoke(main, ["--db", db, "author", "X. Wang", "--json"])
    assert res.exit_code == 1 and "spellings" not in json.loads(res.output)  # below the bound: every person listed
    assert len(json.loads(res.output)["candidates"]) == 6
    monkeypatch.setattr(people, "BROAD_ROWS", 20)
    monkeypatch.setattr(people, "BROAD_SAMPLE", 30)
    monkeypatch.setattr(people, "BROAD_SPELLINGS", 2)
    out = json.loads(CliRunner().invoke(main, ["--db", db, "author", "X. Wang", "--json"]).output)
    assert (out["ambiguous"], out["spellings"], out["author_entries"]) == (True, 6, 51)
    assert [c["name"] for c in out["candidates"]] == ["Xin Wang", "Xiao Wang", "Xue Wang"]
