"""`paperscope fetch` against a local arXiv that speaks the real API and announcement-feed formats."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from arxiv_server import ApiEmulator, ArxivServer, Reply, Request, Router, load_entries
from conftest import FIXTURES, make_library, pq

from paperscope.config import Config
from paperscope.service.ingest import fetch as run_fetch
from paperscope.sources.factory import Sources
from paperscope.models import Topic
from paperscope.query import parse_query
from paperscope.store.sqlite import SQLiteStore

ATOM = FIXTURES / "atom"
SEARCH = load_entries(ATOM / "api_25_real_records_newest_first.xml")  # newest last-updated first
ANNOUNCED = load_entries(ATOM / "api_announced_2025-10-13.xml")
WEEKDAY = (FIXTURES / "announce" / "cs.CL+cs.LG_2025-10-13.xml").read_bytes()
SATURDAY = (FIXTURES / "announce" / "cs.CL+cs.LG_2025-10-18_saturday_empty.xml").read_bytes()

BROAD = Topic("Everything", "the OR of OR and", [], 1)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


class FakeArxiv:
    """Search answers page over SEARCH; id_list answers come from the announced papers; the feed is swappable."""

    def __init__(self) -> None:
        self.feed = WEEKDAY
        self.fail_queries: set[str] = set()
        self.search = ApiEmulator(SEARCH)
        self.ids = ApiEmulator(ANNOUNCED)

    def api(self, req: Request) -> Reply:
        if req.query.get("search_query") in self.fail_queries:
            return Reply(503, b"busy")
        return (self.ids if req.query.get("id_list") else self.search)(req)

    def atom(self, req: Request) -> Reply:
        return Reply(body=self.feed)


@pytest.fixture
def arxiv() -> tuple[ArxivServer, FakeArxiv]:
    fake = FakeArxiv()
    with ArxivServer(Router({"/api/query": fake.api, "/atom": fake.atom})) as server:
        yield server, fake


def config(topics: list[Topic]) -> Config:
    return Config(None, {"arxiv_pace": 0.0, "http_retries": 1, "feed_categories": ["cs.CL", "cs.LG"]}, topics)


def sources(server: ArxivServer, cfg: Config):  # type: ignore[no-untyped-def]
    cfg.values.update(arxiv_api_url=server.url + "/api/query", arxiv_feed_url=server.url + "/atom")
    s = Sources(cfg)
    for client in (s.api.client, s.feed.client):
        client._sleep = lambda _s: None  # retries without waiting
    return s


def fetch(store: SQLiteStore, cfg: Config, srcs: Sources, *, now: datetime):  # type: ignore[no-untyped-def]
    lib = make_library(store, cfg, clock=lambda: now)
    lib.sources = srcs
    return run_fetch(lib, embed=False)


def test_first_run_takes_newest_then_reads_back_to_last_run(store: SQLiteStore, arxiv) -> None:  # type: ignore[no-untyped-def]
    server, fake = arxiv
    cfg = config([BROAD])
    rep = fetch(store, cfg, sources(server, cfg), now=utc(2008, 8, 1))
    searches = [r for r in server.requests if r.path == "/api/query" and r.query.get("search_query")]
    assert searches[0].query["search_query"] == parse_query(BROAD.query).to_arxiv()
    assert searches[0].query["sortBy"] == "lastUpdatedDate" and searches[0].query["sortOrder"] == "descending"
    # the announced papers came in by id_list, all nine, and the topic's newest one by search
    id_lists = [r.query["id_list"] for r in server.requests if r.query.get("id_list")]
    assert sum(len(x.split(",")) for x in id_lists) == 9
    assert rep.announced == 9 and not rep.announcement_empty
    assert store.count() == 9 + 1 and store.get_paper("0704.0002") is not None
    topic = rep.topics[0]
    assert topic.error == "" and topic.new >= 1 and topic.updated == 0

    # runs were missed; the next one reads back to the last success (minus a day of overlap): 0704.0002 again
    # and 0704.0011 (updated 2008-08-20), stopping at 0704.0008 (updated 2008-07-01, before the last run)
    fake.feed = SATURDAY
    server.requests.clear()
    rep2 = fetch(store, cfg, sources(server, cfg), now=utc(2009, 1, 1))
    t2 = rep2.topics[0]
    assert (t2.new, t2.updated, t2.unchanged) == (1, 0, 1)
    assert store.get_paper("0704.0011") is not None and store.get_paper("0704.0008") is None
    assert store.count() == 11
    assert rep2.announcement_empty and "announced nothing" not in t2.note  # it did find a new paper


def test_empty_announcement_is_said_not_no_papers(store: SQLiteStore, arxiv) -> None:  # type: ignore[no-untyped-def]
    server, fake = arxiv
    fake.feed = SATURDAY
    cfg = config([BROAD])
    fetch(store, cfg, sources(server, cfg), now=utc(2009, 1, 1))
    rep = fetch(store, cfg, sources(server, cfg), now=utc(2009, 1, 1))
    assert rep.announcement_empty and rep.announcement_date == "2025-10-18"
    t = rep.topics[0]
    assert (t.new, t.updated) == (0, 0)
    assert t.note == "arXiv announced nothing on 2025-10-18 (weekend or holiday)"


def test_one_failing_topic_keeps_its_checkpoint_and_spares_the_others(store: SQLiteStore, arxiv) -> None:  # type: ignore[no-untyped-def]
    server, fake = arxiv
    bad = Topic("Bad", "reward", [], 3)
    cfg = config([bad, BROAD])
    fake.fail_queries.add(parse_query(bad.query).to_arxiv())
    rep = fetch(store, cfg, sources(server, cfg), now=utc(2008, 8, 1))
    assert "503" in rep.topics[0].error and rep.topics[1].error == ""
    assert store.get_state("topic:Bad:last_success") is None
    assert store.get_state("topic:Everything:last_success") == "2008-08-01T00:00:00Z"
    assert not rep.ok


def test_followed_author_papers_come_with_fetch(store: SQLiteStore, arxiv) -> None:  # type: ignore[no-untyped-def]
    server, fake = arxiv
    cfg = config([])
    first = SQLiteStore(store.path)
    fetch(first, config([BROAD]), sources(server, cfg), now=utc(2008, 8, 1))
    newest = store.newest_matching(pq('"the"'), 1)[0]
    name = newest.authors[0].name
    from paperscope.service.people import follow

    follow(make_library(store, cfg, clock=lambda: utc(2008, 8, 1)), name)
    server.requests.clear()
    rep = fetch(store, cfg, sources(server, cfg), now=utc(2008, 8, 2))
    assert len(rep.authors) == 1 and rep.authors[0].error == ""
    q = [r.query["search_query"] for r in server.requests if r.query.get("search_query")]
    assert q and q[0].startswith("au:")
    first.close()


def test_fetch_verb_end_to_end(tmp_path, arxiv) -> None:  # type: ignore[no-untyped-def]
    """The CLI verb with a config pointing at the local arXiv: per-topic counts, then the digest shows them."""
    import json

    from click.testing import CliRunner

    from paperscope.cli import main

    server, fake = arxiv
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'''arxiv_api_url = "{server.url}/api/query"
arxiv_feed_url = "{server.url}/atom"
arxiv_pace = 0.0
http_retries = 0
feed_categories = ["cs.CL", "cs.LG"]

[[topics]]
name = "Everything"
query = "the OR of OR and"
max_papers = 1
''', encoding="utf-8")
    db = str(tmp_path / "lib.db")
    res = CliRunner().invoke(main, ["--db", db, "--config", str(cfg), "fetch", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["announced"] == 9 and out["topics"][0]["new"] >= 1 and out["topics"][0]["error"] == ""
    res = CliRunner().invoke(main, ["--db", db, "--config", str(cfg), "digest", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["sections"][0]["papers"]
    with SQLiteStore(db) as s:  # fetch embedded what it brought in
        assert s.active_model() and s.count_to_embed(s.active_model()) == 0


def test_unreachable_arxiv_ends_the_fetch_fast_with_one_line(store: SQLiteStore) -> None:
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    cfg = Config(None, {"arxiv_pace": 0.0, "feed_categories": ["cs.CL"], "arxiv_api_url": f"http://127.0.0.1:{port}/api",
                        "arxiv_feed_url": f"http://127.0.0.1:{port}/atom"}, [BROAD, Topic("Two", "graph", [], 5)])
    lib = make_library(store, cfg, clock=lambda: utc(2026, 1, 1))
    t = time.monotonic()
    rep = run_fetch(lib, embed=False)
    assert time.monotonic() - t < 15
    assert rep.unreachable and not rep.ok and rep.topics == []
    assert len(rep.errors) == 1 and "cannot be reached" in rep.errors[0]


def test_a_failing_later_page_keeps_the_pages_before_it(store: SQLiteStore, arxiv) -> None:  # type: ignore[no-untyped-def]
    server, fake = arxiv
    fake.feed = SATURDAY
    topic = Topic("Paged", "the OR of OR and", [], 25)
    cfg = config([topic])
    srcs = sources(server, cfg)
    srcs.api.page_size = 10  # three pages; the third one fails
    calls = {"n": 0}
    inner = fake.search

    def failing(req):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return Reply(503, b"busy") if calls["n"] >= 3 else inner(req)

    fake.search = failing
    rep = fetch(store, cfg, srcs, now=utc(2008, 8, 1))
    assert rep.topics[0].error and store.count() == 20  # the two finished pages are stored
    assert store.get_state("topic:Paged:last_success") is None  # and the checkpoint did not move
