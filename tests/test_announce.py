"""The announcement feed (rss.arxiv.org/atom/...) against a local server, and on to the API by id."""

from __future__ import annotations

import logging
from itertools import pairwise
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from arxiv_server import ApiEmulator, ArxivServer, FakeClock, Reply, Router, load_entries

from paperscope.errors import ArxivAPIError, ConfigError, HTTPError, ParseError
from paperscope.sources.announce import Announcement, AnnouncementFeed, merge, parse_announcement
from paperscope.sources.arxiv_api import ArxivAPI
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures"
MONDAY = (FIXTURES / "announce" / "cs.CL+cs.LG_2025-10-13.xml").read_bytes()
SATURDAY = (FIXTURES / "announce" / "cs.CL+cs.LG_2025-10-18_saturday_empty.xml").read_bytes()
BAD_CATEGORY = (FIXTURES / "announce" / "error_bad_category_http400.xml").read_bytes()
ANNOUNCED_API = load_entries(FIXTURES / "atom" / "api_announced_2025-10-13.xml")

NEW = ["2510.08588", "2510.08592", "2510.08593", "2510.08595", "2510.08596"]
CROSS = ["1812.06145", "1904.11093"]
REPLACED = ["2507.08865", "2412.11407"]


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(fake: FakeClock) -> Iterator[ArxivServer]:
    with ArxivServer(clock=fake.clock) as s:
        yield s


def client(base: str, fake: FakeClock, pacer: Pacer | None = None) -> PoliteClient:
    return PoliteClient(base, pacer=pacer or Pacer(0.0, clock=fake.clock, sleep=fake.sleep), sleep=fake.sleep,
                        retry=RetryPolicy(retries=1, backoff=1.0, jitter=0.0))


def feed(server: ArxivServer, fake: FakeClock, **kw: object) -> AnnouncementFeed:
    return AnnouncementFeed(client(server.url + "/atom", fake), **kw)  # type: ignore[arg-type]


def test_a_weekday_feed(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(body=MONDAY))
    ann = feed(server, fake).fetch(["cs.CL", "cs.LG"])
    assert server.requests[0].path == "/atom/cs.CL+cs.LG"
    assert ann.date == date(2025, 10, 13) and not ann.empty
    assert ann.new_ids == NEW and ann.cross_ids == CROSS and ann.replaced_ids == REPLACED
    assert ann.ids == NEW + CROSS + REPLACED
    assert ann.versions["2507.08865"] == 2 and ann.versions["2510.08588"] == 1
    assert ann.categories == ["cs.CL", "cs.LG"] and ann.entries == 9


def test_a_saturday_feed_is_empty_not_an_error(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(body=SATURDAY))
    ann = feed(server, fake).fetch(["cs.CL", "cs.LG"])
    assert ann.empty and ann.ids == []
    assert ann.date == date(2025, 10, 18)  # from the feed's own timestamp, in arXiv's (Eastern) day


def test_feed_date_falls_back_to_eastern_time() -> None:
    # Generated at 03:30 UTC = 23:30 the evening before in New York (EDT).
    data = SATURDAY.replace(b"2025-10-18T04:00:03.201455+00:00", b"2025-10-18T03:30:00+00:00")
    assert parse_announcement(data).date == date(2025, 10, 17)


def test_a_bad_category_error_feed(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(400, BAD_CATEGORY))
    with pytest.raises(ArxivAPIError, match="Invalid archive or category: cs.XX") as err:
        feed(server, fake).fetch(["cs.XX"])
    assert err.value.url == server.url + "/atom/cs.XX"


def test_an_http_error_without_a_feed(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(404, b"Not Found", content_type="text/plain"))
    with pytest.raises(HTTPError, match="HTTP 404"):
        feed(server, fake).fetch(["cs.CL"])


def test_a_page_that_is_not_a_feed(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(200, b"<html><body>maintenance</body></html>", content_type="text/html"))
    with pytest.raises(ParseError, match="not an Atom feed"):
        feed(server, fake).fetch(["cs.CL"])


@pytest.mark.parametrize("cats, message", [([], "no arXiv categories"), (["cs.CL", "I.2.7"], "I.2.7")])
def test_categories_are_checked_before_asking(server: ArxivServer, fake: FakeClock, cats: list[str],
                                               message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        feed(server, fake).fetch(cats)
    assert server.requests == []


def test_a_feed_at_the_limit_is_read_again_per_category(server: ArxivServer, fake: FakeClock) -> None:
    """arXiv cuts a feed at 2,000 entries; here the limit is 9 so the 9-entry fixture hits it."""
    server.responder = Router({
        "/atom/cs.CL+cs.LG": lambda req: Reply(body=MONDAY),
        "/atom/cs.CL": lambda req: Reply(body=MONDAY),
        "/atom/cs.LG": lambda req: Reply(body=SATURDAY),
    })
    warnings: list[str] = []
    ann = feed(server, fake, limit=9, warn=warnings.append).fetch(["cs.CL", "cs.LG"])
    assert [r.path for r in server.requests] == ["/atom/cs.CL+cs.LG", "/atom/cs.CL", "/atom/cs.LG"]
    assert ann.ids == NEW + CROSS + REPLACED and not ann.empty and ann.date == date(2025, 10, 13)
    assert len(warnings) == 1 and "cs.CL" in warnings[0]  # cs.CL alone is still at the limit


def test_merge_keeps_the_most_telling_kind() -> None:
    a = Announcement(date(2025, 10, 13), new_ids=["1"], cross_ids=["2"], empty=False, versions={"1": 1, "2": 1})
    b = Announcement(date(2025, 10, 13), cross_ids=["1"], replaced_ids=["2", "3"], empty=False, versions={"3": 4})
    m = merge([a, b], ["x", "y"])
    assert (m.new_ids, m.cross_ids, m.replaced_ids) == (["1"], ["2"], ["3"])
    assert m.versions == {"1": 1, "2": 1, "3": 4}


def test_announce_type_read_from_the_summary_when_the_element_is_missing() -> None:
    data = MONDAY.replace(b"    <arxiv:announce_type>replace-cross</arxiv:announce_type>\n", b"")
    data = data.replace(b"    <arxiv:announce_type>new</arxiv:announce_type>\n", b"")
    assert data.count(b"<arxiv:announce_type>") == 3  # 5 new and 1 replace-cross lost their element
    ann = parse_announcement(data)
    assert ann.new_ids == NEW and ann.replaced_ids == REPLACED


def test_an_unknown_announce_type_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    data = MONDAY.replace(b"<arxiv:announce_type>cross</arxiv:announce_type>",
                          b"<arxiv:announce_type>surprise</arxiv:announce_type>", 1)
    with caplog.at_level(logging.WARNING):
        ann = parse_announcement(data, "http://feed")
    assert ann.cross_ids == CROSS[1:]
    assert "surprise" in caplog.text


def test_announced_ids_fetched_by_id_through_one_pace(fake: FakeClock) -> None:
    """The fetch flow: the feed gives ids, the API gives their metadata; both share arXiv's 3-second pace."""
    api_server = ApiEmulator(ANNOUNCED_API)
    router = Router({"/atom/": lambda req: Reply(body=MONDAY), "/api/query": api_server})
    pacer = Pacer(3.0, clock=fake.clock, sleep=fake.sleep)
    with ArxivServer(router, clock=fake.clock) as server:
        ann = AnnouncementFeed(client(server.url + "/atom", fake, pacer)).fetch(["cs.CL", "cs.LG"])
        api = ArxivAPI(client(server.url + "/api/query", fake, pacer))
        papers = list(api.by_ids(ann.ids, batch_size=5))
    assert [p.id for p in papers] == ann.ids
    assert papers[0].title.startswith("Enhancing Biomedical Named Entity Recognition")
    assert [r.path for r in server.requests] == ["/atom/cs.CL+cs.LG", "/api/query", "/api/query"]
    times = [r.at for r in server.requests]
    assert all(b - a >= 3.0 for a, b in pairwise(times))
