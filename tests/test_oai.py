"""OAI-PMH: parsing arXiv/arXivRaw pages, OAI errors, and harvests that resume where they stopped."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import FIXTURES, dt
from oai_server import OAIServer, PagedOAI, oai_error

from paperscope.errors import HTTPError, ParseError, SourceError
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy
from paperscope.sources.oai import (
    MemoryState,
    OAIError,
    OAIHarvester,
    OAIPage,
    harvest,
    oai_identifier_to_id,
    parse_page,
)

OAI = FIXTURES / "oai"
RAW_PAGES = [(OAI / f"arxivraw_page{i}.xml").read_bytes() for i in (1, 2, 3)]


def fixture(name: str) -> bytes:
    return (OAI / name).read_bytes()


def client_for(server: OAIServer, retries: int = 0) -> PoliteClient:
    return PoliteClient(server.url, pacer=Pacer(0.0), retry=RetryPolicy(retries=retries), sleep=lambda s: None)


# ------------------------------------------------------------------------------------------- parsing


def test_arxivraw_page_gives_every_version_and_the_token() -> None:
    page = parse_page(RAW_PAGES[0])
    assert [p.id for p in page.papers] == ["0704.0001", "0704.0002", "0704.0003"]
    p = page.papers[0]
    assert p.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert (p.version, p.published, p.updated) == (2, dt(2007, 4, 2, 19, 18, 42), dt(2007, 7, 24, 20, 10, 27))
    assert [(v.version, v.created) for v in p.versions] == [(1, dt(2007, 4, 2, 19, 18, 42)),
                                                           (2, dt(2007, 7, 24, 20, 10, 27))]
    assert p.author_names == ["C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert (p.submitter, p.journal_ref, p.doi, p.report_no) == (
        "Pavel Nadolsky", "Phys.Rev.D76:013009,2007", "10.1103/PhysRevD.76.013009", "ANL-HEP-PR-07-12")
    assert p.abstract.startswith("A fully differential calculation in perturbative quantum chromodynamics is presented")
    assert page.papers[1].license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert (page.papers[1].primary_category, page.papers[1].categories) == ("math.CO", ["math.CO", "cs.CG"])
    assert page.papers[2].version == 3
    assert (page.resumption_token, page.cursor, page.complete_list_size) == ("6960524|1001", 0, 8)
    assert page.response_date == dt(2026, 8, 21, 6, 11, 31)


def test_arxivraw_authors_resolve_numbered_and_shared_affiliations() -> None:
    p = parse_page(RAW_PAGES[1]).papers[0]  # 'A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) ..., (2) ...)'
    assert [(a.name, a.affiliations) for a in p.authors] == [
        ("A. S. Mishchenko", ["CREST, Japan Science and Technology Agency",
                              "Russian Research Centre ``Kurchatov Institute''"]),
        ("N. Nagaosa", ["CREST, Japan Science and Technology Agency", "The University of Tokyo"]),
    ]
    last = parse_page(RAW_PAGES[2]).papers[0]  # '..., David Jansen and Ewine van Dishoeck (Leiden)'
    assert [(a.name, a.affiliations) for a in last.authors][-3:] == [
        ("Fredrik Schoeier", ["Stockholm"]), ("David Jansen", ["Leiden"]), ("Ewine van Dishoeck", ["Leiden"])]


def test_deleted_records_are_listed_by_id_and_last_page_has_no_token() -> None:
    page2 = parse_page(RAW_PAGES[1])
    assert page2.deleted == ["0704.0046"]
    assert [p.id for p in page2.papers] == ["0704.0025", "0704.0044"]
    page3 = parse_page(RAW_PAGES[2])
    assert (page3.resumption_token, page3.cursor, page3.complete_list_size) == (None, 6, 8)


def test_arxiv_format_gives_parsed_authors_with_affiliations_and_days() -> None:
    page = parse_page(fixture("arxiv_page.xml"))
    first, single, astro = page.papers
    assert first.author_names == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    # arXiv format has created/updated days, not version numbers: 2 is the least an updated paper can be.
    assert (first.published, first.updated, first.version) == (dt(2007, 4, 2), dt(2007, 7, 24), 2)
    assert [(a.name, a.affiliations) for a in single.authors] == [("V. M. Biryukov", ["Serpukhov, IHEP"])]
    assert (single.version, single.updated, single.published) == (1, dt(2007, 3, 31), dt(2007, 3, 31))
    assert [(a.name, a.affiliations) for a in astro.authors][:2] == [
        ("A. A. Schekochihin", ["Oxford"]), ("S. C. Cowley", ["Culham"])]
    assert page.resumption_token is None and page.complete_list_size == 3


def test_no_records_match_is_an_empty_result_not_an_error() -> None:
    page = parse_page(fixture("error_norecordsmatch.xml"))
    assert page == OAIPage(response_date=dt(2026, 8, 21, 7, 5))


@pytest.mark.parametrize("name, code", [("error_badresumptiontoken.xml", "badResumptionToken"),
                                        ("error_badargument.xml", "badArgument")])
def test_oai_errors_raise_with_their_code(name: str, code: str) -> None:
    with pytest.raises(OAIError) as info:
        parse_page(fixture(name), url="http://127.0.0.1/oai2?verb=ListRecords")
    assert info.value.code == code
    assert isinstance(info.value, SourceError)
    assert code in str(info.value) and "127.0.0.1" in str(info.value)


@pytest.mark.parametrize("body, words", [
    (b"<html><body>Service unavailable</body></html>", "expected an <OAI-PMH>"),
    (b"<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'><ListRecords>", "not well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><OAI-PMH/>', "DOCTYPE"),
])
def test_bodies_that_are_not_oai_pmh_raise_parse_error(body: bytes, words: str) -> None:
    with pytest.raises(ParseError, match=words):
        parse_page(body)


def test_a_record_without_title_is_skipped_and_reported_the_rest_kept() -> None:
    broken = RAW_PAGES[0].replace(b"<title>Sparsity-certifying Graph Decompositions</title>", b"", 1)
    page = parse_page(broken)
    assert [p.id for p in page.papers] == ["0704.0001", "0704.0003"]
    assert page.skipped == ["oai:arXiv.org:0704.0002: title: missing"]


def test_oai_identifiers_become_arxiv_ids() -> None:
    assert oai_identifier_to_id("oai:arXiv.org:hep-th/9901001") == "hep-th/9901001"
    assert oai_identifier_to_id("oai:arXiv.org:2608.18067v1") == "2608.18067"


# ------------------------------------------------------------------------------------- over the wire


def test_list_records_follows_tokens_with_exclusive_arguments() -> None:
    with OAIServer(PagedOAI(RAW_PAGES)) as server:
        pages = list(OAIHarvester(client_for(server)).list_records(
            metadata_prefix="arXivRaw", from_=date(2007, 4, 1), until=date(2009, 12, 31), set_="physics:hep-ph"))
    assert [len(p.papers) for p in pages] == [3, 2, 2]
    assert server.requests == [
        {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2007-04-01", "until": "2009-12-31",
         "set": "physics:hep-ph"},
        {"verb": "ListRecords", "resumptionToken": "6960524|1001"},
        {"verb": "ListRecords", "resumptionToken": "6960524|2001"},
    ]


def test_a_503_with_retry_after_is_waited_out_by_the_client() -> None:
    answers = [(503, {"Retry-After": "0"}, b"busy"), (200, {}, fixture("arxiv_page.xml"))]
    with OAIServer(lambda q: answers.pop(0)) as server:
        pages = list(OAIHarvester(client_for(server, retries=2)).list_records())
    assert [p.id for p in pages[0].papers] == ["0704.0001", "0704.0031", "0704.0044"]
    assert len(server.requests) == 2


def test_an_unknown_prefix_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="metadata_prefix"):
        next(OAIHarvester(PoliteClient("http://127.0.0.1:9")).list_records(metadata_prefix="oai_dc"))


def test_get_record_returns_none_for_an_unknown_id() -> None:
    with OAIServer(lambda q: (200, {}, oai_error("idDoesNotExist", "no such id"))) as server:
        assert OAIHarvester(client_for(server)).get_record("0704.9999") is None
    assert server.requests[0]["identifier"] == "oai:arXiv.org:0704.9999"


# ------------------------------------------------------------------------------------------- harvest


def collect(into: list[OAIPage]):
    return into.append


def test_interrupted_harvest_resumes_from_the_saved_token() -> None:
    state = MemoryState()
    seen: list[OAIPage] = []
    paged = PagedOAI(RAW_PAGES, fail_on={3})
    with OAIServer(paged) as server:
        harvester = OAIHarvester(client_for(server))
        with pytest.raises(HTTPError):
            harvest(harvester, state, prefix="arXivRaw", from_=date(2007, 4, 1), until=date(2009, 12, 31),
                    on_page=collect(seen))
        assert state.state is not None
        assert (state.state["resumption_token"], state.state["pages"]) == ("6960524|2001", 2)
        assert state.state["next_from"] is None  # not finished: no incremental start point yet

        paged.fail_on.clear()
        before = len(server.requests)
        result = harvest(harvester, state, prefix="arXivRaw", on_page=collect(seen))
        resumed_requests = server.requests[before:]

    assert resumed_requests == [{"verb": "ListRecords", "resumptionToken": "6960524|2001"}]
    assert paged.served == [1, 2, 3]  # pages 1 and 2 were not fetched again
    ids = [p.id for page in seen for p in page.papers]
    assert len(ids) == len(set(ids)) == 7
    assert (result.resumed, result.complete, result.pages, result.papers) == (True, True, 1, 2)
    assert state.state["resumption_token"] is None
    assert state.state["next_from"] == "2009-12-31" and result.next_from == date(2009, 12, 31)
    assert state.state["pages"] == 3


def test_next_harvest_starts_from_the_recorded_date_and_no_records_is_fine() -> None:
    state = MemoryState()
    with OAIServer(PagedOAI(RAW_PAGES)) as server:
        first = harvest(OAIHarvester(client_for(server)), state, prefix="arXivRaw", on_page=lambda p: None)
    # No `until`: the next run starts on the day of the first response (2026-08-21T06:11:31Z).
    assert first.complete and first.next_from == date(2026, 8, 21)

    with OAIServer(lambda q: (200, {}, fixture("error_norecordsmatch.xml"))) as server:
        pages: list[OAIPage] = []
        second = harvest(OAIHarvester(client_for(server)), state, prefix="arXivRaw", on_page=collect(pages))
    assert server.requests == [{"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2026-08-21"}]
    assert (second.complete, second.papers, len(pages)) == (True, 0, 1)
    assert state.state is not None and state.state["next_from"] == "2026-08-21"


def test_an_expired_token_on_resume_restarts_the_same_window() -> None:
    state = MemoryState({"prefix": "arXivRaw", "set": None, "from": "2007-04-01", "until": "2009-12-31",
                         "resumption_token": "stale|1", "pages": 5, "started": "2026-08-01T00:00:00Z"})
    with OAIServer(PagedOAI(RAW_PAGES)) as server:
        result = harvest(OAIHarvester(client_for(server)), state, prefix="arXivRaw", on_page=lambda p: None)
    assert server.requests[0] == {"verb": "ListRecords", "resumptionToken": "stale|1"}
    assert server.requests[1] == {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2007-04-01",
                                  "until": "2009-12-31"}
    assert (result.pages, result.papers, result.deleted, result.complete) == (3, 7, 1, True)
    assert state.state is not None and state.state["pages"] == 3


def test_state_of_another_set_or_window_is_not_resumed() -> None:
    saved = {"prefix": "arXivRaw", "set": "cs", "from": None, "until": None, "resumption_token": "6960524|1001",
             "next_from": "2020-01-01"}
    with OAIServer(PagedOAI(RAW_PAGES)) as server:
        harvest(OAIHarvester(client_for(server)), MemoryState(dict(saved)), prefix="arXivRaw", set_="math",
                on_page=lambda p: None)
        other_set = server.requests[0]
        harvest(OAIHarvester(client_for(server)), MemoryState(dict(saved)), prefix="arXivRaw", set_="cs",
                from_=date(2024, 1, 1), on_page=lambda p: None)
        other_window = server.requests[3]
    assert other_set == {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": "math"}
    assert other_window == {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2024-01-01", "set": "cs"}


def test_a_failing_on_page_leaves_the_token_before_that_page() -> None:
    state = MemoryState()

    def store_page(page: OAIPage) -> None:
        if page.cursor == 3:
            raise RuntimeError("disk full")

    with OAIServer(PagedOAI(RAW_PAGES)) as server, pytest.raises(RuntimeError):
        harvest(OAIHarvester(client_for(server)), state, prefix="arXivRaw", on_page=store_page)
    assert state.state is not None and state.state["resumption_token"] == "6960524|1001"



@pytest.mark.parametrize("old, new, words", [
    (b"<date>Mon, 2 Apr 2007 19:18:42 GMT</date>", b"<date>Fri, 31 Dec 9999 23:00:00 -0500</date>", "date"),
    (b'version="v1"', b'version="v99999999999999999999"', "not a version"),
    (b"<id>0704.0001</id>", b"<id>0704.0001)&lt;b&gt;</id>", "not an arXiv id"),
])
def test_a_record_out_of_range_or_with_a_foreign_id_is_skipped_and_reported(old: bytes, new: bytes,
                                                                              words: str) -> None:
    assert old in RAW_PAGES[0]
    page = parse_page(RAW_PAGES[0].replace(old, new, 1))
    assert [p.id for p in page.papers] == ["0704.0002", "0704.0003"]
    assert len(page.skipped) == 1 and words in page.skipped[0]


def test_an_unknown_declared_encoding_is_a_parse_error_not_a_traceback() -> None:
    body = b'<?xml version="1.0" encoding="x-no-such"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"/>'
    with pytest.raises(ParseError, match="encoding"):
        parse_page(body)
