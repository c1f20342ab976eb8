"""A topic page's and a search's category and date filters are selected by the store over the whole library: a
month long past shows its papers (the page looked only among the newest and said "no papers match this topic")."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from conftest import dt, make_library, make_paper

from paperscope.config import Config
from paperscope.errors import InputError
from paperscope.models import Topic
from paperscope.service.digest import topic_page
from paperscope.service.papers import search

START = dt(2025, 1, 6)


def build(store, tmp_path):  # type: ignore[no-untyped-def]
    """240 graph papers, one a day from 2025-01-06 (every third in cs.CV, every fourth with code), and a topic
    that keeps the newest 20."""
    papers = []
    for i in range(240):
        when = START + timedelta(days=i)
        papers.append(make_paper(f"2501.{i:05d}", title=f"Graph networks, part {i}", abstract="We study graphs.",
                                 updated=when, published=when,
                                 categories=["cs.CV", "cs.LG"] if i % 3 == 0 else ["cs.LG"],
                                 comment="code: https://github.com/x/y" if i % 4 == 0 else ""))
    store.upsert_papers(papers)
    cfg = Config(None, topics=[Topic("Graphs", "graph", max_papers=20)])
    return make_library(store, cfg), papers


def test_a_month_long_past_shows_its_papers(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lib, papers = build(store, tmp_path)
    page = topic_page(lib, "Graphs", since=date(2025, 2, 1), until=date(2025, 2, 28), count=True)
    want = sorted((p for p in papers if date(2025, 2, 1) <= p.updated.date() <= date(2025, 2, 28)),
                  key=lambda p: p.updated, reverse=True)
    assert [p.id for p in page.papers] == [p.id for p in want[:20]] and page.total == 28
    assert page.note == ""
    whole = topic_page(lib, "Graphs", count=True)
    assert len(whole.papers) == 20 and whole.total == 240 and not whole.more_than
    assert topic_page(lib, "Graphs").total is None  # not asked: not counted (the digest path stays one query)
    none = topic_page(lib, "Graphs", since=date(2027, 1, 1))
    assert none.papers == [] and none.note == "No papers of this topic match these filters."


def test_category_and_code_filters(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lib, papers = build(store, tmp_path)
    cv = topic_page(lib, "Graphs", category="cs.CV", until=date(2025, 3, 31), count=True)
    assert cv.papers and all("cs.CV" in p.categories and p.updated.date() <= date(2025, 3, 31) for p in cv.papers)
    assert cv.total == sum(1 for p in papers if "cs.CV" in p.categories and p.updated.date() <= date(2025, 3, 31))
    coded = topic_page(lib, "Graphs", has_code=True, count=True)
    assert len(coded.papers) == 20 and all(p.has_code for p in coded.papers) and coded.total == 60  # every 4th
    # the code filter is selected by the store too: a span long past still finds its papers with code
    old = topic_page(lib, "Graphs", has_code=True, until=date(2025, 1, 31), count=True)
    assert [p.id for p in old.papers] == [f"2501.{i:05d}" for i in (24, 20, 16, 12, 8, 4, 0)] and old.total == 7
    assert topic_page(lib, "Graphs", category="cs.RO").papers == []
    with pytest.raises(InputError, match="arXiv category"):
        topic_page(lib, "Graphs", category="cs.CV OR x")
    with pytest.raises(InputError, match="after until"):
        topic_page(lib, "Graphs", since=date(2025, 3, 1), until=date(2025, 2, 1))


def test_search_dates_and_total(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lib, papers = build(store, tmp_path)
    got = search(lib, "graph", order="date", limit=5, since=date(2025, 4, 1), until=date(2025, 4, 30), count=True)
    assert [h.paper.updated.date() for h in got.hits] == [date(2025, 4, 30) - timedelta(days=i) for i in range(5)]
    assert got.total == 30
    from paperscope.service import papers as papers_service

    capped = search(lib, "graph", limit=5, count=True)
    assert capped.total == 240 and not capped.more_than
    monkey = pytest.MonkeyPatch()
    monkey.setattr(papers_service, "COUNT_CAP", 100)
    try:
        capped = search(lib, "graph", limit=5, count=True)
    finally:
        monkey.undo()
    assert capped.total == 100 and capped.more_than
    rel = search(lib, "graph", limit=200, until=date(2025, 1, 31))
    assert len(rel.hits) == 26 and all(h.paper.updated.date() <= date(2025, 1, 31) for h in rel.hits)


def test_cli_search_since_until(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from paperscope.cli import main

    build(store, tmp_path)
    res = CliRunner().invoke(main, ["--db", str(store.path), "search", "graph", "--order", "date", "--since",
                                    "2025-05-01", "--until", "2025-05-03", "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert [p["id"] for p in json.loads(res.output)] == ["2501.00117", "2501.00116", "2501.00115"]
    res = CliRunner().invoke(main, ["--db", str(store.path), "search", "graph", "--order", "date", "--code", "yes",
                                    "--until", "2025-01-31", "--json"], catch_exceptions=False)
    assert [p["id"] for p in json.loads(res.output)] == [f"2501.{i:05d}" for i in (24, 20, 16, 12, 8, 4, 0)]
