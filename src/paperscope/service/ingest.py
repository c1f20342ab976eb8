"""Bringing papers in: files (snapshot, Atom, OAI-PMH), the daily fetch from arXiv, and OAI-PMH harvests.

`fetch` reads two roads into arXiv, both paced by the Library's one arXiv pacer:
- the announcement feed lists the ids arXiv announced today (new, cross-listed, replaced); their metadata
  comes by id_list. This does not depend on the API's search index, which lags announcements.
- an API search per topic, newest last-updated first, read back to the last successful run (minus a day
  of overlap). A missed day is therefore backfilled on the next run; the first run takes the newest
  `max_papers`. Papers are stored as pages arrive, so a failure later in a topic keeps what came before.
"""

from __future__ import annotations

import functools

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from paperscope.errors import PaperscopeError
from paperscope.library import Library
from paperscope.models import Paper, Topic, UpsertStats
from paperscope.service.codes_ahead import CodeLinksAhead, worth_reading_ahead
from paperscope.service.collector import rare_collections
from paperscope.service.results import Result, as_str
from paperscope.store.api import FollowRecord, PaperQuery, Store
from paperscope.store.codec import no_nul

OVERLAP = timedelta(days=1)
MAX_BACKFILL = 30_000
WRITE_EVERY = 200  # papers of a search stored together, so a later failure keeps them

Progress = Callable[[int], None]
Log = Callable[[str], None]


def _iso(dt: datetime) -> str:
    """UTC as 'YYYY-MM-DDTHH:MM:SSZ', the form checkpoints are kept in."""
    from paperscope.models import UTC

    if dt.tzinfo is not None and dt.utcoffset():
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="seconds")[:19] + "Z"


# ---------------------------------------------------------------------------------------------- files
@dataclass(slots=True)
class ImportedFile(Result):
    path: str
    format: str
    new: int
    updated: int
    unchanged: int
    skipped: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ImportResult(Result):
    files: list[ImportedFile]
    code_links_checked: int = 0
    embedded: int = 0
    embed_model: str = ""


def import_files(lib: Library, paths: Sequence[str | Path], *, embed: bool = True,
                 progress: Progress | None = None, show_progress: bool = False) -> ImportResult:
    """Import snapshot (JSON lines, .gz), Atom or OAI-PMH files (recognised by content), then merge the
    full-text index, find code links and embed the new papers (unless `embed` is False)."""
    files = [import_file(lib.store, p, show_progress=show_progress) for p in paths]
    checked = lib.store.finish_import(progress=progress)
    result = ImportResult(files, code_links_checked=checked)
    if embed:
        from paperscope.service.meaning import embed as embed_new

        done = embed_new(lib, progress=progress)
        result.embedded, result.embed_model = done.embedded, done.model
    return result


def import_file(store: Store, path: str | Path, *, show_progress: bool = False) -> ImportedFile:
    """Read one file into the library in bulk mode; malformed records are skipped and listed."""
    from paperscope.sources.detect import detect_format, read_file

    fmt = detect_format(path)
    problems: list[str] = []
    ahead = CodeLinksAhead(path) if worth_reading_ahead(path, getattr(store, "code_links", None)) else None
    try:
        with store.bulk():
            stats = bulk_upsert(store, read_file(path, on_error=lambda issue: problems.append(str(issue)),
                                                 progress=show_progress), ahead=ahead)
    finally:
        if ahead is not None:
            ahead.close()
    return ImportedFile(str(path), fmt, stats.new, stats.updated, stats.unchanged, len(problems), problems)


CHUNK = 2000  # papers whose code links are asked of the reader ahead at once


def bulk_upsert(store: Store, papers: Iterable[Paper], *, ahead: CodeLinksAhead | None = None) -> UpsertStats:
    """Upsert in bulk, parsing and writing in turn in this one thread.

    The machine's cores are already busy with the import's helper processes (the full-text index built aside, the
    code links read ahead), so a reader thread beside the writer only adds work: the GIL would make every SQLite step
    wait for it, unless a batch went in as one JSON statement, which costs SQLite 3-4x more per row (1M papers:
    237 s with the thread and JSON batches, 220 s in turn, 8 % less CPU). With `ahead`, the code links come from
    the process reading the same file ahead (each chunk waits for its own).
    """
    def chunked() -> Iterator[Paper]:
        chunk: list[Paper] = []
        for p in papers:
            chunk.append(p)
            if len(chunk) >= CHUNK:
                yield from _covered(chunk, ahead)
                chunk = []
        yield from _covered(chunk, ahead)

    # Batches of papers in flight would make the cyclic GC scan millions of young objects over and over
    # (bench/import_floor.py measures with the same setting).
    with rare_collections():
        # One call, so the store groups papers into its own big transactions (few commits, few index segments).
        # Code links are found as the rows are built (a cheap text check first, the detector on about one
        # paper in five): rewriting every row afterwards to store them cost more than finding them.
        return store.upsert_papers(chunked(), code_urls=ahead)


def _covered(chunk: list[Paper], ahead: CodeLinksAhead | None) -> list[Paper]:
    if ahead is not None and chunk:
        ahead.cover([no_nul(p.id) for p in chunk])
    return chunk


# ---------------------------------------------------------------------------------------------- fetch
@dataclass(slots=True)
class TopicFetch(Result):
    topic: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    note: str = ""
    error: str = ""

    def line(self) -> str:
        if self.error:
            return f"{self.topic}: failed: {self.error}"
        text = f"{self.topic}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        return f"{text} — {self.note}" if self.note else text


@dataclass(slots=True)
class FetchResult(Result):
    topics: list[TopicFetch] = field(default_factory=list)
    authors: list[TopicFetch] = field(default_factory=list)
    announced: int = 0
    announcement_empty: bool = False
    announcement_date: str = ""
    errors: list[str] = field(default_factory=list)
    embedded: int = 0
    unreachable: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not any(t.error for t in [*self.topics, *self.authors])


def pick_topics(lib: Library, names: Sequence[str] = ()) -> list[Topic]:
    """The config's topics, or the named ones (NotFound names the topics there are)."""
    from paperscope.errors import NotFound

    topics = lib.topics
    if not topics:
        raise NotFound(f"{lib.settings.path or 'the config'} has no [[topics]] yet", kind="topics")
    if not names:
        return topics
    by_name = {t.name: t for t in topics}
    lowered = {t.name.lower(): t for t in topics}
    out = []
    for n in names:
        t = by_name.get(n) or lowered.get(n.lower())
        if t is None:
            raise NotFound(f"no topic named {n!r} (topics: {', '.join(by_name)})", kind="topic", key=n)
        out.append(t)
    return out


def topic_query(topic: Topic) -> PaperQuery:
    """The store query that selects a topic's papers (parsed once per query text in a process)."""
    from paperscope.errors import QueryError

    try:
        return _parsed(topic.query, tuple(topic.categories))
    except QueryError as e:
        raise QueryError(f"topic {topic.name!r}: {e}") from e


@functools.lru_cache(maxsize=256)
def _parsed(query: str, categories: tuple[str, ...]) -> PaperQuery:
    from paperscope.query import parse_query

    return PaperQuery(parse_query(query), categories)


def feed_categories(lib: Library, topics: Sequence[Topic]) -> list[str]:
    """Categories whose announcements to read: the config's, else every topic's own."""
    if lib.settings.feed_categories:
        return list(lib.settings.feed_categories)
    cats: list[str] = []
    for t in topics:
        cats.extend(c for c in t.categories if c not in cats)
    return cats


class _Run:
    """Which papers this run brought in new or updated (a paper counts once, as new if it was)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.new: set[str] = set()
        self.updated: set[str] = set()

    def write(self, papers: Iterable[Paper]) -> list[str]:
        ids: list[str] = []
        batch: list[Paper] = []
        try:
            for p in papers:
                batch.append(p)
                ids.append(p.id)
                if len(batch) >= WRITE_EVERY:
                    self._absorb(self.store.upsert_papers(batch))
                    batch = []
        finally:  # a failing page keeps every paper that arrived before it
            if batch:
                self._absorb(self.store.upsert_papers(batch))
        return ids

    def _absorb(self, stats: UpsertStats) -> None:
        self.new.update(stats.new_ids)
        self.updated.update(i for i in stats.updated_ids if i not in self.new)

    def count(self, res: TopicFetch, ids: Iterable[str]) -> None:
        for i in dict.fromkeys(ids):
            if i in self.new:
                res.new += 1
            elif i in self.updated:
                res.updated += 1
            else:
                res.unchanged += 1


def fetch(lib: Library, topic_names: Sequence[str] = (), *, embed: bool = True,
          log: Log | None = None, progress: Progress | None = None) -> FetchResult:
    """Fetch every topic (and followed author); one failing does not stop the others and keeps its checkpoint."""
    from paperscope.errors import UnreachableError
    from paperscope.query import parse_query

    store, sources = lib.store, lib.sources
    # with no topics, a fetch still brings followed authors' papers
    topics = pick_topics(lib, topic_names) if topic_names or lib.topics or not store.following() else []
    now = lib.now()
    report = FetchResult()
    run = _Run(store)
    announced: list[str] = []
    cats = feed_categories(lib, topics)
    if cats:
        try:
            ann = sources.feed.fetch(cats)
            report.announcement_date = str(getattr(ann, "date", "") or "")
            report.announcement_empty = bool(ann.empty)
            announced = list(dict.fromkeys([*ann.new_ids, *ann.cross_ids, *ann.replaced_ids]))
            report.announced = len(announced)
            if announced:
                run.write(sources.api.by_ids(announced))
            store.set_state("announce:last", {"date": report.announcement_date, "empty": report.announcement_empty,
                                              "count": len(announced), "checked": _iso(now)})
        except UnreachableError as e:  # no network, or arXiv refuses connections: say so once and stop
            report.errors.append(f"arXiv cannot be reached: {e}")
            report.unreachable = True
            return report
        except PaperscopeError as e:
            report.errors.append(f"announcement feed: {e}")

    for t in topics:
        res = TopicFetch(t.name)
        report.topics.append(res)
        key = f"topic:{t.name}:last_success"
        try:
            since_raw = as_str(store.get_state(key))
            search_query = parse_query(t.query).to_arxiv(t.categories)
            if since_raw is None:
                found = sources.api.search(search_query, sort_by="lastUpdatedDate", max_results=t.max_papers)
                ids = run.write(found)
            else:
                since = datetime.fromisoformat(since_raw) - OVERLAP
                ids = run.write(_until(sources.api.search(search_query, sort_by="lastUpdatedDate",
                                                          max_results=MAX_BACKFILL), since))
            if announced:
                ids.extend(p.id for p in store.newest_matching(topic_query(t), len(announced), within=announced))
            run.count(res, ids)
            if res.new == res.updated == 0 and report.announcement_empty:
                day = f" on {report.announcement_date}" if report.announcement_date else ""
                res.note = f"arXiv announced nothing{day} (weekend or holiday)"
            store.set_state(key, _iso(now))
        except UnreachableError as e:
            res.error = f"arXiv cannot be reached: {e}"
            report.unreachable = True
            if log:
                log(res.line())
            return report
        except PaperscopeError as e:
            res.error = str(e)
        if log:
            log(res.line())
    for f in store.following():
        res = _fetch_author(lib, f, now=now, run=run)
        report.authors.append(res)
        if log:
            log(res.line())
    store.finish_import()  # what the store derives from the papers (code links, ranking lists) catches up
    if embed:
        from paperscope.service.meaning import embed as embed_new

        report.embedded = embed_new(lib, progress=progress).embedded
    return report


def _until(papers: Iterable[Paper], since: datetime) -> Iterator[Paper]:
    """Papers of a newest-first search until the first one older than `since`."""
    for p in papers:
        if p.updated < since:
            return
        yield p


def _fetch_author(lib: Library, followed: FollowRecord, *, now: datetime, run: _Run) -> TopicFetch:
    """New papers and new versions of one followed author since the last successful run (first run: newest 20)."""
    from paperscope.scoring.names import names_compatible
    from paperscope.service.people import author_search_query

    store = lib.store
    res = TopicFetch(f"author {followed['name']}")
    key = f"follow:{followed['key']}:last_success"
    try:
        since_raw = as_str(store.get_state(key))
        since = datetime.fromisoformat(since_raw) - OVERLAP if since_raw else None
        found = lib.sources.api.search(author_search_query(followed["name"]), sort_by="lastUpdatedDate",
                                       max_results=20 if since is None else 2000)
        mine = (p for p in (found if since is None else _until(found, since))
                if any(names_compatible(followed["name"], a.name) for a in p.authors))
        run.count(res, run.write(mine))
        store.set_state(key, _iso(now))
    except PaperscopeError as e:
        res.error = str(e)
    return res


# ---------------------------------------------------------------------------------------------- OAI-PMH
@dataclass(slots=True)
class HarvestResult(Result):
    pages: int
    records: int
    deleted: int
    resumed: bool
    complete: bool
    next_from: str | None
    new: int
    updated: int
    unchanged: int


def harvest(lib: Library, *, set_: str | None = None, prefix: str = "arXiv", from_: date | None = None,
            until: date | None = None, log: Log | None = None) -> HarvestResult:
    """Bulk or incremental OAI-PMH harvest into the library; resumes an interrupted one from its saved token."""
    from paperscope.sources.oai import CallbackState, OAIPage, harvest as run_harvest, state_key

    store = lib.store
    key = state_key(prefix, set_)
    legacy = "oai:" + key  # where versions before 0.2 kept it

    def load() -> dict[str, object] | None:
        got = store.get_state(key)
        got = got if got is not None else store.get_state(legacy)
        return dict(got) if isinstance(got, dict) else None

    state = CallbackState(load, lambda s: store.set_state(key, dict(s)))
    totals = UpsertStats()

    def on_page(page: OAIPage) -> None:
        totals.add(store.upsert_papers(page.papers))
        if log:
            log(f"page: {len(page.papers)} records ({totals.new} new, {totals.updated} updated so far)")

    result = run_harvest(lib.sources.oai, state, prefix=prefix, set_=set_, from_=from_, until=until,
                         on_page=on_page)
    store.finish_import()
    return HarvestResult(result.pages, result.papers, result.deleted, result.resumed, result.complete,
                         str(result.next_from) if result.next_from else None, totals.new, totals.updated,
                         totals.unchanged)
