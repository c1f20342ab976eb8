"""The verbs the CLI (and later the web app) share: import, fetch, digest, search, demo.

Each function takes its dependencies (store, config, sources, clock) as arguments, so tests drive the
very code the CLI runs.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from paperscope.config import Config, default_db_path
from paperscope.errors import PaperscopeError, QueryError
from paperscope.models import UTC, Paper, Topic, UpsertStats
from paperscope.store.sqlite import SQLiteStore

FORMATS = ("markdown", "html", "atom", "json")
FOLLOW_WINDOW_DAYS = 7


def resolve_db(db: str | Path | None) -> Path:
    """--db, else $PAPERSCOPE_DB, else the platform's data folder."""
    if db:
        return Path(db)
    if os.environ.get("PAPERSCOPE_DB"):
        return Path(os.environ["PAPERSCOPE_DB"])
    return default_db_path()


def open_store(db: str | Path | None = None) -> SQLiteStore:
    return SQLiteStore(resolve_db(db))


# ---------------------------------------------------------------------------------------------- import
@dataclass(slots=True)
class ImportReport:
    path: str
    format: str
    stats: UpsertStats
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        s = self.stats
        return {"file": self.path, "format": self.format, "new": s.new, "updated": s.updated,
                "unchanged": s.unchanged, "skipped": len(self.skipped), "problems": self.skipped}


def import_file(store: SQLiteStore, path: str | Path, *, progress: bool = False) -> ImportReport:
    """Read a snapshot, an Atom feed or an OAI-PMH response (recognised by content) into the library."""
    from paperscope.sources.detect import detect_format, read_file

    fmt = detect_format(path)
    skipped: list[str] = []

    def on_error(issue: Any) -> None:
        skipped.append(str(issue))

    with store.bulk():
        stats = bulk_upsert(store, read_file(path, on_error=on_error, progress=progress))
    return ImportReport(str(path), fmt, stats, skipped)


def bulk_upsert(store: SQLiteStore, papers: Any) -> UpsertStats:
    """Upsert with parsing and writing overlapped: a reader thread parses while SQLite writes.

    SQLite releases the GIL while it builds index pages, so the two threads really run side by side.
    """
    import queue
    import threading

    q: queue.Queue[list[Paper] | None | BaseException] = queue.Queue(maxsize=8)
    stop = threading.Event()

    def reader() -> None:
        try:
            chunk: list[Paper] = []
            for p in papers:
                chunk.append(p)
                if len(chunk) >= 2000:
                    q.put(chunk)
                    chunk = []
                    if stop.is_set():
                        return
            if chunk:
                q.put(chunk)
            q.put(None)
        except BaseException as e:  # handed to the writer, raised there
            q.put(e)

    t = threading.Thread(target=reader, daemon=True, name="paperscope-reader")
    # Batches of papers in flight make the cyclic GC scan millions of young objects over and over.
    old_gc = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    t.start()
    stats = UpsertStats()
    try:
        while True:
            item = q.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            stats.add(store.upsert_papers(item, detect_code=False))
    finally:
        gc.set_threshold(*old_gc)
        stop.set()
        while t.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)
    return stats


# ---------------------------------------------------------------------------------------------- topics
def topic_match(topic: Topic) -> str:
    """The FTS5 expression that selects a topic's papers in the library."""
    from paperscope.query import parse_query

    try:
        return parse_query(topic.query).to_fts5(topic.categories)
    except QueryError as e:
        raise QueryError(f"topic {topic.name!r}: {e}") from e


def topic_papers(store: SQLiteStore, topic: Topic, limit: int | None = None) -> list[Paper]:
    """The newest papers of a topic, newest first by last update, ties by id."""
    return store.newest_matching(topic_match(topic), limit or topic.max_papers)


def search(store: SQLiteStore, query: str, *, order: str = "relevance", limit: int = 20,
           categories: Sequence[str] = ()) -> list[Paper]:
    """Full-text search with the topic query syntax."""
    from paperscope.query import parse_query

    return store.search(parse_query(query).to_fts5(categories), order=order, limit=limit)


# ---------------------------------------------------------------------------------------------- digest
def build_digest(store: SQLiteStore, topics: Sequence[Topic], *, today: date | None = None,
                 library: str | Path | None = None, recommend_days: int = 14) -> Any:
    """One section per topic with its newest papers (reordered by novelty or fit when the topic asks),
    then followed authors, then "Recommended for you" when a library file is given and vectors exist."""
    from paperscope.render import Digest, DigestSection

    sections = []
    last = store.get_state("announce:last") or {}
    for t in topics:
        papers = order_papers(store, topic_papers(store, t), t.order, library)
        note = ""
        if not papers:
            note = "No papers in the library match this topic yet."
            if last.get("empty"):
                note = f"arXiv announced nothing on {last.get('date')} (weekend or holiday)."
        sections.append(DigestSection(title=t.name, papers=papers, topic=t, note=note))
    if store.following():
        from paperscope.authors import followed_papers

        day = today or datetime.now(UTC).date()
        since = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=FOLLOW_WINDOW_DAYS)
        rows = followed_papers(store, since=since)
        sections.append(DigestSection(
            title="Followed authors", papers=[p for p, _, _ in rows],
            labels={p.id: f"{label} · {who}" for p, who, label in rows},
            note="" if rows else f"No new papers or revisions by followed authors in the last {FOLLOW_WINDOW_DAYS} days."))
    if library and store.active_model():
        from paperscope.discovery import recommend

        rep = recommend(store, library, days=recommend_days, limit=20, today=today)
        sections.append(DigestSection(
            title="Recommended for you", papers=[r.paper for r in rep.recommendations],
            labels={r.paper.id: "like " + ", ".join(i for i, _, _ in r.resembles[:2]) for r in rep.recommendations},
            note="" if rep.recommendations else f"Nothing new in the last {recommend_days} days resembles your library."))
    return Digest(generated=today or datetime.now(UTC).date(), sections=sections)


def order_papers(store: SQLiteStore, papers: list[Paper], order: str, library: str | Path | None) -> list[Paper]:
    """A topic's papers by date (as they come), novelty percentile, or fit to the researcher's library."""
    if order == "date" or not papers or not store.active_model():
        return papers
    ids = [p.id for p in papers]
    if order == "novelty":
        nov = store.novelty_for(ids)
        key = {i: (d["percentile"] if d["percentile"] is not None else -1.0) for i, d in nov.items()}
        return sorted(papers, key=lambda p: key.get(p.id, -1.0), reverse=True)
    if order == "fit" and library:
        from paperscope.discovery import library_fit

        fit = library_fit(store, library, ids)
        return sorted(papers, key=lambda p: fit.get(p.id, -1.0), reverse=True)
    return papers


def render_digest(digest: Any, fmt: str) -> str:
    """The digest as one text: markdown, html, json, or atom (all topics' feeds, one after another)."""
    from paperscope.render import render_atom, render_html, render_json, render_markdown

    if fmt == "markdown":
        return render_markdown(digest)
    if fmt == "html":
        return render_html(digest)
    if fmt == "json":
        return render_json(digest)
    if fmt == "atom":
        return "\n".join(render_atom(s, digest) for s in digest.sections)
    raise PaperscopeError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "topic"


def write_digest(digest: Any, out_dir: str | Path) -> list[Path]:
    """Write README.md (Markdown), index.html, digest.json and one Atom feed per topic under feeds/."""
    from paperscope.render import render_atom, render_html, render_json, render_markdown

    out = Path(out_dir)
    (out / "feeds").mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("README.md", render_markdown(digest)), ("index.html", render_html(digest)),
                       ("digest.json", render_json(digest))):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    for s in digest.sections:
        p = out / "feeds" / f"{slug(s.title)}.xml"
        p.write_text(render_atom(s, digest), encoding="utf-8")
        written.append(p)
    return written


# ---------------------------------------------------------------------------------------------- demo
DEMO_TOPICS = (
    Topic("Reward Model", '"reward model" OR RLHF NOT survey', ["cs.CL", "cs.LG", "cs.AI"]),
    Topic("Hallucination", 'hallucination AND ("large language model" OR LLM OR VLM OR MLLM)'),
    Topic("Diffusion Models", '"diffusion model" OR "score-based"', ["cs.CV", "cs.LG"]),
    Topic("LLM Agents", '(agent OR agentic) AND (LLM OR "language model") NOT survey', [], 50),
)


def sample_path() -> Path:
    """The bundled sample of real arXiv papers (snapshot JSON lines, gzip)."""
    return Path(__file__).parent / "data" / "sample.jsonl.gz"


def run_demo(out_dir: str | Path, *, db: str | Path | None = None, progress: bool = False,
             today: date | None = None) -> dict[str, Any]:
    """Load the bundled sample into a library (default: <out>/library.db), run the demo topics, write the digest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db_path = Path(db) if db else out / "library.db"
    from paperscope.discovery import compute_library_novelty, compute_scores, embed_library

    with SQLiteStore(db_path) as store:
        report = import_file(store, sample_path(), progress=progress)
        store.optimize()
        store.fill_code_urls()
        embed_library(store, model=store.active_model())
        compute_library_novelty(store)
        compute_scores(store)
        digest = build_digest(store, DEMO_TOPICS, today=today)
        files = write_digest(digest, out)
        total = store.count()
    return {
        "db": str(db_path), "papers": total, "imported": report.to_dict(), "out": str(out),
        "markdown": str(out / "README.md"), "html": str(out / "index.html"),
        "files": [str(f) for f in files],
        "topics": [{"name": s.title, "papers": len(s.papers)} for s in digest.sections],
    }


# ---------------------------------------------------------------------------------------------- authors
def author_profile(store: SQLiteStore, name: str, *, author_id: str | None = None, order: str = "citations",
                   today: date | None = None, weights: dict[str, float] | None = None) -> Any:
    """Find the person and build their profile (novelty and score included when the library has them)."""
    from paperscope.authors import build_profile, find_author

    person = find_author(store, name, author_id=author_id)
    return build_profile(store, person, order=order, today=today,
                         inputs=profile_inputs(store, person, today=today, weights=weights))


def profile_inputs(store: SQLiteStore, person: Any, *, today: date | None = None,
                   weights: dict[str, float] | None = None) -> Any:
    """Novelty and AI Score figures for a profile, from the semantic layer when it has run on the library."""
    from paperscope.authors import ProfileInputs

    if not store.active_model():
        return ProfileInputs()
    from paperscope.discovery import author_figures

    nov, sc, nfig, sfig = author_figures(store, person.paper_ids, today=today or datetime.now(UTC).date(),
                                         weights=weights)
    return ProfileInputs(novelty=nov, scores=sc, author_novelty=nfig, author_score=sfig)


def render_profile(profile: Any, fmt: str, *, view: str = "cards") -> str:
    from paperscope.render.profile import profile_to_dict, render_profile_html, render_profile_markdown

    if fmt == "json":
        import json

        return json.dumps(profile_to_dict(profile), ensure_ascii=False, indent=2)
    if fmt == "html":
        return render_profile_html(profile, view=view)
    return render_profile_markdown(profile, view=view)


def citation_sources(config: Config, *, transport: Any = None, openalex_url: str | None = None,
                     s2_url: str | None = None) -> tuple[Any, Any]:
    """OpenAlex (primary) and Semantic Scholar (fallback) clients as the config says."""
    from paperscope.sources.openalex import OpenAlex, openalex_client
    from paperscope.sources.semanticscholar import SemanticScholar, semanticscholar_client

    oa = OpenAlex(openalex_client(openalex_url or config.openalex_url, contact=config.contact, transport=transport),
                  api_key=config.openalex_api_key or None)
    s2 = SemanticScholar(semanticscholar_client(s2_url or config.semanticscholar_url, contact=config.contact,
                                                transport=transport), api_key=config.semanticscholar_api_key or None)
    return oa, s2


def run_enrich(store: SQLiteStore, config: Config, *, limit: int | None = None, max_age_days: int | None = None,
               progress: bool = False, sources: tuple[Any, Any] | None = None) -> Any:
    from tqdm import tqdm

    from paperscope.authors import enrich

    oa, s2 = sources or citation_sources(config)
    bar = tqdm(total=None, unit="paper", desc="enrich", disable=not progress)
    try:
        return enrich(store, oa, s2, max_age_days=config.enrich_max_age_days if max_age_days is None else max_age_days,
                      limit=limit, progress=bar.update, author_source=oa)
    finally:
        bar.close()


# ---------------------------------------------------------------------------------------------- OAI-PMH
def run_harvest(store: SQLiteStore, config: Config, *, set_: str | None = None, prefix: str = "arXiv",
                from_: date | None = None, until: date | None = None, transport: Any = None,
                url: str | None = None, log: Any = None) -> dict[str, Any]:
    """Bulk or incremental OAI-PMH harvest into the library; resumes an interrupted one from its saved token."""
    from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy
    from paperscope.sources.oai import CallbackState, OAIHarvester, harvest, state_key

    client = PoliteClient(url or config.arxiv_oai_url, pacer=Pacer(config.arxiv_pace), contact=config.contact,
                          transport=transport, timeout=config.http_timeout, retry=RetryPolicy(config.http_retries))
    key = "oai:" + state_key(prefix, set_)
    state = CallbackState(lambda: store.get_state(key), lambda s: store.set_state(key, dict(s)))
    totals = UpsertStats()

    def on_page(page: Any) -> None:
        totals.add(store.upsert_papers(page.papers))
        if log:
            log(f"page: {len(page.papers)} records ({totals.new} new, {totals.updated} updated so far)")

    try:
        result = harvest(OAIHarvester(client), state, prefix=prefix, set_=set_, from_=from_, until=until,
                         on_page=on_page)
    finally:
        client.close()
    return {"pages": result.pages, "records": result.papers, "deleted": result.deleted, "resumed": result.resumed,
            "complete": result.complete, "next_from": str(result.next_from) if result.next_from else None,
            "new": totals.new, "updated": totals.updated, "unchanged": totals.unchanged}
