"""ArxivAPI against a local server that speaks the API's real format: paging, retries, errors, id lists."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from arxiv_server import ApiEmulator, ArxivServer, FakeClock, Reply, api_page, entry_id, load_entries

from paperscope.errors import ArxivAPIError, HTTPError, RateLimitedError, UnexpectedEmptyPageError
from paperscope.sources.arxiv_api import MAX_RESULTS, ArxivAPI
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy

ATOM = Path(__file__).parent / "fixtures" / "atom"
ENTRIES = load_entries(ATOM / "api_25_real_records_newest_first.xml")
IDS = [entry_id(e) for e in ENTRIES]


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server() -> Iterator[ArxivServer]:
    with ArxivServer(ApiEmulator(ENTRIES)) as s:
        yield s


def make_api(server: ArxivServer, fake: FakeClock, *, page_size: int = 10, retries: int = 2, timeout: float = 5.0,
             warn: list[str] | None = None) -> ArxivAPI:
    client = PoliteClient(
        server.url + "/api/query",
        pacer=Pacer(0.0, clock=fake.clock, sleep=fake.sleep),  # pace 0 in tests; nothing really sleeps
        retry=RetryPolicy(retries=retries, backoff=1.0, jitter=0.0),
        sleep=fake.sleep,
        timeout=timeout,
        rng=random.Random(1),
    )
    return ArxivAPI(client, page_size=page_size, warn=warn.append if warn is not None else None)


def sent(server: ArxivServer, key: str) -> list[str]:
    return [r.query.get(key, "") for r in server.requests]


# ------------------------------------------------------------------------------------------ paging


def test_search_pages_through_every_result(server: ArxivServer, fake: FakeClock) -> None:
    papers = list(make_api(server, fake).search("cat:math.CO"))
    assert [p.id for p in papers] == IDS
    assert sent(server, "start") == ["0", "10", "20"]
    assert sent(server, "max_results") == ["10", "10", "10"]
    assert sent(server, "search_query") == ["cat:math.CO"] * 3
    assert sent(server, "sortBy") == ["lastUpdatedDate"] * 3 and sent(server, "sortOrder") == ["descending"] * 3
    assert all(r.path == "/api/query" for r in server.requests)


def test_max_results_asks_only_for_what_is_needed(server: ArxivServer, fake: FakeClock) -> None:
    papers = list(make_api(server, fake).search("all:graph", max_results=15, sort_by="submittedDate",
                                                  sort_order="ascending"))
    assert [p.id for p in papers] == IDS[:15]
    assert sent(server, "start") == ["0", "10"] and sent(server, "max_results") == ["10", "5"]
    assert sent(server, "sortBy") == ["submittedDate"] * 2 and sent(server, "sortOrder") == ["ascending"] * 2


def test_start_offset(server: ArxivServer, fake: FakeClock) -> None:
    papers = list(make_api(server, fake).search("all:graph", start=20))
    assert [p.id for p in papers] == IDS[20:]
    assert sent(server, "start") == ["20"]


def test_stops_at_total_results(fake: FakeClock) -> None:
    """The API says 12 results: no request past them, even though pages could go on."""
    with ArxivServer(ApiEmulator(ENTRIES, total=12)) as server:
        papers = list(make_api(server, fake).search("x"))
    assert len(papers) == 12 and sent(server, "start") == ["0", "10"]


def test_caller_stops_early_and_no_more_pages_are_fetched(server: ArxivServer, fake: FakeClock) -> None:
    """The fetch loop reads newest-first and stops at its last run; the next page must not be asked for."""
    since = datetime(2008, 1, 1, tzinfo=timezone.utc)
    newer = []
    for p in make_api(server, fake).search("cat:math.CO", sort_by="lastUpdatedDate"):
        if p.updated < since:
            break
        newer.append(p.id)
    assert newer == IDS[:6]
    assert len(server.requests) == 1


def test_pages_are_exposed_with_their_totals(server: ArxivServer, fake: FakeClock) -> None:
    pages = make_api(server, fake, page_size=20).pages("x")
    first = next(pages)
    assert first.total_results == 25 and first.start_index == 0 and len(first.entries) == 20
    assert len(server.requests) == 1


def test_a_paper_repeated_across_pages_is_yielded_once(fake: FakeClock) -> None:
    # Sorting by a date that moves while paging pushes the last paper of page 1 onto page 2 as well.
    shifted = ENTRIES[:10] + ENTRIES[9:24]
    with ArxivServer(ApiEmulator(shifted)) as server:
        papers = list(make_api(server, fake).search("x"))
    assert [p.id for p in papers] == IDS[:24]


def test_total(server: ArxivServer, fake: FakeClock) -> None:
    assert make_api(server, fake).total("cat:math.CO") == 25
    assert sent(server, "max_results") == ["1"]


def test_search_stops_at_the_api_limit_and_warns(fake: FakeClock) -> None:
    def endless(req):  # 40,000 results promised, every page full
        start = int(req.query["start"])
        return Reply(body=api_page(ENTRIES[:10], total=40_000, start=start, per_page=10))

    warnings: list[str] = []
    with ArxivServer(endless) as server:
        pages = list(make_api(server, fake, warn=warnings).pages("all:learning", start=MAX_RESULTS - 20))
    assert len(pages) == 2 and sent(server, "start") == ["29980", "29990"]
    assert len(warnings) == 1 and "30,000" in warnings[0] and "10,000 more" in warnings[0]


def test_a_real_recorded_page_served_verbatim(fake: FakeClock) -> None:
    with ArxivServer() as server:
        server.script(Reply(body=(ATOM / "arxivpy_2026_search_all_testing_s0_m10.xml").read_bytes()))
        papers = list(make_api(server, fake).search("all:testing", max_results=10, sort_by="relevance"))
    assert len(papers) == 10 and papers[0].id == "2202.12139"
    assert len(server.requests) == 1 and server.requests[0].query["sortBy"] == "relevance"


@pytest.mark.parametrize("kw", [{"sort_by": "date"}, {"sort_order": "newest"}])
def test_bad_sort_arguments(server: ArxivServer, fake: FakeClock, kw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        list(make_api(server, fake).search("x", **kw))


def test_page_size_is_bounded() -> None:
    client = PoliteClient("http://127.0.0.1:9")
    with pytest.raises(ValueError):
        ArxivAPI(client, page_size=2001)
    with pytest.raises(ValueError):
        ArxivAPI(client, page_size=0)
    client.close()


# ------------------------------------------------------------------------------------------ flaky answers


def test_empty_page_is_asked_again_then_succeeds(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(body=api_page([], total=25, start=0, per_page=10)))  # results promised, none given
    papers = list(make_api(server, fake).search("x"))
    assert [p.id for p in papers] == IDS
    assert sent(server, "start") == ["0", "0", "10", "20"]
    assert fake.sleeps == [1.0]  # one backoff before asking again


def test_empty_page_every_time_raises(fake: FakeClock) -> None:
    with ArxivServer(lambda req: Reply(body=api_page([], total=25))) as server:
        with pytest.raises(UnexpectedEmptyPageError, match="start=0.*totalResults is 25") as err:
            list(make_api(server, fake, retries=2).search("x"))
    assert len(server.requests) == 3 and fake.sleeps == [1.0, 2.0]
    assert err.value.url.startswith(server.url + "/api/query?")


def test_an_empty_result_is_not_retried(fake: FakeClock) -> None:
    with ArxivServer() as server:
        server.script(Reply(body=(ATOM / "arxivpy_2026_id_list_0000.0000_empty.xml").read_bytes()))
        assert list(make_api(server, fake).by_ids(["0000.0000"])) == []
    assert len(server.requests) == 1 and fake.sleeps == []


def test_429_with_retry_after_mid_paging(server: ArxivServer, fake: FakeClock) -> None:
    pages = make_api(server, fake).pages("x")
    next(pages)
    server.script(Reply(429, b"Rate exceeded.", {"Retry-After": "5"}, content_type="text/plain"))
    rest = list(pages)
    assert sum(len(p.entries) for p in rest) == 15
    assert sent(server, "start") == ["0", "10", "10", "20"]
    assert 5.0 in fake.sleeps  # the pacer waited what the server asked


def test_503_then_success(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(503, b"Service Unavailable", content_type="text/html"))
    assert len(list(make_api(server, fake).search("x"))) == 25
    assert fake.sleeps == [1.0]


def test_503_every_time_raises_rate_limited(fake: FakeClock) -> None:
    with ArxivServer(lambda req: Reply(503, b"busy")) as server:
        with pytest.raises(RateLimitedError):
            list(make_api(server, fake, retries=1).search("x"))


def test_timeout_then_success(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(200, api_page(ENTRIES[:10], total=25), delay=3.0))
    papers = list(make_api(server, fake, timeout=0.2).search("x"))
    assert [p.id for p in papers] == IDS
    assert sent(server, "start") == ["0", "0", "10", "20"]


# ------------------------------------------------------------------------------------------ errors


def test_error_entry_raises_with_the_api_message(server: ArxivServer, fake: FakeClock) -> None:
    with pytest.raises(ArxivAPIError, match="incorrect id format for abc") as err:
        list(make_api(server, fake).by_ids(["abc"]))
    assert "id_list=abc" in err.value.url


def test_recorded_http_400_error_feed(fake: FakeClock) -> None:
    with ArxivServer() as server:
        server.script(Reply(400, (ATOM / "arxivpy_2026_id_list_abc_error_http400.xml").read_bytes()))
        with pytest.raises(ArxivAPIError, match="incorrect id format for abc"):
            list(make_api(server, fake).by_ids(["abc"]))


def test_error_entry_with_http_200_also_raises(fake: FakeClock) -> None:
    with ArxivServer() as server:
        server.script(Reply(200, (ATOM / "arxivpy_2026_id_list_abc_error_http400.xml").read_bytes()))
        with pytest.raises(ArxivAPIError):
            list(make_api(server, fake).search("bad::query"))


def test_http_400_without_an_error_feed_is_an_http_error(fake: FakeClock) -> None:
    with ArxivServer() as server:
        server.script(Reply(400, b"<html>Bad Request</html>", content_type="text/html"))
        with pytest.raises(HTTPError, match="HTTP 400") as err:
            list(make_api(server, fake).search("x"))
    assert err.value.status == 400


def test_a_body_that_is_not_xml_is_asked_again_then_a_parse_error(fake: FakeClock) -> None:
    from paperscope.errors import MalformedError, ParseError

    cut = Reply(200, b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", content_type="text/xml")
    with ArxivServer() as server:
        server.script(cut, cut, cut)
        with pytest.raises(ParseError, match="failed after 3 attempts.*malformed XML") as err:
            list(make_api(server, fake).search("x"))
    assert isinstance(err.value, MalformedError) and err.value.url.startswith(server.url)
    assert len(server.requests) == 3


@pytest.mark.parametrize("drop", ["truncate", "mid-body"])
def test_a_200_cut_short_is_retried_like_a_5xx(server: ArxivServer, fake: FakeClock, drop: str) -> None:
    """A cut-off 200 (no Content-Length and XML that stops early, or fewer bytes than Content-Length)."""
    page = api_page(ENTRIES[:10], total=25, per_page=10)
    server.script(Reply(200, page, drop=drop))
    papers = list(make_api(server, fake).search("x"))
    assert [p.id for p in papers] == IDS
    assert sent(server, "start") == ["0", "0", "10", "20"]


def test_search_pages_hands_over_each_page_before_asking_for_the_next(server: ArxivServer,
                                                                       fake: FakeClock) -> None:
    """A later page failing must not take the finished pages with it: the caller keeps what arrived."""
    api = make_api(server, fake, retries=0)
    got: list[list[str]] = []
    server.script(*[Reply(200, api_page(ENTRIES[i:i + 10], total=25, start=i, per_page=10)) for i in (0, 10)],
                  Reply(503))
    with pytest.raises(RateLimitedError):
        for batch in api.search_pages("x"):
            got.append([p.id for p in batch])
            assert len(server.requests) == len(got)  # lazily: one request per page handed over
    assert got == [IDS[:10], IDS[10:20]]


def test_search_pages_drops_a_paper_seen_on_an_earlier_page(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(200, api_page(ENTRIES[:10], total=25, per_page=10)),
                  Reply(200, api_page(ENTRIES[9:19], total=25, start=10, per_page=10)))
    batches = list(make_api(server, fake).search_pages("x", max_results=20))
    assert [len(b) for b in batches] == [10, 9]
    assert len({p.id for b in batches for p in b}) == 19


# ------------------------------------------------------------------------------------------ by id


def test_by_ids_in_batches(server: ArxivServer, fake: FakeClock) -> None:
    wanted = IDS[::-1]  # any order
    papers = list(make_api(server, fake).by_ids(wanted, batch_size=10))
    assert [p.id for p in papers] == wanted
    lists = sent(server, "id_list")
    assert [len(x.split(",")) for x in lists] == [10, 10, 5]
    assert lists[0].split(",") == wanted[:10]
    assert sent(server, "max_results") == ["10", "10", "5"] and sent(server, "start") == ["0", "0", "0"]
    assert sent(server, "search_query") == ["", "", ""]
    assert "sortBy" not in server.requests[0].query


def test_by_ids_drops_duplicates_and_blanks_and_accepts_versions(server: ArxivServer, fake: FakeClock) -> None:
    papers = list(make_api(server, fake).by_ids([IDS[0], " ", IDS[0], IDS[1] + "v1", ""]))
    assert [p.id for p in papers] == IDS[:2]
    assert sent(server, "id_list") == [f"{IDS[0]},{IDS[1]}v1"]


def test_by_ids_of_nothing_asks_nothing(server: ArxivServer, fake: FakeClock) -> None:
    assert list(make_api(server, fake).by_ids([])) == []
    assert server.requests == []


def test_by_ids_unknown_ids_are_simply_missing(server: ArxivServer, fake: FakeClock) -> None:
    papers = list(make_api(server, fake).by_ids([IDS[3], "2501.99999"]))
    assert [p.id for p in papers] == [IDS[3]]
