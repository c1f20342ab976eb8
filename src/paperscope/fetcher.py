"""`paperscope fetch`: bring in what is new or updated for every topic since the last successful run.

Two roads into arXiv, both paced by one Pacer:
- the announcement feed lists the ids arXiv announced today (new, cross-listed, replaced); their metadata
  comes by id_list. This does not depend on the API's search index, which lags announcements.
- an API search per topic, newest last-updated first, read back to the last successful run (minus a day
  of overlap). A missed day is therefore backfilled on the next run; the first run takes the newest
  `max_papers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from paperscope.config import Config
from paperscope.errors import PaperscopeError
from paperscope.models import UTC, Topic, UpsertStats
from paperscope.store.sqlite import SQLiteStore, iso

OVERLAP = timedelta(days=1)
MAX_BACKFILL = 30_000


@dataclass(slots=True)
class Sources:
    """The arXiv sources a fetch uses; tests build them against a local server."""

    api: Any  # paperscope.sources.arxiv_api.ArxivAPI
    feed: Any | None  # paperscope.sources.announce.AnnouncementFeed

    def close(self) -> None:
        for s in (self.api, self.feed):
            client = getattr(s, "client", None)
            if client is not None:
                client.close()


def make_sources(config: Config, *, transport: httpx.BaseTransport | None = None,
                 api_url: str | None = None, feed_url: str | None = None) -> Sources:
    """arXiv API and announcement feed sharing one pace, as the config says."""
    from paperscope.sources.announce import AnnouncementFeed
    from paperscope.sources.arxiv_api import ArxivAPI
    from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy

    pacer = Pacer(config.arxiv_pace)
    retry = RetryPolicy(retries=config.http_retries)
    common = dict(pacer=pacer, contact=config.contact, transport=transport, timeout=config.http_timeout, retry=retry)
    api = ArxivAPI(PoliteClient(api_url or config.arxiv_api_url, **common))  # type: ignore[arg-type]
    feed = AnnouncementFeed(PoliteClient(feed_url or config.arxiv_feed_url, **common))  # type: ignore[arg-type]
    return Sources(api=api, feed=feed)


@dataclass(slots=True)
class TopicResult:
    topic: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    note: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "note": self.note, "error": self.error}


@dataclass(slots=True)
class FetchReport:
    topics: list[TopicResult] = field(default_factory=list)
    authors: list[TopicResult] = field(default_factory=list)
    announced: int = 0
    announcement_empty: bool = False
    announcement_date: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not any(t.error for t in [*self.topics, *self.authors])

    def to_dict(self) -> dict[str, Any]:
        return {"announced": self.announced, "announcement_empty": self.announcement_empty,
                "announcement_date": self.announcement_date, "errors": self.errors,
                "topics": [t.to_dict() for t in self.topics], "authors": [a.to_dict() for a in self.authors]}


def feed_categories(config: Config, topics: Sequence[Topic]) -> list[str]:
    """Categories whose announcements to read: the config's, else every topic's own."""
    if config.feed_categories:
        return list(config.feed_categories)
    cats: list[str] = []
    for t in topics:
        cats.extend(c for c in t.categories if c not in cats)
    return cats


def fetch(store: SQLiteStore, config: Config, sources: Sources, topics: Sequence[Topic] | None = None, *,
          now: datetime | None = None, log: Callable[[str], None] | None = None) -> FetchReport:
    """Fetch every topic; one topic failing does not stop the others and keeps its checkpoint for next time."""
    from paperscope.query import parse_query
    from paperscope.service import topic_match

    topics = list(config.topics if topics is None else topics)
    now = now or datetime.now(UTC)
    report = FetchReport()
    run_new: set[str] = set()
    run_updated: set[str] = set()
    announced: list[str] = []

    def absorb(stats: UpsertStats) -> None:
        run_new.update(stats.new_ids)
        run_updated.update(i for i in stats.updated_ids if i not in run_new)

    cats = feed_categories(config, topics)
    if sources.feed is not None and cats:
        try:
            ann = sources.feed.fetch(cats)
            report.announcement_date = str(getattr(ann, "date", "") or "")
            report.announcement_empty = bool(ann.empty)
            announced = list(dict.fromkeys([*ann.new_ids, *ann.cross_ids, *ann.replaced_ids]))
            report.announced = len(announced)
            if announced:
                absorb(store.upsert_papers(sources.api.by_ids(announced)))
            store.set_state("announce:last", {"date": report.announcement_date, "empty": report.announcement_empty,
                                              "count": len(announced), "checked": iso(now)})
        except PaperscopeError as e:
            report.errors.append(f"announcement feed: {e}")

    for t in topics:
        res = TopicResult(t.name)
        report.topics.append(res)
        key = f"topic:{t.name}:last_success"
        try:
            since_raw = store.get_state(key)
            search_query = parse_query(t.query).to_arxiv(t.categories)
            ids: list[str] = []
            if since_raw is None:
                papers = list(sources.api.search(search_query, sort_by="lastUpdatedDate",
                                                 max_results=t.max_papers))
            else:
                since = datetime.fromisoformat(since_raw) - OVERLAP
                papers = []
                for p in sources.api.search(search_query, sort_by="lastUpdatedDate", max_results=MAX_BACKFILL):
                    if p.updated < since:
                        break
                    papers.append(p)
            absorb(store.upsert_papers(papers))
            ids = [p.id for p in papers]
            if announced:
                ids.extend(p.id for p in store.newest_matching(topic_match(t), len(announced), within=announced))
            for i in dict.fromkeys(ids):
                if i in run_new:
                    res.new += 1
                elif i in run_updated:
                    res.updated += 1
                else:
                    res.unchanged += 1
            if res.new == res.updated == 0 and report.announcement_empty:
                res.note = f"arXiv announced nothing{' on ' + report.announcement_date if report.announcement_date else ''} (weekend or holiday)"
            store.set_state(key, iso(now))
        except PaperscopeError as e:
            res.error = str(e)
        if log:
            log(format_topic_result(res))
    for f in store.following():
        res = fetch_author(store, sources, f, now=now, absorb=absorb, run_new=run_new, run_updated=run_updated)
        report.authors.append(res)
        if log:
            log(format_topic_result(res))
    return report


def fetch_author(store: SQLiteStore, sources: Sources, followed: dict[str, str], *, now: datetime,
                 absorb: Callable[[UpsertStats], None], run_new: set[str], run_updated: set[str]) -> TopicResult:
    """New papers and new versions of one followed author since the last successful run (first run: newest 20)."""
    from paperscope.authors import author_search_query
    from paperscope.scoring.names import names_compatible

    res = TopicResult(f"author {followed['name']}")
    key = f"follow:{followed['key']}:last_success"
    try:
        since_raw = store.get_state(key)
        since = datetime.fromisoformat(since_raw) - OVERLAP if since_raw else None
        papers = []
        for p in sources.api.search(author_search_query(followed["name"]), sort_by="lastUpdatedDate",
                                    max_results=20 if since is None else 2000):
            if since is not None and p.updated < since:
                break
            if any(names_compatible(followed["name"], a.name) for a in p.authors):
                papers.append(p)
        absorb(store.upsert_papers(papers))
        for p in papers:
            if p.id in run_new:
                res.new += 1
            elif p.id in run_updated:
                res.updated += 1
            else:
                res.unchanged += 1
        store.set_state(key, iso(now))
    except PaperscopeError as e:
        res.error = str(e)
    return res


def format_topic_result(r: TopicResult) -> str:
    if r.error:
        return f"{r.topic}: failed: {r.error}"
    line = f"{r.topic}: {r.new} new, {r.updated} updated, {r.unchanged} unchanged"
    return f"{line} — {r.note}" if r.note else line
