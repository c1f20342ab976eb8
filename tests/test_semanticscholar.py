"""Semantic Scholar fallback and fetch_citations: real recorded batch answers, served by a local fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from citation_server import (
    CitationServer,
    FakeOpenAlex,
    FakeSemanticScholar,
    Reply,
    as_arxiv_preprint,
    as_s2_arxiv,
)

from paperscope.errors import HTTPError, ParseError, SourceError
from paperscope.sources.citations import PaperCitations, fetch_citations
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy
from paperscope.sources.openalex import OpenAlex
from paperscope.sources.semanticscholar import (
    PAPER_FIELDS,
    SemanticScholar,
    parse_paper,
    semanticscholar_client,
)

FIX = Path(__file__).parent / "fixtures"
T0 = datetime(2026, 8, 21, 12, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((FIX / name).read_text(encoding="utf-8"))


FULL = load("semanticscholar/s2py_2023_paper_batch_3ids_full_fields.json")
WITH_NULL = load("semanticscholar/s2py_2024_paper_batch_4ids_first_not_found_null.json")
OA_PREPRINT = load("openalex/peneira_2024_works_search_subset.json")["results"]


class Sleeps(list):
    def __call__(self, s: float) -> None:
        self.append(s)


def make_client(server: CitationServer, sleeps: Sleeps, base: str = "/graph/v1", retries: int = 2) -> PoliteClient:
    return PoliteClient(server.url + base, pacer=Pacer(0.0, sleep=sleeps),
                        retry=RetryPolicy(retries=retries, backoff=0.01), sleep=sleeps)


def s2_papers(ids: list[str]) -> dict[str, dict[str, Any]]:
    """Real S2 paper objects, each re-labelled with one of `ids` as its arXiv id."""
    return {f"ARXIV:{aid}": as_s2_arxiv(FULL[n % len(FULL)], aid) for n, aid in enumerate(ids)}


def test_parse_real_paper() -> None:
    pc = parse_paper(FULL[0], "2101.00001", T0)
    assert (pc.source, pc.cited_by_count, pc.influential_citations) == ("semanticscholar", 10201, 562)
    assert (pc.work_id, pc.doi) == ("c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce", "10.2139/ssrn.288970")
    assert [(a.position, a.name, a.s2_id) for a in pc.authorships] == [
        (0, "Marianne Bertrand", "81141608"), (1, "E. Duflo", "2259683"), (2, "S. Mullainathan", "2062143")]
    assert pc.counts_by_year == {} and pc.authorships[0].openalex_id is None
    with_h = parse_paper({"authors": [{"authorId": "1", "name": "A", "hIndex": 7,
                                       "externalIds": {"ORCID": "0000-0002-1825-0097"}}]}, "x", T0)
    assert (with_h.authorships[0].h_index, with_h.authorships[0].orcid) == (7, "0000-0002-1825-0097")


def test_null_in_the_real_answer_means_not_found(sleeps: Sleeps) -> None:
    ids = ["2201.00001", "2201.00002", "2201.00003", "2201.00004"]
    with CitationServer() as server:
        server.script(Reply(200, WITH_NULL))  # the recorded answer, its first element null
        got = SemanticScholar(make_client(server, sleeps), clock=lambda: T0).papers(ids)
    assert list(got) == ids[1:]
    assert [got[i].cited_by_count for i in ids[1:]] == [10670, 2185, 0]
    assert got["2201.00002"].influential_citations == 578 and got["2201.00002"].fetched == T0
    (req,) = server.requests
    assert (req.method, req.path, req.param("fields")) == ("POST", "/graph/v1/paper/batch", PAPER_FIELDS)
    assert req.json() == {"ids": [f"ARXIV:{i}" for i in ids]}
    assert "x-api-key" not in req.headers
    assert "authors.hIndex" in PAPER_FIELDS.split(",")


def test_501_ids_take_two_batches_of_500_and_1(sleeps: Sleeps) -> None:
    ids = [f"2301.{n:05d}" for n in range(501)]
    progress: list[tuple[str, int, int]] = []
    with CitationServer(FakeSemanticScholar(s2_papers(ids))) as server:
        got = SemanticScholar(make_client(server, sleeps)).papers(ids, lambda *a: progress.append(a))
    assert len(got) == 501 and got["2301.00003"].cited_by_count == FULL[0]["citationCount"]
    assert [len(r.json()["ids"]) for r in server.requests] == [500, 1]
    assert progress == [("semanticscholar", 500, 501), ("semanticscholar", 501, 501)]


def test_versions_are_dropped_in_the_request_but_kept_in_the_answer(sleeps: Sleeps) -> None:
    with CitationServer(FakeSemanticScholar(s2_papers(["2302.00001"]))) as server:
        got = SemanticScholar(make_client(server, sleeps)).papers(["2302.00001v3"])
    assert list(got) == ["2302.00001v3"] and server.requests[0].json() == {"ids": ["ARXIV:2302.00001"]}


def test_strings_that_are_not_arxiv_ids_are_never_sent(sleeps: Sleeps) -> None:
    with CitationServer(FakeSemanticScholar(s2_papers(["hep-th/9901001"]))) as server:
        got = SemanticScholar(make_client(server, sleeps)).papers(["hep-th/9901001v2", "not an id", "1234"])
    assert list(got) == ["hep-th/9901001v2"] and server.requests[0].json() == {"ids": ["ARXIV:hep-th/9901001"]}


def test_api_key_goes_in_the_x_api_key_header(sleeps: Sleeps) -> None:
    with CitationServer(FakeSemanticScholar(s2_papers(["2303.00001"]), api_key="s2-key")) as server:
        got = SemanticScholar(make_client(server, sleeps), api_key="s2-key").papers(["2303.00001"])
        assert "2303.00001" in got and server.requests[0].headers["x-api-key"] == "s2-key"
        with pytest.raises(HTTPError, match="HTTP 403: Forbidden"):
            SemanticScholar(make_client(server, sleeps)).papers(["2303.00001"])


def test_429_with_retry_after_is_waited_out_then_succeeds(sleeps: Sleeps) -> None:
    with CitationServer(FakeSemanticScholar(s2_papers(["2304.00001"]))) as server:
        server.script(Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "3"}))
        got = SemanticScholar(make_client(server, sleeps)).papers(["2304.00001"])
    assert "2304.00001" in got and len(server.requests) == 2
    assert any(2.5 < s <= 3.0 for s in sleeps)


def test_a_batch_that_keeps_failing_raises_a_clear_source_error(sleeps: Sleeps) -> None:
    ids = [f"2305.{n:05d}" for n in range(3)]
    with CitationServer() as server:
        server.script(*[Reply(500, {"message": "Internal Server Error"})] * 3)
        with pytest.raises(SourceError) as err:
            SemanticScholar(make_client(server, sleeps, retries=2)).papers(ids)
    msg = str(err.value)
    assert isinstance(err.value, HTTPError) and err.value.status == 500
    assert msg.startswith("Semantic Scholar paper batch 1/1 (3 ids) failed: POST failed after 3 attempts: HTTP 500")
    assert "/graph/v1/paper/batch" in msg and "\n" not in msg


def test_an_answer_of_the_wrong_length_is_a_parse_error(sleeps: Sleeps) -> None:
    with CitationServer() as server:
        server.script(Reply(200, FULL))
        with pytest.raises(ParseError, match="expected a list of 2 papers, got a list of 3"):
            SemanticScholar(make_client(server, sleeps)).papers(["2306.00001", "2306.00002"])


def test_default_client_keeps_one_request_a_second() -> None:
    assert semanticscholar_client().pacer.interval == 1.0
    with pytest.raises(ValueError):
        SemanticScholar(semanticscholar_client(), batch_size=501)


# ----------------------------------------------------------------------------------- fetch_citations


def test_openalex_first_then_semantic_scholar_for_the_rest(sleeps: Sleeps) -> None:
    in_oa = ["2307.00001", "2307.00002"]
    in_s2 = ["2307.00003"]
    nowhere = ["2307.00004"]
    works = [as_arxiv_preprint(OA_PREPRINT[n], aid, n) for n, aid in enumerate(in_oa)]
    # S2 knows one paper OpenAlex also has: it must not be asked for it.
    papers = s2_papers(in_s2 + in_oa[:1])
    times = iter([T0, T0 + timedelta(seconds=5)])
    progress: list[tuple[str, int, int]] = []
    with CitationServer(FakeOpenAlex(works)) as oa_server, CitationServer(FakeSemanticScholar(papers)) as s2_server:
        oa = OpenAlex(make_client(oa_server, sleeps, base=""))
        s2 = SemanticScholar(make_client(s2_server, sleeps))
        got = fetch_citations(in_oa + in_s2 + nowhere + in_oa[:1], oa, s2, lambda *a: progress.append(a),
                              clock=lambda: next(times))
    assert list(got) == in_oa + in_s2
    assert {k: (v.source, v.fetched) for k, v in got.items()} == {
        "2307.00001": ("openalex", T0), "2307.00002": ("openalex", T0),
        "2307.00003": ("semanticscholar", T0 + timedelta(seconds=5))}
    assert got["2307.00003"].cited_by_count == FULL[0]["citationCount"]
    assert [r.json()["ids"] for r in s2_server.requests] == [["ARXIV:2307.00003", "ARXIV:2307.00004"]]
    assert progress == [("openalex", 4, 4), ("semanticscholar", 2, 2)]


def test_without_fallback_or_missing_ids_only_the_primary_is_asked(sleeps: Sleeps) -> None:
    works = [as_arxiv_preprint(OA_PREPRINT[0], "2308.00001", 0)]

    class Unused:
        name = "semanticscholar"

        def fetch(self, ids: Any, progress: Any = None) -> dict[str, PaperCitations]:
            raise AssertionError("fallback asked although nothing was missing")

    with CitationServer(FakeOpenAlex(works)) as server:
        oa = OpenAlex(make_client(server, sleeps, base=""))
        assert set(fetch_citations(["2308.00001"], oa, Unused())) == {"2308.00001"}
        assert fetch_citations(["2308.00002"], oa) == {}


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def test_a_json_answer_cut_short_is_asked_again(sleeps: Sleeps) -> None:
    """Issue #10.4 for the JSON APIs: a 200 whose JSON stops early is retried like a 5xx."""
    papers = s2_papers(["2304.00001"])
    with CitationServer(FakeSemanticScholar(papers)) as server:
        server.script(Reply(200, b'[{"paperId": "abc", "title": "Cut'))
        got = SemanticScholar(make_client(server, sleeps)).papers(["2304.00001"])
    assert "2304.00001" in got and len(server.requests) == 2


def test_openalex_json_cut_short_is_asked_again(sleeps: Sleeps) -> None:
    with CitationServer() as server:
        server.script(Reply(200, b'{"id": "https://openalex.org/W1", "title": "Cu'),
                      Reply(200, {"id": "https://openalex.org/W1", "title": "Whole"}))
        work = OpenAlex(make_client(server, sleeps, base="")).work_raw("W1")
    assert work is not None and work["title"] == "Whole" and len(server.requests) == 2
