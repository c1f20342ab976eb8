"""The Atom parser on recorded arXiv API responses, current and legacy format, and on what can go wrong."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path

import pytest

from paperscope.errors import ArxivAPIError, ParseError
from paperscope.models import Author, Paper, Version
from paperscope.sources import atom
from paperscope.sources.atom import is_arxiv_category, parse_feed, squash

ATOM = Path(__file__).parent / "fixtures" / "atom"
CURRENT = ATOM / "arxivpy_2026_search_all_testing_s0_m10.xml"
LEGACY = ATOM / "arxivpy_legacy2016_search_au_del_maestro.xml"
AFFILIATIONS = ATOM / "arxivpy_2026_id_list_astro-ph_0601001_affiliations.xml"
EMPTY = ATOM / "arxivpy_2026_id_list_0000.0000_empty.xml"
ERROR = ATOM / "arxivpy_2026_id_list_abc_error_http400.xml"
PAGING = ATOM / "api_25_real_records_newest_first.xml"


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=timezone.utc)


def by_id(path: Path) -> dict[str, Paper]:
    return {p.id: p for p in parse_feed(path.read_bytes(), str(path)).entries}


# ------------------------------------------------------------------------------------------ current format


def test_current_format_header() -> None:
    feed = parse_feed(CURRENT.read_bytes())
    assert (feed.total_results, feed.start_index, feed.items_per_page) == (214881, 0, 10)
    assert feed.updated == utc(2026, 4, 12, 22, 9, 27)
    assert len(feed.entries) == 10 and feed.skipped == []


def test_current_format_entry_fields() -> None:
    p = by_id(CURRENT)["2202.12139"]
    assert p.version == 1
    assert p.title == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    assert p.abstract.startswith("Deep Learning (DL) has revolutionized") and p.abstract.endswith("discuss its results.")
    assert p.authors == [Author("Mohit Kumar Ahuja"), Author("Arnaud Gotlieb"), Author("Helge Spieker")]
    assert p.comment == "Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022"
    assert p.journal_ref.startswith("Artificial Intelligence in Software Testing @ 2022 IEEE")
    assert p.doi == "10.1109/ICSTW55395.2022.00035"
    assert p.primary_category == "cs.SE" and p.categories == ["cs.SE", "cs.LG"]
    assert p.published == p.updated == utc(2022, 2, 24, 15, 5, 19)
    assert p.versions == [Version(1, utc(2022, 2, 24, 15, 5, 19))]
    assert p.license == ""


def test_a_revised_paper_gets_v1_and_latest_versions() -> None:
    p = by_id(CURRENT)["2005.14124"]
    assert p.version == 2
    assert p.published == utc(2020, 5, 28, 16, 19, 50) and p.updated == utc(2020, 7, 16, 8, 15, 48)
    assert p.versions == [Version(1, p.published), Version(2, p.updated)]
    assert p.first_submitted == p.published


def test_entities_and_recorded_text_come_through() -> None:
    papers = by_id(CURRENT)
    assert papers["2302.03287"].title == "ChatGPT and Software Testing Education: Promises & Perils"
    # arxiv.py recorded this body with its UTF-8 decoded as Latin-1; we keep the bytes' meaning, not fix it.
    assert papers["2405.13786"].authors[0].name == "Aurora RamÃ\xadrez"


def test_abstract_paragraph_breaks_are_collapsed() -> None:
    p = by_id(CURRENT)["1812.11470"]
    assert "\n" not in p.abstract and "  " not in p.abstract
    assert "Objective. In this systematic review" in p.abstract


def test_affiliations_and_old_style_ids() -> None:
    p = by_id(AFFILIATIONS)["astro-ph/0601001"]
    assert p.version == 1
    assert [(a.name, a.affiliations) for a in p.authors] == [
        ("Andrew Gould", ["Ohio State"]),
        ("Susan Dorsher", ["Ohio State"]),
        ("B. Scott Gaudi", ["CfA"]),
        ("Andrzej Udalski", ["Warsaw University Observatory"]),
    ]
    assert p.abstract.startswith("We derive the frequencies")  # the leading spaces are gone
    assert p.primary_category == "astro-ph" and p.categories == ["astro-ph"]
    assert p.journal_ref == "ActaAstron.56:1-50,2006"


# ------------------------------------------------------------------------------------------ legacy format


def test_legacy_format_header_and_offsets() -> None:
    feed = parse_feed(LEGACY.read_bytes())
    assert (feed.total_results, feed.start_index, feed.items_per_page) == (31, 0, 10)
    assert feed.updated == utc(2016, 10, 9, 4, 0, 0)  # -04:00 made UTC
    assert feed.title.startswith("ArXiv Query: search_query=au:del_maestro")
    assert len(feed.entries) == 10


def test_legacy_format_entries() -> None:
    papers = by_id(LEGACY)
    p = papers["1201.4869"]
    assert p.title == "A Luttinger Liquid Core Inside Helium-4 Filled Nanopores"
    assert p.abstract.startswith("As helium-4 is cooled below 2.17 K it undergoes a phase transition to a fundamentally")
    assert "\n" not in p.abstract and "  " not in p.abstract
    assert p.doi == "10.1142/S021797921244002X" and p.comment == "26 pages, 10 figures"
    assert p.journal_ref == "Int. J. Mod. Phys. B, 26, 1244002 (2012)"
    # The primary comes first even though the legacy format lists it before the plain categories.
    assert p.primary_category == "cond-mat.mes-hall" and p.categories == ["cond-mat.mes-hall", "cond-mat.other"]
    assert papers["cond-mat/0412498"].authors == [Author("Adrian Del Maestro"), Author("Subir Sachdev")]
    assert all(q.updated.tzinfo is timezone.utc for q in papers.values())


def test_both_formats_give_the_same_shape_of_paper() -> None:
    for path in (CURRENT, LEGACY, AFFILIATIONS, PAGING):
        for p in parse_feed(path.read_bytes()).entries:
            assert p.id and p.title and p.abstract and p.authors and p.categories
            assert p.categories[0] == p.primary_category
            assert p.versions[0].version == 1 and p.versions[-1].version == p.version


# ------------------------------------------------------------------------------------------ errors


def test_empty_result() -> None:
    feed = parse_feed(EMPTY.read_bytes())
    assert feed.entries == [] and feed.total_results == 0


def test_api_error_feed_raises_with_the_api_message() -> None:
    with pytest.raises(ArxivAPIError, match="incorrect id format for abc") as err:
        parse_feed(ERROR.read_bytes(), "http://export.arxiv.org/api/query?id_list=abc")
    assert err.value.url.endswith("id_list=abc")


def test_malformed_xml_names_the_url_and_line() -> None:
    cut = CURRENT.read_bytes()[:5000]  # a body that stopped halfway
    with pytest.raises(ParseError, match=r"malformed XML at line \d+") as err:
        parse_feed(cut, "http://export.arxiv.org/api/query?search_query=all:testing")
    assert "search_query=all:testing" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("body, message", [
    (b"", "empty response"),
    (b"<html><body>Service Unavailable</body></html>", "not an Atom feed"),
])
def test_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_feed(body, "http://x")


def test_bad_entries_are_skipped_and_listed() -> None:
    data = CURRENT.read_bytes()
    data = data.replace(b"<id>http://arxiv.org/abs/2405.13786v1</id>", b"", 1)
    data = data.replace(b"<updated>2020-07-16T08:15:48Z</updated>", b"<updated>yesterday</updated>", 1)
    data = data.replace(b"<published>2020-05-28T16:19:50Z</published>", b"", 1)
    feed = parse_feed(data)
    assert len(feed.entries) == 8 and feed.count == 10
    assert "2405.13786" not in {p.id for p in feed.entries} and "2005.14124" not in {p.id for p in feed.entries}
    assert any("no <id>" in s for s in feed.skipped) and any("2005.14124" in s for s in feed.skipped)


# ------------------------------------------------------------------------------------------ categories, text


def test_acm_and_msc_classes_are_dropped_and_primary_comes_first() -> None:
    data = CURRENT.read_bytes().replace(
        b'<category term="cs.SE" scheme="http://arxiv.org/schemas/atom"/>\n    <category term="cs.LG"',
        b'<category term="68T50" scheme="http://arxiv.org/schemas/atom"/>\n'
        b'    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>\n'
        b'    <category term="I.2.7" scheme="http://arxiv.org/schemas/atom"/>\n'
        b'    <category term="F.2.2; G.2.2" scheme="http://arxiv.org/schemas/atom"/>\n'
        b'    <category term="cs.SE"', 1)
    p = {q.id: q for q in parse_feed(data).entries}["2202.12139"]
    assert p.categories == ["cs.SE", "cs.LG"]


@pytest.mark.parametrize("term, ok", [
    ("cs.CL", True), ("astro-ph", True), ("cond-mat.mes-hall", True), ("physics.atom-ph", True),
    ("q-bio.NC", True), ("hep-th", True), ("math-ph", True), ("stat.ML", True),
    ("I.2.7", False), ("68T50", False), ("F.2.2; G.2.2", False), ("H.3.3", False), ("05C85", False), ("", False),
])
def test_is_arxiv_category(term: str, ok: bool) -> None:
    assert is_arxiv_category(term) is ok


@pytest.mark.parametrize("raw, clean", [
    ("  We derive\nthe rates  ", "We derive the rates"),
    ("Tevatron and\n  LHC energies", "Tevatron and LHC energies"),
    ("tab\tand\r\nCRLF", "tab and CRLF"),
    ("plain", "plain"),
])
def test_squash(raw: str, clean: str) -> None:
    assert squash(raw) == clean


def test_paper_field_order_matches_the_positional_construction() -> None:
    """atom._paper builds Paper positionally for speed; a reordered Paper must fail here, not corrupt data."""
    assert [f.name for f in fields(Paper)][:16] == [
        "id", "title", "abstract", "updated", "version", "authors", "comment", "journal_ref", "doi", "license",
        "report_no", "submitter", "primary_category", "categories", "published", "versions",
    ]


# ------------------------------------------------------------------------------------------ the stdlib path


def test_stdlib_parser_gives_the_same_papers(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = (CURRENT, LEGACY, AFFILIATIONS, PAGING)
    fast = [parse_feed(p.read_bytes()) for p in paths]
    monkeypatch.setattr(atom, "_PARSER", None)  # as on an install without lxml
    slow = [parse_feed(p.read_bytes()) for p in paths]
    assert [f.entries for f in fast] == [s.entries for s in slow]
    assert [f.total_results for f in fast] == [s.total_results for s in slow]
    with pytest.raises(ParseError, match="malformed XML at line"):
        parse_feed(CURRENT.read_bytes()[:5000], "http://x")
    with pytest.raises(ArxivAPIError):
        parse_feed(ERROR.read_bytes())


# ------------------------------------------------------------------------------------------ unreadable entries


def _with_first_entry(old: bytes, new: bytes) -> bytes:
    data = CURRENT.read_bytes()
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize("old, new, words", [
    # 23:00 at UTC-5 on the last day of 9999 is past the last UTC instant Python can hold (was OverflowError).
    (b"<updated>2022-02-24T15:05:19Z</updated>", b"<updated>9999-12-31T23:00:00-05:00</updated>", "timestamp"),
    (b"<published>2022-02-24T15:05:19Z</published>", b"<published>0001-01-01T00:00:00Z</published>", "year 1"),
    (b"<id>http://arxiv.org/abs/2202.12139v1</id>", b"<id>http://arxiv.org/abs/2202.12139v99999999999999999999</id>",
     "not a version number"),
    (b"<id>http://arxiv.org/abs/2202.12139v1</id>", b"<id>http://arxiv.org/abs/x)|y&lt;b&gt;</id>", "not an arXiv id"),
    (b"<id>http://arxiv.org/abs/2202.12139v1</id>", b"<id>http://arxiv.org/abs/2202.12139\n| a |</id>",
     "not an arXiv id"),
])
def test_an_entry_out_of_range_or_with_a_foreign_id_is_skipped_and_reported(old: bytes, new: bytes,
                                                                               words: str) -> None:
    feed = parse_feed(_with_first_entry(old, new))
    assert len(feed.entries) == 9 and "2202.12139" not in {p.id for p in feed.entries}
    assert len(feed.skipped) == 1 and words in feed.skipped[0]
    assert feed.count == 10  # paging still advances past the skipped entry
