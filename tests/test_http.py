"""The polite HTTP client against a real local server: pacing, Retry-After, backoff, timeouts, drops, give-up."""

from __future__ import annotations

import email.utils
import random
import time
from itertools import pairwise

import httpx
import pytest
from arxiv_server import ArxivServer, FakeClock, Reply

from paperscope.errors import HTTPError, RateLimitedError
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy, check_status, user_agent


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(fake: FakeClock):
    with ArxivServer(clock=fake.clock) as s:
        yield s


def make_client(server: ArxivServer, fake: FakeClock, *, pace: float = 0.0, retries: int = 3,
                timeout: float = 5.0, contact: str = "", pacer: Pacer | None = None) -> PoliteClient:
    return PoliteClient(
        server.url,
        pacer=pacer or Pacer(pace, clock=fake.clock, sleep=fake.sleep),
        contact=contact,
        timeout=timeout,
        retry=RetryPolicy(retries=retries, backoff=1.0, max_backoff=60.0, jitter=0.5),
        sleep=fake.sleep,
        rng=random.Random(7),
    )


def ok(body: bytes = b"ok") -> Reply:
    return Reply(200, body, content_type="text/plain")


def gaps(server: ArxivServer) -> list[float]:
    return [b.at - a.at for a, b in pairwise(server.requests)]


# ------------------------------------------------------------------------------------------------ pacing


def test_requests_are_spaced_by_the_pace(server: ArxivServer, fake: FakeClock) -> None:
    server.script(*(ok() for _ in range(4)))
    with make_client(server, fake, pace=3.0) as client:
        for _ in range(4):
            assert client.get("api/query", params={"q": "x"}).status_code == 200
    assert len(server.requests) == 4
    assert all(g >= 3.0 for g in gaps(server)), gaps(server)
    assert fake.sleeps == [3.0, 3.0, 3.0]  # the first request does not wait


def test_no_wait_when_the_pace_has_already_passed(server: ArxivServer, fake: FakeClock) -> None:
    server.script(ok(), ok())
    with make_client(server, fake, pace=3.0) as client:
        client.get("a")
        fake.now += 10.0  # the caller spent longer than the pace on its own work
        client.get("b")
    assert fake.sleeps == []


def test_one_pacer_spaces_requests_of_several_clients(server: ArxivServer, fake: FakeClock) -> None:
    """arXiv's 3 seconds are per process: the API client and the feed client share one Pacer."""
    shared = Pacer(3.0, clock=fake.clock, sleep=fake.sleep)
    server.script(*(ok() for _ in range(4)))
    with make_client(server, fake, pacer=shared) as api, make_client(server, fake, pacer=shared) as feed:
        api.get("api/query")
        feed.get("atom/cs.CL")
        api.get("api/query")
        feed.get("atom/cs.CL")
    assert all(g >= 3.0 for g in gaps(server)), gaps(server)


# ------------------------------------------------------------------------------------------------ retries


def test_429_with_retry_after_seconds_waits_that_long(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(429, b"slow down", {"Retry-After": "7"}, content_type="text/plain"), ok(b"done"))
    with make_client(server, fake) as client:
        resp = client.get("api/query", params={"search_query": "cat:cs.CL"})
    assert resp.status_code == 200 and resp.content == b"done"
    assert len(server.requests) == 2
    assert gaps(server) == [7.0]


def test_429_with_retry_after_http_date(server: ArxivServer, fake: FakeClock) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.script(Reply(429, b"", {"Retry-After": when}), ok())
    with make_client(server, fake) as client:
        assert client.get("api/query").status_code == 200
    (gap,) = gaps(server)
    assert 28.0 <= gap <= 31.0  # the date has one-second resolution


def test_503_then_success_backs_off(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(503, b"busy"), ok())
    with make_client(server, fake) as client:
        assert client.get("api/query").status_code == 200
    (gap,) = gaps(server)
    assert 1.0 <= gap <= 1.5  # backoff 1 s for the first retry, plus up to 50 % jitter


def test_backoff_grows_with_each_retry(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(500), Reply(502), Reply(504), ok())
    with make_client(server, fake, retries=3) as client:
        assert client.get("x").status_code == 200
    g = gaps(server)
    assert len(g) == 3
    assert 1.0 <= g[0] <= 1.5 and 2.0 <= g[1] <= 3.0 and 4.0 <= g[2] <= 6.0


def test_timeout_then_success(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(200, b"too late", delay=3.0), ok(b"in time"))
    with make_client(server, fake, timeout=0.2) as client:
        resp = client.get("api/query")
    assert resp.content == b"in time"
    assert len(server.requests) == 2


@pytest.mark.parametrize("drop", ["before", "mid-body"])
def test_dropped_connection_then_success(server: ArxivServer, fake: FakeClock, drop: str) -> None:
    server.script(Reply(200, b"x" * 2000, drop=drop), ok(b"whole"))
    with make_client(server, fake) as client:
        assert client.get("api/query").content == b"whole"
    assert len(server.requests) == 2


def test_4xx_is_returned_not_retried(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(400, b"bad query"), ok())
    with make_client(server, fake) as client:
        assert client.get("api/query").status_code == 400
    assert len(server.requests) == 1


# ------------------------------------------------------------------------------------------------ giving up


def test_429_every_time_raises_rate_limited_naming_the_url(server: ArxivServer, fake: FakeClock) -> None:
    server.responder = lambda req: Reply(429, b"no")
    with make_client(server, fake, retries=2) as client, pytest.raises(RateLimitedError) as err:
        client.get("api/query", params={"search_query": "cat:cs.CL", "start": 0})
    assert len(server.requests) == 3
    assert err.value.status == 429
    assert err.value.url.startswith(server.url + "/api/query?")
    assert "search_query=cat%3Acs.CL" in str(err.value) and "3 attempts" in str(err.value)


def test_500_every_time_raises_http_error_not_rate_limited(server: ArxivServer, fake: FakeClock) -> None:
    server.responder = lambda req: Reply(500, b"boom")
    with make_client(server, fake, retries=1) as client, pytest.raises(HTTPError) as err:
        client.get("api/query")
    assert not isinstance(err.value, RateLimitedError)
    assert err.value.status == 500 and len(server.requests) == 2


def test_timeouts_every_time_raise_http_error_with_the_full_url(server: ArxivServer, fake: FakeClock) -> None:
    server.responder = lambda req: Reply(200, b"late", delay=3.0)
    with make_client(server, fake, retries=1, timeout=0.2) as client, pytest.raises(HTTPError) as err:
        client.get("api/query", params={"id_list": "2502.20780"})
    assert "timed out" in str(err.value)
    assert err.value.url == server.url + "/api/query?id_list=2502.20780"  # query included
    assert len(server.requests) == 2


def test_dropped_every_time_raises_http_error(server: ArxivServer, fake: FakeClock) -> None:
    server.responder = lambda req: Reply(200, b"", drop="before")
    with make_client(server, fake, retries=1) as client, pytest.raises(HTTPError, match="connection failed"):
        client.get("api/query")


def _closed_port_url() -> str:
    with ArxivServer() as s:
        return s.url  # a port that was free a moment ago and is closed now


def _clocked_client(url: str, fake: FakeClock, *, pace: float = 3.0, retries: int = 4,
                    transport: httpx.BaseTransport | None = None) -> PoliteClient:
    """The settings of a real run (pace 3 s, 4 retries, 2 s backoff) on a fake clock that nothing waits for."""
    return PoliteClient(url, pacer=Pacer(pace, clock=fake.clock, sleep=fake.sleep), retry=RetryPolicy(retries=retries),
                        sleep=fake.sleep, clock=fake.clock, transport=transport, rng=random.Random(3))


def test_refused_connection_fails_fast_with_unreachable_error(fake: FakeClock) -> None:
    """Issue #11: offline, a fetch took 316 s to fail. A refused connection ends within 10 s, in one line."""
    from paperscope.errors import UnreachableError

    url = _closed_port_url()
    start = fake.now
    with _clocked_client(url, fake) as client, pytest.raises(UnreachableError, match="unreachable") as err:
        client.get("api/query")
    assert fake.now - start <= 10.0
    message = str(err.value)
    assert url in message and "refused" in message.lower() and "\n" not in message
    assert isinstance(err.value, HTTPError)  # callers that stop on HTTPError keep working


def test_after_unreachable_later_requests_fail_at_once_without_sending(fake: FakeClock) -> None:
    from paperscope.errors import UnreachableError

    calls: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    client = _clocked_client("https://export.arxiv.org/api/query", fake, transport=httpx.MockTransport(refuse))
    start = fake.now
    with client:
        for _ in range(8):  # eight topics, as in the run of the issue
            with pytest.raises(UnreachableError, match="export.arxiv.org"):
                client.get("", params={"search_query": "all:x"})
    assert fake.now - start <= 10.0
    assert 1 <= len(calls) <= 3  # a few quick tries for the first request, none for the seven after it


def test_unreachable_is_tried_again_once_the_memo_expires(fake: FakeClock) -> None:
    from paperscope.errors import UnreachableError

    up = {"ok": False}

    def handler(request: httpx.Request) -> httpx.Response:
        if not up["ok"]:
            raise httpx.ConnectError("Connection refused", request=request)
        return httpx.Response(200, text="back")

    with _clocked_client("http://127.0.0.1:9/x", fake, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(UnreachableError):
            client.get()
        up["ok"] = True
        fake.sleep(31.0)
        assert client.get().text == "back"


def test_slow_answers_keep_the_full_backoff(server: ArxivServer, fake: FakeClock) -> None:
    """Only a connection that cannot be made fails fast; 5xx answers keep every retry."""
    server.script(Reply(503), Reply(503), Reply(503), Reply(503), ok())
    with make_client(server, fake, retries=4) as client:
        assert client.get("api/query").status_code == 200
    assert len(server.requests) == 5 and sum(fake.sleeps) > 10.0


def test_retry_after_longer_than_max_backoff_gives_up_at_once(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(429, b"", {"Retry-After": "3600"}), ok())
    with make_client(server, fake) as client, pytest.raises(RateLimitedError, match="3600s") as err:
        client.get("api/query")
    assert len(server.requests) == 1 and fake.sleeps == []
    assert err.value.url.startswith(server.url)


# ------------------------------------------------------------------------------------------------ headers, status


def test_user_agent_names_the_tool_and_the_contact(server: ArxivServer, fake: FakeClock) -> None:
    server.script(ok())
    with make_client(server, fake, contact="radar@example.org") as client:
        client.get("api/query")
    ua = server.requests[0].headers["User-Agent"]
    assert "paperscope" in ua and "radar@example.org" in ua
    assert "mailto" not in user_agent()


def test_check_status_names_url_and_status(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(404, b"nope"), ok())
    with make_client(server, fake) as client:
        resp = client.get("atom/cs.XX")
        with pytest.raises(HTTPError, match="HTTP 404") as err:
            check_status(resp)
        assert err.value.status == 404 and err.value.url == server.url + "/atom/cs.XX"
        assert check_status(client.get("fine")).status_code == 200


def test_retry_empty_sleeps_then_gives_up(fake: FakeClock) -> None:
    client = PoliteClient("http://127.0.0.1:9", retry=RetryPolicy(retries=2, backoff=1.0, jitter=0.0),
                          sleep=fake.sleep, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with client:
        assert client.retry_empty(0) and client.retry_empty(1)
        assert not client.retry_empty(2)
    assert fake.sleeps == [1.0, 2.0]


# ------------------------------------------------------------------------------------------ cut-off bodies


def test_a_body_shorter_than_its_content_length_is_retried(fake: FakeClock) -> None:
    bodies = [b"half", b"whole body"]

    def handler(request: httpx.Request) -> httpx.Response:
        body = bodies.pop(0)
        return httpx.Response(200, content=body, headers={"Content-Length": "10"})

    client = PoliteClient("http://127.0.0.1:9", pacer=Pacer(0.0, clock=fake.clock, sleep=fake.sleep),
                          retry=RetryPolicy(retries=2), sleep=fake.sleep, transport=httpx.MockTransport(handler))
    with client:
        assert client.get().content == b"whole body"
    assert bodies == [] and len(fake.sleeps) == 1


def test_get_parsed_asks_again_while_the_body_does_not_parse(server: ArxivServer, fake: FakeClock) -> None:
    from paperscope.errors import MalformedError
    from paperscope.sources.atom import parse_feed

    feed = b"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title></feed>"
    server.script(Reply(200, feed, drop="truncate"), Reply(200, feed[:20]), ok(feed))
    with make_client(server, fake) as client:
        parsed = client.get_parsed("api/query", lambda r: parse_feed(r.content, str(r.request.url)))
    assert parsed.title == "t" and len(server.requests) == 3
    server.script(*[Reply(200, feed[:20])] * 4)
    with make_client(server, fake) as client, pytest.raises(MalformedError, match="after 4 attempts"):
        client.get_parsed("api/query", lambda r: parse_feed(r.content, str(r.request.url)))


def test_a_reset_connection_is_retried(server: ArxivServer, fake: FakeClock) -> None:
    server.script(Reply(drop="reset"), ok())
    with make_client(server, fake) as client:
        assert client.get("api/query").status_code == 200
    assert len(server.requests) == 2


# ------------------------------------------------------------------------------------------ the pacer


class LateClock(FakeClock):
    """A clock whose every other sleep overruns by `late` seconds, as under CPU load."""

    def __init__(self, late: float) -> None:
        super().__init__()
        self.late = late
        self.count = 0

    def sleep(self, seconds: float) -> None:
        self.count += 1
        super().sleep(seconds + (self.late if self.count % 2 else 0.0))


def test_a_late_request_does_not_shorten_the_next_gap() -> None:
    """Issue #10.9: the next slot was booked from the planned time, so a late start shortened the next gap."""
    clock = LateClock(late=0.035)
    pacer = Pacer(3.0, clock=clock.clock, sleep=clock.sleep)
    starts = []
    for _ in range(6):
        pacer.wait()
        starts.append(clock.now)
        clock.now += 1.0  # the request itself takes a second
    assert min(b - a for a, b in pairwise(starts)) >= 3.0


def test_the_gap_counts_from_the_actual_send(server: ArxivServer, fake: FakeClock) -> None:
    """Time between the pacer's slot and the bytes going out (here 0.5 s) is not taken off the next gap."""
    pacer = Pacer(3.0, clock=fake.clock, sleep=fake.sleep)
    sends: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sends.append(fake.now)
        return httpx.Response(200)

    client = PoliteClient("http://127.0.0.1:9", pacer=pacer, sleep=fake.sleep,
                          transport=httpx.MockTransport(handler))
    original = pacer.wait

    def slow_wait(min_interval: float = 0.0) -> None:
        original(min_interval)
        fake.now += 0.5  # scheduled, but the send happens half a second later

    pacer.wait = slow_wait  # type: ignore[method-assign]
    with client:
        for _ in range(4):
            client.get()
    assert min(b - a for a, b in pairwise(sends)) >= 3.0


def test_requests_to_arxiv_are_never_paced_under_three_seconds(fake: FakeClock) -> None:
    sends: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sends.append(fake.now)
        return httpx.Response(200)

    pacer = Pacer(0.0, clock=fake.clock, sleep=fake.sleep)  # a pace of 0 is for local servers only
    with PoliteClient("https://export.arxiv.org/api/query", pacer=pacer, sleep=fake.sleep,
                      transport=httpx.MockTransport(handler)) as client:
        for _ in range(3):
            client.get()
    assert [b - a for a, b in pairwise(sends)] == [3.0, 3.0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_a_pacer_refuses_a_pace_that_is_not_a_finite_non_negative_number(bad: float) -> None:
    with pytest.raises(ValueError, match="pace"):
        Pacer(bad)
