"""OpenAlex source: parsing real recorded responses, and the client against a local fake OpenAlex."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from citation_server import (
    CitationServer,
    FakeOpenAlex,
    Reply,
    as_arxiv_preprint,
    as_author,
    as_merged,
)

from paperscope.errors import HTTPError, RateLimitedError, SourceError
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy
from paperscope.sources.openalex import (
    AUTHOR_FIELDS,
    WORK_FIELDS,
    OpenAlex,
    arxiv_ids_in,
    invert_abstract,
    openalex_client,
    parse_author,
    parse_work,
)

FIX = Path(__file__).parent / "fixtures" / "openalex"
T0 = datetime(2026, 8, 21, 12, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((FIX / name).read_text(encoding="utf-8"))


def works_by_id() -> dict[str, dict[str, Any]]:
    out = {}
    for name in ("peneira_2024_works_search_subset.json", "openalexpro_2025_works_filter_cites_cursor.json"):
        for w in load(name)["results"]:
            out[w["id"].rsplit("/", 1)[-1]] = w
    return out


WORKS = works_by_id()
AUTHOR = load("openalex_2026_authors_A5043579160_phymes.json")["results"][0]
# Real works: two arXiv-only preprints (their DOI is the arXiv DOI) and two published versions that
# OpenAlex merged with their preprints (journal DOI; arXiv only as a location).
PREPRINTS = {"2304.04761": "W4365441044", "2310.08532": "W4387635986"}
MERGED = {"2208.03461": "W4307407919", "2306.14003": "W4385568269"}


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, s: float) -> None:
        self.calls.append(s)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(server: CitationServer, sleeps: Sleeps, retries: int = 2) -> PoliteClient:
    return PoliteClient(server.url, pacer=Pacer(0.0, sleep=sleeps), retry=RetryPolicy(retries=retries, backoff=0.01),
                        sleep=sleeps)


def serve(works: list[dict[str, Any]], authors: list[dict[str, Any]] = (), api_key: str | None = None):
    return CitationServer(FakeOpenAlex(works, authors, api_key=api_key))


# --------------------------------------------------------------------------------------- parsing


def test_parse_real_work_keeps_counts_authors_and_institutions() -> None:
    w = load("openalexpro_2026_work_W2162348455.json")
    pc = parse_work(w, "", T0)
    assert (pc.work_id, pc.doi, pc.cited_by_count, pc.source) == ("W2162348455", "10.1038/35002501", 30625, "openalex")
    assert pc.counts_by_year[2025] == 1785 and pc.counts_by_year[2012] == 1214
    first, second = pc.authorships[:2]
    assert (first.position, first.name, first.openalex_id, first.orcid) == (0, "Norman Myers", "A5109070857", None)
    assert [(i.name, i.ror, i.country, i.openalex_id) for i in first.institutions] == [
        ("University of Oxford", "052gg0110", "GB", "I40120149")]
    assert (second.name, second.orcid) == ("Russell A. Mittermeier", "0000-0002-8002-826X")
    assert pc.influential_citations is None


def test_ror_with_a_doubled_prefix_in_real_data_is_cut_to_the_id() -> None:
    # W7104728135 (recorded 2025) has 'https://ror.org/https://ror.org/01ppj9r51'.
    pc = parse_work(WORKS["W7104728135"], "", T0)
    assert pc.authorships[0].institutions[0].ror == "01ppj9r51"


def test_invert_abstract_rebuilds_real_text() -> None:
    idx = WORKS["W4365441044"]["abstract_inverted_index"]
    text = invert_abstract(idx)
    assert text.startswith("Machine learning (ML) has become a critical tool in public health, offering")
    assert text.endswith("towards a more ethical and equitable outcome for all populations.")
    assert len(text.split()) == sum(len(p) for p in idx.values())
    assert invert_abstract({"b": [1], "a": [0, 2]}) == "a b a"
    assert invert_abstract(None) == "" == invert_abstract({})


def test_arxiv_ids_found_through_doi_and_through_locations() -> None:
    assert arxiv_ids_in(WORKS["W4365441044"]) == {"2304.04761": True}
    assert arxiv_ids_in(WORKS["W4307407919"]) == {"2208.03461": False}  # landing page and pdf_url
    assert arxiv_ids_in(WORKS["W2068311567"]) == {}
    old = {"locations": [{"landing_page_url": "http://arxiv.org/abs/hep-th/9901001v2"},
                         {"pdf_url": "https://arxiv.org/pdf/2101.00001v3.pdf"}]}
    assert arxiv_ids_in(old) == {"hep-th/9901001": False, "2101.00001": False}


def test_parse_real_author() -> None:
    st = parse_author(AUTHOR, T0)
    assert (st.author_id, st.name, st.h_index, st.i10_index) == ("A5043579160", "T. Tokuzawa", 40, 184)
    assert st.two_year_mean_citedness == pytest.approx(9.238536019859872e-05)
    assert (st.works_count, st.cited_by_count) == (671592, 6540)
    assert sum(st.counts_by_year.values()) == 6540 and st.counts_by_year[1993] == 33
    assert st.orcid == "0000-0001-5473-2109"  # top-level orcid is null in this record; ids.orcid has it
    assert [(i.name, i.ror, i.country) for i in st.institutions][:2] == [
        ("Kyushu University", "00p4k0j84", "JP"), ("National Institutes of Natural Sciences", "055n47h92", "JP")]
    assert len(st.institutions) == 4


def test_author_without_last_known_institutions_falls_back_on_latest_affiliations() -> None:
    a = {k: v for k, v in AUTHOR.items() if k != "last_known_institutions"}
    names = {i.name for i in parse_author(a, T0).institutions}
    assert names == {"Kyushu University", "National Institutes of Natural Sciences",
                     "The Graduate University for Advanced Studies, SOKENDAI", "National Institute for Fusion Science"}


# ------------------------------------------------------------------------------ against the server


def test_preprints_by_doi_and_merged_works_by_landing_page(sleeps: Sleeps) -> None:
    works = [WORKS[w] for w in (*PREPRINTS.values(), *MERGED.values(), "W2068311567")]
    with serve(works) as server:
        oa = OpenAlex(make_client(server, sleeps), clock=lambda: T0)
        got = oa.works_for_arxiv(["2304.04761", "2310.08532", "2208.03461", "2306.14003v2", "9999.99999"])
    assert set(got) == {"2304.04761", "2310.08532", "2208.03461", "2306.14003v2"}
    assert got["2304.04761"].work_id == "W4365441044" and got["2304.04761"].doi == "10.48550/arxiv.2304.04761"
    merged = got["2208.03461"]
    assert (merged.work_id, merged.doi, merged.cited_by_count) == ("W4307407919", "10.1162/99608f92.18da72db", 3)
    assert merged.counts_by_year == {2024: 1, 2023: 1, 2022: 1}
    assert [a.name for a in merged.authorships] == ["Nicholas Mirin", "Rumi Chunara"]
    assert merged.authorships[0].institutions[0].ror == "0190ak572"
    assert got["2306.14003v2"].work_id == "W4385568269" and got["2306.14003v2"].arxiv_id == "2306.14003v2"
    assert merged.fetched == T0 and merged.source == "openalex"

    first, second = server.requests
    assert first.path == "/works"
    assert first.param("filter") == ("doi:10.48550/arXiv.2304.04761|10.48550/arXiv.2310.08532|"
                                     "10.48550/arXiv.2208.03461|10.48550/arXiv.2306.14003|10.48550/arXiv.9999.99999")
    assert (first.param("per_page"), first.param("cursor"), first.param("select")) == ("100", "*", WORK_FIELDS)
    assert "api_key" not in first.query
    assert second.param("filter") == ("locations.landing_page_url:https://arxiv.org/abs/2208.03461|"
                                      "https://arxiv.org/abs/2306.14003|https://arxiv.org/abs/9999.99999")


def test_strings_that_are_not_arxiv_ids_are_never_sent(sleeps: Sleeps) -> None:
    with serve([WORKS["W4365441044"]]) as server:
        got = OpenAlex(make_client(server, sleeps)).works_for_arxiv(["2304.04761", "a|b", "doi:1,2", ""])
        assert list(got) == ["2304.04761"]
        assert server.requests[0].param("filter") == "doi:10.48550/arXiv.2304.04761"
        assert OpenAlex(make_client(server, sleeps)).works_for_arxiv(["nonsense"]) == {}
    assert len(server.requests) == 1


def test_select_asks_for_every_field_the_parser_reads(sleeps: Sleeps) -> None:
    # The fake honours `select`, so a parse through the server equals a parse of the full object.
    with serve([WORKS["W4307407919"]]) as server:
        got = OpenAlex(make_client(server, sleeps), clock=lambda: T0).works_for_arxiv(["2208.03461"])
    assert got["2208.03461"] == parse_work(WORKS["W4307407919"], "2208.03461", T0)


def test_101_ids_take_two_requests_of_100_and_1(sleeps: Sleeps) -> None:
    ids = [f"2401.{n:05d}" for n in range(101)]
    templates = list(WORKS.values())
    works = [as_arxiv_preprint(templates[n % len(templates)], aid, n) for n, aid in enumerate(ids)]
    progress: list[tuple[str, int, int]] = []
    with serve(works) as server:
        got = OpenAlex(make_client(server, sleeps)).works_for_arxiv(ids, lambda *a: progress.append(a))
    assert len(got) == 101
    assert [len(r.param("filter").split("|")) for r in server.requests] == [100, 1]
    assert progress == [("openalex", 100, 101), ("openalex", 101, 101)]


def test_cursor_paging_follows_next_cursor(sleeps: Sleeps) -> None:
    ids = [f"2402.{n:05d}" for n in range(5)]
    works = [as_arxiv_preprint(WORKS["W4387635986"], aid, n) for n, aid in enumerate(ids)]
    with serve(works) as server:
        got = OpenAlex(make_client(server, sleeps), per_page=2).works_for_arxiv(ids)
    assert sorted(got) == ids
    cursors = [r.param("cursor") for r in server.requests]
    assert cursors[0] == "*" and len(cursors) == 3 and len(set(cursors)) == 3
    assert all(r.param("per_page") == "2" for r in server.requests)


def test_real_cursor_page_is_followed_with_its_own_next_cursor(sleeps: Sleeps) -> None:
    page = load("openalexpro_2025_works_filter_cites_cursor.json")
    with serve([]) as server:
        server.script(Reply(200, page), Reply(200, {"meta": {"count": 5, "next_cursor": None}, "results": []}))
        got = OpenAlex(make_client(server, sleeps)).works_for_arxiv(["2403.00001"])
    assert got == {}
    assert server.requests[1].param("cursor") == page["meta"]["next_cursor"]
    assert server.requests[2].param("filter").startswith("locations.landing_page_url:")


def test_of_two_works_with_one_arxiv_location_the_more_cited_wins(sleeps: Sleeps) -> None:
    low = as_merged(WORKS["W2068311567"], "2404.00001", 1)  # 8 citations
    high = as_merged(WORKS["W2897157249"], "2404.00001", 2)  # 50 citations
    with serve([low, high]) as server:
        got = OpenAlex(make_client(server, sleeps)).works_for_arxiv(["2404.00001"])
    assert got["2404.00001"].cited_by_count == 50


def test_api_key_is_sent_and_masked_in_errors(sleeps: Sleeps) -> None:
    with serve([WORKS["W4365441044"]], api_key="k-123") as server:
        got = OpenAlex(make_client(server, sleeps), api_key="k-123").works_for_arxiv(["2304.04761"])
        assert "2304.04761" in got
        assert all(r.param("api_key") == "k-123" for r in server.requests)
        with pytest.raises(HTTPError) as err:
            OpenAlex(make_client(server, sleeps), api_key="wrong-key").works_for_arxiv(["2304.04761"])
    msg = str(err.value)
    assert "wrong-key" not in msg and "wrong-key" not in err.value.url
    assert "<api-key>" in msg and "HTTP 401" in msg and "Invalid or missing API key" in msg
    assert "\n" not in msg


def test_429_with_retry_after_is_waited_out_then_succeeds(sleeps: Sleeps) -> None:
    with serve([WORKS["W4365441044"]]) as server:
        server.script(Reply(429, {"error": "Too Many Requests"}, {"Retry-After": "2"}))
        got = OpenAlex(make_client(server, sleeps)).works_for_arxiv(["2304.04761"])
    assert "2304.04761" in got
    assert len(server.requests) == 2 and server.requests[0].param("cursor") == server.requests[1].param("cursor")
    assert any(1.5 < s <= 2.0 for s in sleeps.calls)  # the pacer held the next request back ~2 s


def test_server_errors_that_persist_raise_a_source_error_naming_the_batch(sleeps: Sleeps) -> None:
    with serve([]) as server:
        server.script(*[Reply(500, {"error": "boom"})] * 3)
        with pytest.raises(SourceError) as err:
            OpenAlex(make_client(server, sleeps, retries=2)).works_for_arxiv(["2304.04761"])
    assert isinstance(err.value, HTTPError) and err.value.status == 500
    assert str(err.value).startswith("OpenAlex works by arXiv DOI, batch 1/1 failed: GET failed after 3 attempts")
    assert len(server.requests) == 3


def test_rate_limit_that_persists_stays_a_rate_limited_error(sleeps: Sleeps) -> None:
    with serve([]) as server:
        server.script(*[Reply(429, {})] * 2)
        with pytest.raises(RateLimitedError):
            OpenAlex(make_client(server, sleeps, retries=1)).works_for_arxiv(["2304.04761"])


def test_a_bad_request_names_openalex_reason(sleeps: Sleeps) -> None:
    with serve([]) as server:
        server.script(Reply(400, {"error": "Invalid query parameters error.", "message": "foo is not valid"}))
        with pytest.raises(HTTPError, match=r"HTTP 400: Invalid query parameters error\. - foo is not valid"):
            OpenAlex(make_client(server, sleeps)).works_for_arxiv(["2304.04761"])


def test_work_by_id_and_by_doi(sleeps: Sleeps) -> None:
    with serve([WORKS["W4307407919"], WORKS["W4365441044"]]) as server:
        oa = OpenAlex(make_client(server, sleeps), clock=lambda: T0)
        by_id = oa.work("https://openalex.org/W4307407919")
        by_doi = oa.work("https://doi.org/10.1162/99608F92.18DA72DB")
        preprint = oa.work("W4365441044")
        assert oa.work("W1") is None
        assert oa.work_raw("10.48550/arXiv.2304.04761")["id"] == "https://openalex.org/W4365441044"
        with pytest.raises(SourceError, match="not an OpenAlex work id or DOI"):
            oa.work("hello")
    assert by_id == by_doi and by_id.arxiv_id == "2208.03461" and by_id.cited_by_count == 3
    assert preprint.arxiv_id == "2304.04761"
    assert [r.path for r in server.requests][:3] == [
        "/works/W4307407919", "/works/doi:10.1162/99608f92.18da72db", "/works/W4365441044"]


def test_authors_by_id_with_summary_stats(sleeps: Sleeps) -> None:
    with serve([], [AUTHOR]) as server:
        got = OpenAlex(make_client(server, sleeps), clock=lambda: T0).authors(
            ["https://openalex.org/A5043579160", "a1", "A5043579160"])
    assert list(got) == ["A5043579160"]
    assert got["A5043579160"] == parse_author(AUTHOR, T0)
    (req,) = server.requests
    assert (req.path, req.param("filter"), req.param("select")) == ("/authors", "openalex:A5043579160|A1", AUTHOR_FIELDS)


def test_101_authors_take_two_requests(sleeps: Sleeps) -> None:
    authors = [as_author(AUTHOR, n) for n in range(101)]
    with serve([], authors) as server:
        got = OpenAlex(make_client(server, sleeps)).authors([a["id"] for a in authors])
    assert len(got) == 101 and all(s.h_index == 40 for s in got.values())
    assert [len(r.param("filter").split("|")) for r in server.requests] == [100, 1]


def test_limits_are_checked_before_any_request(sleeps: Sleeps) -> None:
    client = openalex_client("http://127.0.0.1:9")
    with pytest.raises(ValueError):
        OpenAlex(client, per_page=101)
    with pytest.raises(SourceError, match="not an OpenAlex author id: 'W123'"):
        OpenAlex(client).authors(["W123"])
    assert client.pacer.interval == pytest.approx(0.1)
