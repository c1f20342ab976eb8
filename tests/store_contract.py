"""The store contract as tests: every backend must pass these unchanged (`tests/test_store_contract.py`).

Each test takes a `store` fixture (an empty, writable `paperscope.store.api.Store`) and uses only the contract:
nothing here knows SQL, FTS5 or files.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from paperscope.models import Author, Paper, Version
from paperscope.query import parse_query
from paperscope.sources.citations import AuthorStats, Authorship, Institution, PaperCitations
from paperscope.store.api import PaperQuery, Store

UTC = timezone.utc
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def paper(pid: str, version: int = 1, *, title: str = "A paper", abstract: str = "Some abstract.",
          updated: datetime = T0, cats: tuple[str, ...] = ("cs.CL",), authors: tuple[str, ...] = ("Ada Lovelace",),
          doi: str = "", published: datetime | None = None) -> Paper:
    published = published or (updated if version == 1 else T0 - timedelta(days=30))
    versions = [Version(1, published)] + ([Version(version, updated)] if version > 1 else [])
    return Paper(id=pid, version=version, title=title, abstract=abstract, updated=updated, published=published,
                 authors=[Author(a) for a in authors], categories=list(cats), primary_category=cats[0], doi=doi,
                 versions=versions)


def q(text: str | None = None, categories: tuple[str, ...] = (), title_words: tuple[str, ...] = ()) -> PaperQuery:
    return PaperQuery(parse_query(text) if text else None, categories, title_words)


def ids(papers: list[Paper]) -> list[str]:
    return [p.id for p in papers]


# ---------------------------------------------------------------------------------------------- papers
def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)


def test_upsert_new_then_unchanged(store: Store) -> None:
    s = store.upsert_papers([paper("2501.00001"), paper("2501.00002")])
    assert (s.new, s.updated, s.unchanged) == (2, 0, 0)
    s = store.upsert_papers([paper("2501.00001")])
    assert (s.new, s.updated, s.unchanged) == (0, 0, 1)
    assert store.count() == 2


def test_newer_version_replaces_text_and_joins_history(store: Store) -> None:
    store.upsert_papers([paper("2501.00001", title="Old title about cats")])
    s = store.upsert_papers([paper("2501.00001", 2, title="New title about dogs", updated=T0 + timedelta(days=3))])
    assert s.updated == 1 and s.updated_ids == ["2501.00001"]
    got = store.get_paper("2501.00001")
    assert got is not None and got.version == 2 and got.title == "New title about dogs"
    assert [v.version for v in got.versions] == [1, 2]
    assert ids(store.search(q("dogs"))) == ["2501.00001"]
    assert store.search(q("cats")) == []


def test_older_version_never_overwrites_but_fills_empty_fields(store: Store) -> None:
    store.upsert_papers([paper("2501.00001", 2, title="Second version", updated=T0 + timedelta(days=3))])
    s = store.upsert_papers([paper("2501.00001", 1, title="First version", doi="10.1/xyz")])
    assert s.unchanged == 1
    got = store.get_paper("2501.00001")
    assert got is not None and got.version == 2 and got.title == "Second version" and got.doi == "10.1/xyz"
    assert store.ids_by_doi(["10.1/XYZ"]) == {"10.1/xyz": "2501.00001"}


def test_get_papers_keeps_order_and_skips_missing(store: Store) -> None:
    store.upsert_papers([paper("2501.00001"), paper("2501.00002")])
    assert ids(store.get_papers(["2501.00002", "nope", "2501.00001"])) == ["2501.00002", "2501.00001"]
    assert store.get_paper("nope") is None


def test_titles_and_authors_are_those_of_the_papers(store: Store) -> None:
    store.upsert_papers([paper("2501.00001", title="On cats", authors=("Ada Lovelace", "Alan Turing")),
                         Paper(id="2501.00002", version=1, title="Dogs", abstract="x", updated=T0, published=T0,
                               authors=[Author("Émilie du Châtelet", ["Paris"]), Author("I. Newton")],
                               categories=["cs.CL"], primary_category="cs.CL", versions=[Version(1, T0)])])
    keys = store.keys_for_ids(["2501.00001", "2501.00002"])
    one, two = keys["2501.00001"], keys["2501.00002"]
    got = store.titles_and_authors([two, max(one, two) + 1000, one])
    assert got == {one: ("On cats", ["Ada Lovelace", "Alan Turing"]),
                   two: ("Dogs", ["Émilie du Châtelet", "I. Newton"])}
    for p in store.get_papers(["2501.00001", "2501.00002"]):
        assert got[keys[p.id]] == (p.title, p.author_names)
    assert store.titles_and_authors([]) == {}


def test_newest_matching_order_and_ties(store: Store) -> None:
    # Three papers in one second (ties ordered by id, descending) and one a day older.
    store.upsert_papers([paper("2501.00003", title="graph nets"), paper("2501.00001", title="graph nets"),
                         paper("2501.00002", title="graph nets"),
                         paper("2501.00009", title="graph nets", updated=T0 - timedelta(days=1)),
                         paper("2501.00010", title="unrelated", updated=T0 + timedelta(days=1))])
    assert ids(store.newest_matching(q("graph"), 10)) == ["2501.00003", "2501.00002", "2501.00001", "2501.00009"]
    assert ids(store.newest_matching(q("graph"), 2)) == ["2501.00003", "2501.00002"]
    assert ids(store.newest_matching(q("graph"), 10, within=["2501.00009", "2501.00001"])) == \
        ["2501.00001", "2501.00009"]
    assert ids(store.newest_matching(q(), 1)) == ["2501.00010"]
    assert store.newest_matching(q("graph"), 0) == []
    assert store.count_matching(q("graph")) == 4 and store.count_matching(q()) == 5


def test_search_relevance_date_categories_and_title_words(store: Store) -> None:
    store.upsert_papers([
        paper("2501.00001", title="Reward models for dialogue", abstract="We study reward.",
              cats=("cs.CL", "cs.LG")),
        paper("2501.00002", title="Vision transformers", abstract="A model of reward appears once.", cats=("cs.CV",),
              updated=T0 + timedelta(hours=1)),
    ])
    assert ids(store.search(q("reward"))) == ["2501.00001", "2501.00002"]  # the title counts most
    assert ids(store.search(q("reward"), order="date")) == ["2501.00002", "2501.00001"]
    assert ids(store.search(q("reward", ("cs.CV",)))) == ["2501.00002"]
    assert ids(store.search(q("reward NOT transformers"))) == ["2501.00001"]
    assert ids(store.search(q('"reward models"'))) == ["2501.00001"]
    assert ids(store.newest_matching(q(None, ("cs.LG",)), 5)) == ["2501.00001"]
    assert ids(store.newest_matching(q(None, title_words=("vision",)), 5)) == ["2501.00002"]
    assert store.search(q("reward"), limit=1)[0].id == "2501.00001"


def test_span_of_last_updates_bounds_every_read(store: Store) -> None:
    """`since` / `until` (inclusive) bound newest, count and both search orders, with words, categories or none."""
    days = {f"2501.0000{i}": T0 + timedelta(days=i) for i in range(6)}
    store.upsert_papers([paper(pid, title="graph nets" if i % 2 == 0 else "graph kernels", updated=when,
                               cats=("cs.LG",) if i < 3 else ("cs.CL",))
                         for i, (pid, when) in enumerate(days.items())])
    store.upsert_papers([paper("2501.00009", title="unrelated", updated=T0 + timedelta(days=2, seconds=1))])

    def span(text: str | None = None, cats: tuple[str, ...] = (), since: datetime | None = None,
             until: datetime | None = None) -> PaperQuery:
        return PaperQuery(parse_query(text) if text else None, cats, (), since, until)

    d1, d3 = T0 + timedelta(days=1), T0 + timedelta(days=3)
    assert ids(store.newest_matching(span("graph", since=d1, until=d3), 10)) == ["2501.00003", "2501.00002",
                                                                               "2501.00001"]  # both ends inclusive
    assert ids(store.newest_matching(span("graph", until=d1), 10)) == ["2501.00001", "2501.00000"]
    assert ids(store.newest_matching(span("graph", since=d3), 2)) == ["2501.00005", "2501.00004"]
    assert ids(store.newest_matching(span(since=d1, until=d3), 10)) == ["2501.00003", "2501.00009", "2501.00002",
                                                                        "2501.00001"]
    assert ids(store.newest_matching(span("graph", since=d1, until=d3), 10, within=["2501.00000", "2501.00002"])) \
        == ["2501.00002"]
    # a bound between whole seconds: a paper of 12:00:00 is before 12:00:00.5 and after 11:59:59.5
    assert ids(store.newest_matching(span("graph", since=d1 + timedelta(microseconds=500_000), until=d3), 10)) == \
        ["2501.00003", "2501.00002"]
    assert ids(store.newest_matching(span("graph", since=d1, until=d3 - timedelta(microseconds=500_000)), 10)) == \
        ["2501.00002", "2501.00001"]
    assert store.count_matching(span("graph", since=d1, until=d3)) == 3
    assert store.count_matching(span(since=d3)) == 3 and store.count_matching(span(until=T0)) == 1
    assert store.count_matching(span("graph", ("cs.LG",), since=d1)) == 2
    assert store.count_matching(span("graph"), at_most=4) == 4 and store.count_matching(span("graph"), at_most=99) == 6
    assert store.count_matching(span(), at_most=3) == 3 and store.count_matching(span(since=d3), at_most=2) == 2
    assert store.count_matching(span("graph", since=d1, until=d3), at_most=10) == 3
    assert set(ids(store.search(span('"graph nets"', since=d1, until=d3)))) == {"2501.00002"}
    assert set(ids(store.search(span("graph", ("cs.CL",), until=d3)))) == {"2501.00003"}
    assert ids(store.search(span("graph", since=d3), order="date")) == ["2501.00005", "2501.00004", "2501.00003"]
    assert store.search(span("graph", since=T0 + timedelta(days=30))) == []
    # a category ANDed onto a query whose root is a NOT (as a topic page's category filter builds it)
    from paperscope.query import And, Query, Term

    store.upsert_papers([paper("2501.00020", title="graph survey", cats=("cs.CL",), updated=T0 + timedelta(days=4))])
    root = parse_query("graph NOT survey").root
    narrowed = PaperQuery(Query(And((root, Term("cs.CL", "cat")))), (), (), d3, None)
    assert ids(store.newest_matching(narrowed, 10)) == ["2501.00005", "2501.00004", "2501.00003"]
    assert store.count_matching(narrowed) == 3 and set(ids(store.search(narrowed))) == {"2501.00003", "2501.00004",
                                                                                      "2501.00005"}


def test_code_link_selects_in_every_read(store: Store) -> None:
    """`has_code` selects papers with a code link (True) or without one (False) in newest, count and search."""
    papers = [paper(f"2502.0000{i}", title="graph nets" if i < 6 else "unrelated", updated=T0 + timedelta(days=i))
              for i in range(8)]
    for i in (1, 4, 6):
        papers[i].code_url = f"https://github.com/lab/repo{i}"
    store.upsert_papers(papers)

    def coded(text: str | None, has: bool | None, since: datetime | None = None) -> PaperQuery:
        return PaperQuery(parse_query(text) if text else None, (), (), since, None, has)

    assert ids(store.newest_matching(coded("graph", True), 10)) == ["2502.00004", "2502.00001"]
    assert ids(store.newest_matching(coded("graph", False), 2)) == ["2502.00005", "2502.00003"]
    assert ids(store.newest_matching(coded(None, True), 10)) == ["2502.00006", "2502.00004", "2502.00001"]
    assert ids(store.newest_matching(coded("graph", True, T0 + timedelta(days=2)), 10)) == ["2502.00004"]
    assert ids(store.newest_matching(coded("graph", True), 10, within=["2502.00001", "2502.00002"])) == \
        ["2502.00001"]
    assert store.count_matching(coded("graph", True)) == 2 and store.count_matching(coded("graph", False)) == 4
    assert store.count_matching(coded(None, False)) == 5 and store.count_matching(coded(None, True), at_most=2) == 2
    assert set(ids(store.search(coded("graph", True)))) == {"2502.00001", "2502.00004"}
    assert ids(store.search(coded("graph", False), order="date", limit=1)) == ["2502.00005"]
    assert all(p.has_code for p in store.search(coded("graph", True)))


def test_authors_recent_and_keys(store: Store) -> None:
    store.upsert_papers([paper("2501.00001", authors=("Grace Hopper", "Alan Turing")),
                         paper("2501.00002", authors=("Alan Kay",), updated=T0 - timedelta(days=10))])
    got = dict(store.author_candidates(["turing"]))
    assert got == {"2501.00001": ["Grace Hopper", "Alan Turing"]}
    assert store.recent_ids("2025-02-25") == ["2501.00001"]


def test_bulk_import_then_finish(store: Store) -> None:
    with store.bulk():
        store.upsert_papers([paper(f"2501.{i:05d}", title=f"bulk paper {i}", updated=T0 + timedelta(seconds=i))
                             for i in range(50)], detect_code=False)
    store.finish_import()
    assert store.count() == 50 and store.count_matching(q("bulk")) == 50
    store.integrity_check()


def test_nul_characters_are_stored_consistently(store: Store) -> None:
    p = paper("2501.00001", title="Nul\x00 in the title", abstract="abs\x00tract")
    store.upsert_papers([p])
    again = store.upsert_papers([paper("2501.00001", title="Nul\x00 in the title", abstract="abs\x00tract")])
    assert again.unchanged == 1 and store.count() == 1
    got = store.get_paper("2501.00001")
    assert got is not None and "\x00" not in got.title and got.title.endswith("in the title")


# ---------------------------------------------------------------------------------------------- change log
def test_change_log_lists_new_papers_and_newer_versions_in_order(store: Store) -> None:
    assert store.change_seq() == 0 and store.changed_since(0) == []
    store.upsert_papers([paper("2501.00001"), paper("2501.00002")])
    first = store.change_seq()
    got = store.changed_since(0)
    assert [r[2] for r in got] == ["2501.00001", "2501.00002"] and got[-1][0] == first
    assert got[0][0] < got[1][0] and got[0][1] != got[1][1]
    # unchanged and older records add nothing; an equal version that only fills a DOI adds nothing either
    store.upsert_papers([paper("2501.00001"), paper("2501.00002", doi="10.1/x")])
    assert store.change_seq() == first and store.changed_since(first) == []
    store.upsert_papers([paper("2501.00002", 2, updated=T0 + timedelta(days=1)), paper("2501.00003")])
    later = store.changed_since(first)
    assert sorted(r[2] for r in later) == ["2501.00002", "2501.00003"]
    assert later[0][0] > first and store.change_seq() == later[-1][0]
    assert later[[r[2] for r in later].index("2501.00002")][1] == got[1][1]  # the same paper, its same key
    assert [r[2] for r in store.changed_since(0, limit=3)] == ["2501.00001", "2501.00002", *[later[0][2]]]


def test_pruned_changes_are_gone_and_numbers_never_repeat(store: Store) -> None:
    store.upsert_papers([paper(f"2501.{i:05d}") for i in range(4)])
    top = store.change_seq()
    assert store.prune_changes(top - 2) == 2
    assert [r[0] for r in store.changed_since(0)] == [top - 1, top]
    assert store.prune_changes(top) == 2 and store.changed_since(0) == [] and store.change_seq() == top
    store.upsert_papers([paper("2501.00009")])
    assert store.change_seq() == top + 1 and [r[2] for r in store.changed_since(top)] == ["2501.00009"]


def test_bulk_import_writes_the_change_log_too(store: Store) -> None:
    with store.bulk():
        store.upsert_papers([paper(f"2501.{i:05d}", updated=T0 + timedelta(seconds=i)) for i in range(30)],
                            detect_code=False)
    store.finish_import()
    assert [r[2] for r in store.changed_since(0)] == [f"2501.{i:05d}" for i in range(30)]


# ---------------------------------------------------------------------------------------------- state
def test_state(store: Store) -> None:
    assert store.get_state("missing") is None and store.get_state("missing", 7) == 7
    store.set_state("k", {"a": [1, 2], "b": None})
    store.set_state("k", {"a": [3]})
    assert store.get_state("k") == {"a": [3]}


# ---------------------------------------------------------------------------------------------- citations
def test_citations_authorships_and_author_stats(store: Store) -> None:
    store.upsert_papers([paper("2501.00001"), paper("2501.00002")])
    inst = Institution("MIT", "https://ror.org/042nb2s44", "US")
    store.save_citations([PaperCitations("2501.00001", "openalex", T0, 12, {2024: 5, 2025: 7}, 2,
                                         [Authorship(0, "Ada Lovelace", "A1", None, [inst])], "W1", None)])
    c = store.citations_for(["2501.00001", "2501.00002"])
    assert list(c) == ["2501.00001"]
    assert c["2501.00001"]["cited_by_count"] == 12 and c["2501.00001"]["counts_by_year"] == {2024: 5, 2025: 7}
    ships = store.authorships_for(["2501.00001"])["2501.00001"]
    assert ships[0]["openalex_id"] == "A1" and ships[0]["institutions"][0]["name"] == "MIT"
    assert store.ids_needing_citations(T0 - timedelta(days=1)) == ["2501.00002"]
    assert set(store.ids_needing_citations(T0 + timedelta(days=1))) == {"2501.00001", "2501.00002"}
    store.save_author_stats([AuthorStats("openalex", T0, "A1", "Ada Lovelace", None, 9, 8, 1.5, 20, 300,
                                         {2025: 10}, [inst])])
    st = store.author_stats("A1")
    assert st is not None and st["h_index"] == 9 and st["counts_by_year"] == {2025: 10}
    assert store.author_stats("A2") is None


# ---------------------------------------------------------------------------------------------- vectors
def test_vectors_active_model_and_version(store: Store) -> None:
    store.upsert_papers([paper("2501.00001"), paper("2501.00002")])
    assert store.active_model() is None and store.embeddings_version() == 0
    store.set_active_model("m1")
    assert store.count_to_embed("m1") == 2
    todo = [row for rows in store.papers_to_embed("m1") for row in rows]
    assert sorted(r[0] for r in todo) == ["2501.00001", "2501.00002"]
    v0 = store.embeddings_version()
    store.save_embeddings("m1", [(i, v, np.full(4, n, dtype=np.float32)) for n, (i, v, _, _) in enumerate(todo)])
    assert store.embeddings_version() != v0 and store.count_to_embed("m1") == 0
    m = store.embedding_matrix("m1")
    assert sorted(m.ids) == ["2501.00001", "2501.00002"] and m.vectors.shape == (2, 4)
    assert store.ids_for_keys([int(k) for k in m.keys]) == dict(zip((int(k) for k in m.keys), m.ids))
    store.upsert_papers([paper("2501.00001", 2, updated=T0 + timedelta(days=1))])
    assert store.count_to_embed("m1") == 1  # a new version needs a new vector
    assert store.vector_problems("m1").stale == 1


def test_other_model_refused_unless_replace(store: Store) -> None:
    import pytest

    from paperscope.errors import ModelMismatchError

    store.set_active_model("m1")
    with pytest.raises(ModelMismatchError):
        store.set_active_model("m2")
    store.set_active_model("m2", replace=True)
    assert store.active_model() == "m2"


def test_novelty_and_scores(store: Store) -> None:
    store.upsert_papers([paper("2501.00001"), paper("2501.00002")])
    store.set_active_model("m1")
    store.save_novelty("m1", 5, [("2501.00001", 0.4, 80.0, "", [("2501.00002", 0.91)]),
                                 ("2501.00002", None, None, "too few neighbours", [])], T0)
    nov = store.novelty_for(["2501.00001", "2501.00002", "x"])
    assert set(nov) == {"2501.00001", "2501.00002"}
    assert nov["2501.00001"]["percentile"] == 80.0 and nov["2501.00001"]["neighbours"] == [("2501.00002", 0.91)]
    assert nov["2501.00002"]["value"] is None and nov["2501.00002"]["reason"] == "too few neighbours"
    assert store.novelty_for(["2501.00001"], "other") == {}
    store.save_scores([("2501.00001", 0.75, "prior", {"novelty": 80.0})], T0)
    sc = store.scores_for(["2501.00001", "2501.00002"])
    assert list(sc) == ["2501.00001"] and sc["2501.00001"]["value"] == 0.75
    assert sc["2501.00001"]["method"] == "prior" and sc["2501.00001"]["inputs"] == {"novelty": 80.0}


# ---------------------------------------------------------------------------------------------- people, feedback
def test_follows(store: Store) -> None:
    assert store.follow("lovelace-a", "Ada Lovelace", T0) is True
    assert store.follow("lovelace-a", "Ada Lovelace", T0) is False
    store.follow("hopper-g", "Grace Hopper", T0)
    assert [f["name"] for f in store.following()] == ["Ada Lovelace", "Grace Hopper"]
    assert store.unfollow("hopper-g") is True and store.unfollow("hopper-g") is False
    assert [f["key"] for f in store.following()] == ["lovelace-a"]


def test_ratings_and_not_interested(store: Store) -> None:
    store.rate("2501.00001", "up", T0)
    store.rate("2501.00002", "down", T0)
    store.rate("2501.00002", "none", T0)
    assert store.ratings() == {"2501.00001": "up"}
    store.mark_not_interested(["2501.00003", "2501.00003"], T0)
    assert store.not_interested() == {"2501.00003"}


# ---------------------------------------------------------------------------------------------- maintenance
def test_sound_store_has_no_problems(store: Store) -> None:
    store.upsert_papers([paper("2501.00001")])
    assert store.database_problems() == [] and store.index_problem() is None
    assert store.repair_index() == [] and store.scratch_files() == []
    assert store.vector_problems("m1") == (0, 0) and store.drop_orphan_embeddings() == 0
