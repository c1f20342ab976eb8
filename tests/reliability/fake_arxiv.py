"""A fake arXiv on 127.0.0.1 that misbehaves on purpose: API, announcement feed and OAI-PMH in one server,
with faults injected at seeded rates.

    from fake_arxiv import FakeArxiv, FaultPlan

    plan = FaultPlan(seed=7, rate=0.3)               # about 30 % of requests get a fault
    with FakeArxiv(plan) as arxiv:                   # start() / stop() work too
        arxiv.api_url, arxiv.feed_url, arxiv.oai_url # endpoints for PoliteClient / make_sources
        ...
        arxiv.faults                                 # [Fault(at, path, kind), ...] what was injected, in order
        arxiv.requests                               # every request (arxiv_server.Request), arrival times too

Faults (`FaultPlan.kinds`): "429" (with Retry-After), "503" (with Retry-After), "timeout" (answers after
`timeout_delay` seconds: give the client a shorter timeout), "reset" (TCP reset, no answer), "drop" (headers
and half the body, short of its Content-Length), "truncate" (a 200 without Content-Length whose XML stops
half way: only the parser can tell), "empty" (an API page with no entries although totalResults promises
more; API searches only). No more than `max_in_a_row` requests in a row get a fault, so a client with that
many retries always gets through: what the tests then check is that nothing is lost or doubled on the way.

Content: the API pages over 25 real recorded entries (and answers id_list from them plus the 9 announced
papers), the feed is the recorded cs.CL+cs.LG announcement of 2025-10-13, OAI-PMH serves three arXivRaw
pages chained by resumption tokens. `FakeArxiv.clean()` is the same server without faults.

As a pytest fixture: `fake_arxiv` (no faults) from this module, or build one per seed in the test.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from arxiv_server import ApiEmulator, ArxivServer, Reply, Request, Router, api_page, load_entries  # noqa: E402
from oai_server import PagedOAI  # noqa: E402

FIXTURES = TESTS / "fixtures"
SEARCH = load_entries(FIXTURES / "atom" / "api_25_real_records_newest_first.xml")
ANNOUNCED = load_entries(FIXTURES / "atom" / "api_announced_2025-10-13.xml")
FEED = (FIXTURES / "announce" / "cs.CL+cs.LG_2025-10-13.xml").read_bytes()
OAI_PAGES = [(FIXTURES / "oai" / f"arxivraw_page{i}.xml").read_bytes() for i in (1, 2, 3)]
KINDS = ("429", "503", "timeout", "reset", "drop", "truncate", "empty")


@dataclass
class FaultPlan:
    """Which requests fail, and how: each request draws from `random.Random(seed)`."""

    seed: int = 0
    rate: float = 0.3  # chance that a request gets a fault
    kinds: Sequence[str] = KINDS
    retry_after: int = 1  # seconds, on 429 and 503 answers
    timeout_delay: float = 1.0  # how late a "timeout" answer comes
    max_in_a_row: int = 3

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)} (known: {KINDS})")


@dataclass(frozen=True)
class Fault:
    """One injected fault: when its request arrived (the server's clock), where, and what kind."""

    at: float
    path: str
    kind: str


class _Faults:
    def __init__(self, plan: FaultPlan | None) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed if plan else 0)
        self.in_a_row = 0
        self.lock = threading.Lock()

    def draw(self, path: str, is_search: bool) -> str:
        plan = self.plan
        if plan is None or plan.rate <= 0:
            return ""
        with self.lock:
            if self.in_a_row >= plan.max_in_a_row or self.rng.random() >= plan.rate:
                self.in_a_row = 0
                return ""
            kinds = [k for k in plan.kinds if k != "empty" or is_search]
            if not kinds:
                return ""
            self.in_a_row += 1
            return self.rng.choice(kinds)


class FakeArxiv:
    """One local server for the three arXiv interfaces; see the module docstring."""

    def __init__(self, plan: FaultPlan | None = None, *, search: Sequence[bytes] = SEARCH,
                 announced: Sequence[bytes] = ANNOUNCED, feed: bytes = FEED,
                 oai_pages: Sequence[bytes] = OAI_PAGES) -> None:
        self.plan = plan
        self._faults = _Faults(plan)
        self.faults: list[Fault] = []
        self._search = ApiEmulator(search)
        self._ids = ApiEmulator([*search, *announced])
        self._feed = feed
        self._oai = PagedOAI(list(oai_pages))
        self.server = ArxivServer(self._respond)

    @classmethod
    def clean(cls) -> FakeArxiv:
        return cls(None)

    # ------------------------------------------------------------------ start / stop

    def start(self) -> FakeArxiv:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.close()

    def __enter__(self) -> FakeArxiv:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api_url(self) -> str:
        return self.url + "/api/query"

    @property
    def feed_url(self) -> str:
        return self.url + "/atom"

    @property
    def oai_url(self) -> str:
        return self.url + "/oai"

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    # ------------------------------------------------------------------ answers

    def _respond(self, req: Request) -> Reply:
        routes = Router({"/api/query": self._api, "/atom": self._atom, "/oai": self._oai_reply})
        is_search = req.path.startswith("/api/query") and not req.query.get("id_list")
        kind = self._faults.draw(req.path, is_search)
        reply = routes(req)
        if not kind or reply.status != 200:
            return reply
        self.faults.append(Fault(req.at, req.path, kind))
        wait = {"Retry-After": str(self.plan.retry_after)} if self.plan else {}
        if kind == "429":
            return Reply(429, b"Too Many Requests", wait, content_type="text/plain")
        if kind == "503":
            return Reply(503, b"Service Unavailable", wait, content_type="text/plain")
        if kind == "timeout":
            return Reply(reply.status, reply.body, reply.headers, delay=self.plan.timeout_delay if self.plan else 1.0,
                         content_type=reply.content_type)
        if kind == "reset":
            return Reply(drop="reset")
        if kind == "drop":
            return Reply(reply.status, reply.body, reply.headers, drop="mid-body", content_type=reply.content_type)
        if kind == "truncate":
            return Reply(reply.status, reply.body, reply.headers, drop="truncate", content_type=reply.content_type)
        # "empty": a page that holds nothing although totalResults says there is more (a known API flake)
        start = int(req.query.get("start") or 0)
        return Reply(body=api_page([], total=self._search.total, start=start,
                                   per_page=int(req.query.get("max_results") or 10)))

    def _api(self, req: Request) -> Reply:
        return (self._ids if req.query.get("id_list") else self._search)(req)

    def _atom(self, req: Request) -> Reply:
        return Reply(body=self._feed)

    def _oai_reply(self, req: Request) -> Reply:
        status, headers, body = self._oai(dict(req.query))
        return Reply(status, body, headers, content_type="text/xml; charset=utf-8")


@pytest.fixture
def fake_arxiv() -> Iterator[FakeArxiv]:
    """A started fake arXiv without faults."""
    with FakeArxiv() as arxiv:
        yield arxiv
