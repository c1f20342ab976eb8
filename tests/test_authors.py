"""Authors end to end over a real library: who is who, hand-worked metrics, profiles, follow, enrich."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from conftest import dt, make_library, make_paper

from paperscope.service.people import (AmbiguousAuthor, build_profile, enrich, find_author, find_people, follow,
                                       followed_papers, unfollow)
from paperscope.errors import NotFound, PaperscopeError
from paperscope.models import Author
from paperscope.sources.citations import Authorship, Institution, PaperCitations
from paperscope.store.sqlite import SQLiteStore

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


def cites(arxiv_id: str, n: int, authorships: list[Authorship] | None = None, by_year: dict[int, int] | None = None,
          source: str = "openalex") -> PaperCitations:
    return PaperCitations(arxiv_id=arxiv_id, source=source, fetched=NOW, cited_by_count=n,  # type: ignore[arg-type]
                          counts_by_year=by_year or {}, influential_citations=None, authorships=authorships or [],
                          work_id=None, doi=None)


@pytest.fixture
def lib(store: SQLiteStore) -> SQLiteStore:
    # Jürgen Schmidhuber spelled three ways, a different J. Schmidhuber-compatible Jan, and co-authors.
    papers = [
        make_paper("2401.00001", title="Long memory", authors=["Jürgen Schmidhuber", "Sepp Hochreiter"],
                   categories=["cs.LG"], updated=dt(2024, 1, 5), abstract="Code: https://github.com/js/lstm"),
        make_paper("2402.00002", title="World models", authors=["J\\\"urgen Schmidhuber", "David Ha"],
                   categories=["cs.LG", "cs.AI"], updated=dt(2024, 2, 5)),
        make_paper("2403.00003", title="Fast weights", authors=["Schmidhuber, Jurgen", "Imanol Schlag", "Kazuki Irie",
                   "Róbert Csordás"], categories=["cs.NE"], updated=dt(2024, 3, 5)),
        make_paper("2404.00004", title="Curiosity", authors=["Jürgen Schmidhuber", "Sepp Hochreiter"],
                   categories=["cs.LG"], updated=dt(2026, 11, 18)),
        make_paper("2405.00005", title="Linear transformers", authors=["Jürgen Schmidhuber", "Kazuki Irie"],
                   categories=["cs.LG"], updated=dt(2024, 5, 5)),
        make_paper("2501.00006", title="Unrelated", authors=["Anna Schmidt"], updated=dt(2025, 1, 1)),
    ]
    papers[0].authors[0] = Author("Jürgen Schmidhuber", ["IDSIA"])
    store.upsert_papers(papers)
    # citations: 10, 8, 5, 4, 3 -> h-index 4 (four papers with >= 4), i10 1
    store.save_citations([cites("2401.00001", 10, by_year={2024: 4, 2025: 6}), cites("2402.00002", 8),
                          cites("2403.00003", 5), cites("2404.00004", 3), cites("2405.00005", 4)])
    return store


def test_spellings_are_one_person(lib: SQLiteStore) -> None:
    for spelling in ("Jürgen Schmidhuber", "Jurgen Schmidhuber", "Schmidhuber, Jürgen", "J. Schmidhuber"):
        person = find_author(lib, spelling)
        assert sorted(person.paper_ids) == ["2401.00001", "2402.00002", "2403.00003", "2404.00004", "2405.00005"]


def test_metrics_match_hand_worked_example(lib: SQLiteStore) -> None:
    prof = build_profile(lib, find_author(lib, "Jürgen Schmidhuber"), today=date(2026, 11, 23))
    fig = {f.label: f.value for f in prof.figures if f.source.startswith("library")}
    assert (fig["Papers"], fig["Citations"], fig["h-index"], fig["i10-index"]) == (5, 30, 4, 1)
    assert prof.h_index.value == 4 and prof.novelty.value is None and prof.score.value is None
    assert dict(prof.coauthors)["Sepp Hochreiter"] == 2 and dict(prof.coauthors)["Kazuki Irie"] == 2
    assert dict(prof.categories)["cs.LG"] == pytest.approx(0.8)
    assert prof.citations_per_year == {2024: 4, 2025: 6}
    assert [c.paper.id for c in prof.cards] == ["2401.00001", "2402.00002", "2403.00003", "2405.00005", "2404.00004"]
    first = prof.cards[0]
    assert (first.category_code, first.date_label, first.paper.has_code) == ("LG", "Jan 5, 2024", True)
    assert first.authors_label == "Jürgen Schmidhuber, Sepp Hochreiter"
    assert ("idsia", "IDSIA") in prof.affiliations or any(n == "IDSIA" for _, n in prof.affiliations)
    newest = build_profile(lib, find_author(lib, "Jürgen Schmidhuber"), order="newest", today=date(2026, 11, 23))
    assert newest.cards[0].paper.id == "2404.00004" and newest.cards[0].date_label == "Nov 18"


def test_different_openalex_ids_are_never_merged(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper("2401.00001", authors=["Yang Liu"]), make_paper("2401.00002", authors=["Yang Liu"]),
                         make_paper("2401.00003", authors=["Yang Liu"])])
    store.save_citations([
        cites("2401.00001", 1, [Authorship(0, "Yang Liu", "A111", None, [Institution("Peking University", None, "CN")])]),
        cites("2401.00002", 2, [Authorship(0, "Yang Liu", "A222", None, [])]),
    ])
    people = find_people(store, "Yang Liu")
    # the paper without ids cannot be told apart: it stays on its own rather than join either person
    assert sorted(p.openalex_id or "" for p in people) == ["", "A111", "A222"]
    with pytest.raises(AmbiguousAuthor) as e:
        find_author(store, "Yang Liu")
    assert "A111" in str(e.value) and "A222" in str(e.value)
    assert find_author(store, "Yang Liu", author_id="https://openalex.org/A111").openalex_id == "A111"


def test_unknown_author_is_a_clear_error(lib: SQLiteStore) -> None:
    with pytest.raises(PaperscopeError, match="no author named 'Nobody Here'"):
        find_author(lib, "Nobody Here")


def test_follow_lists_new_and_revised(lib: SQLiteStore) -> None:
    library = make_library(lib, clock=lambda: NOW)
    first = follow(library, "Jurgen Schmidhuber")
    assert first.changed and first.followed and first.name and first.papers == 5
    assert follow(library, "Jürgen Schmidhuber").changed is False
    lib.upsert_papers([make_paper("2405.00005", 2, title="Linear transformers v2", authors=["Jürgen Schmidhuber"],
                                  updated=dt(2026, 11, 19))])
    rows = followed_papers(library, since=dt(2026, 11, 16))
    assert [(p.id, label) for p, _, label in rows] == [("2405.00005", "revised"), ("2404.00004", "new")]
    assert unfollow(library, "Jürgen Schmidhuber").followed is False
    with pytest.raises(NotFound, match="not following"):
        unfollow(library, "Jürgen Schmidhuber")


def test_digest_shows_followed_authors_of_the_librarys_own_last_week(store: SQLiteStore) -> None:
    """An old snapshot read months later: the week is the one before its newest paper, not before today."""
    from paperscope.config import Config
    from paperscope.models import Topic
    from paperscope.service.digest import build_digest

    cfg = Config(None, topics=[Topic("Work", "work")])
    store.upsert_papers([make_paper("2606.00001", title="Old work", authors=["Ada Lovelace"], updated=dt(2026, 5, 1)),
                         make_paper("2606.00002", title="Her newest", authors=["Ada Lovelace"], updated=dt(2026, 6, 28)),
                         make_paper("2606.00003", title="Someone else", authors=["Bo Other"], updated=dt(2026, 7, 1))])
    library = make_library(store, cfg, clock=lambda: dt(2026, 12, 7))
    follow(library, "Ada Lovelace")
    section = next(s for s in build_digest(library).digest.sections if s.title == "Followed authors")
    assert [p.id for p in section.papers] == ["2606.00002"]
    quiet = make_library(store, cfg, clock=lambda: dt(2026, 12, 7))
    store.upsert_papers([make_paper("2607.00009", title="Much later", authors=["Bo Other"], updated=dt(2026, 9, 1))])
    section = next(s for s in build_digest(quiet).digest.sections if s.title == "Followed authors")
    assert section.papers == [] and "up to 2026-09-01" in section.note


class FakeSource:
    """A CitationSource that knows a fixed set of ids (the HTTP clients have their own local-server tests)."""

    def __init__(self, name: str, known: dict[str, int]) -> None:
        self.name = name
        self.known = known
        self.asked: list[list[str]] = []

    def fetch(self, ids, progress=None):  # type: ignore[no-untyped-def]
        self.asked.append(list(ids))
        return {i: cites(i, self.known[i], source=self.name) for i in ids if i in self.known}


def test_enrich_asks_primary_then_fallback_and_resumes(store: SQLiteStore) -> None:
    store.upsert_papers([make_paper(f"2401.{i:05d}", updated=dt(2024, 1, 1 + i)) for i in range(1, 8)])
    oa = FakeSource("openalex", {"2401.00001": 5, "2401.00002": 7})
    s2 = FakeSource("semanticscholar", {"2401.00003": 1})
    library = make_library(store, clock=lambda: NOW)
    library.sources._made.update(openalex=oa, s2=s2)  # the citation sources this library asks
    rep = enrich(library, max_age_days=30, batch=3)
    assert (rep.asked, rep.found, rep.by_source) == (7, 3, {"openalex": 2, "semanticscholar": 1})
    assert len(oa.asked) == 3  # batches of 3, 3, 1
    got = store.citations_for(["2401.00001", "2401.00003"])
    assert got["2401.00001"]["source"] == "openalex" and got["2401.00003"]["source"] == "semanticscholar"
    assert got["2401.00001"]["fetched"].startswith("2026-11-20")
    # figures are fresh now: only the 4 papers nobody knew are asked again
    rep2 = enrich(library, max_age_days=30, batch=100)
    assert rep2.asked == 4
