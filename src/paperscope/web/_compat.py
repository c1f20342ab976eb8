"""Temporary stand-ins for the service layer of issue #7 (paperscope.Library and paperscope.service.*).

The web app calls only `calls` below, named as service_api.md names them; once main has the service package,
each of these becomes the one-line call it mirrors and this module goes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from paperscope.errors import PaperscopeError
from paperscope.models import UTC, Paper, Topic

try:  # the service layer adds these to paperscope.errors
    from paperscope.errors import NotFound, NotReady  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - until main has them
    class NotFound(PaperscopeError):  # type: ignore[no-redef]
        pass

    class NotReady(PaperscopeError):  # type: ignore[no-redef]
        def __init__(self, message: str, needs: str = "") -> None:
            super().__init__(message)
            self.needs = needs


@dataclass(eq=False)
class Lib:
    """Library stand-in: store, settings, clock."""

    store: Any
    settings: Any
    readonly: bool = False
    clock: Any = None

    @classmethod
    def open(cls, db: str | Path | None = None, config: str | Path | None = None, *,
             readonly: bool = False) -> "Lib":
        from paperscope.config import load_config
        from paperscope.service import resolve_db
        from paperscope.store.sqlite import SQLiteStore

        return cls(SQLiteStore(resolve_db(db), readonly=readonly), load_config(config), readonly)

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(UTC)

    def close(self) -> None:
        self.store.close()


def setting(lib: Any, name: str, default: Any = None) -> Any:
    try:
        return getattr(lib.settings, name)
    except AttributeError:
        return default


def topics(lib: Any) -> tuple[list[Topic], bool]:
    """The configured topics, or the demo's as examples when none are configured (second value True)."""
    got = list(getattr(lib.settings, "topics", []) or [])
    if got:
        return got, False
    from paperscope.service import DEMO_TOPICS

    return list(DEMO_TOPICS), True


def find_topic(lib: Any, slug: str) -> Topic:
    from paperscope.render.model import slugify

    for t in topics(lib)[0]:
        if slugify(t.name) == slug or t.name == slug:
            return t
    raise NotFound(f"no topic {slug!r}")


@dataclass(slots=True)
class PaperRow:
    paper: Paper
    novelty: float | None = None
    score: float | None = None
    fit: float | None = None
    rating: str | None = None
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        from paperscope.render import paper_to_dict

        return {**paper_to_dict(self.paper), "code_url": self.paper.code_url or None, "novelty": self.novelty, "score": self.score, "fit": self.fit,
                "rating": self.rating, "label": self.label}


@dataclass(slots=True)
class TopicPage:
    topic: Topic
    papers: list[PaperRow]
    order: str = "date"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        t = self.topic
        return {"topic": {"name": t.name, "query": t.query, "categories": t.categories}, "order": self.order,
                "note": self.note, "papers": [r.to_dict() for r in self.papers]}


def _rows(lib: Any, papers: list[Paper]) -> list[PaperRow]:
    ids = [p.id for p in papers]
    st = lib.store
    nov = st.novelty_for(ids) if st.active_model() else {}
    sc = st.scores_for(ids)
    ratings = st.get_state("web:ratings") or {}
    return [PaperRow(p, (nov.get(p.id) or {}).get("percentile"), (sc.get(p.id) or {}).get("value"),
                     rating=ratings.get(p.id)) for p in papers]


def _keep(p: Paper, category: str | None, has_code: bool | None, since: date | None, until: date | None) -> bool:
    if category and category not in p.categories:
        return False
    if has_code is not None and p.has_code != has_code:
        return False
    d = p.first_submitted.date()
    return not ((since and d < since) or (until and d > until))


def topic_page(lib: Any, name: str, *, order: str = "date", category: str | None = None,
               has_code: bool | None = None, since: date | None = None, until: date | None = None,
               limit: int | None = None) -> TopicPage:
    from paperscope.service import topic_papers

    if order not in ("date", "novelty", "score", "fit"):
        raise PaperscopeError(f"unknown order {order!r}")
    t = find_topic(lib, name)
    papers = [p for p in topic_papers(lib.store, t, limit=limit or t.max_papers)
              if _keep(p, category, has_code, since, until)]
    hidden = lib.store.not_interested()
    rows = [r for r in _rows(lib, papers) if r.paper.id not in hidden]
    if order in ("novelty", "score"):
        if not lib.store.active_model():
            raise NotReady("ordering by novelty or AI Score needs embeddings", needs="embed")
        rows.sort(key=lambda r: getattr(r, order) if getattr(r, order) is not None else -1, reverse=True)
    elif order == "fit":
        lf = setting(lib, "library_file")
        if not lf:
            raise NotReady("ordering by fit needs your library: set library_file in the config", needs="library")
        from paperscope.discovery import library_fit

        fit = library_fit(lib.store, lf, [r.paper.id for r in rows])
        for r in rows:
            r.fit = fit.get(r.paper.id)
        rows.sort(key=lambda r: r.fit if r.fit is not None else -1, reverse=True)
    note = "" if rows else "No papers in the library match this topic (with these filters) yet."
    return TopicPage(t, rows, order, note)


@dataclass(slots=True)
class PaperDetail:
    paper: Paper
    citations: dict[str, Any] | None
    novelty: dict[str, Any] | None
    novelty_missing: str
    ai_score: dict[str, Any] | None
    score_missing: str
    similar: list[tuple[Paper, float]]
    similar_missing: str
    bibtex: str
    rating: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from paperscope.render import paper_to_dict

        return {"paper": paper_to_dict(self.paper), "citations": self.citations, "novelty": self.novelty,
                "novelty_missing": self.novelty_missing, "ai_score": self.ai_score,
                "score_missing": self.score_missing,
                "similar": [{"id": p.id, "title": p.title, "similarity": s} for p, s in self.similar],
                "bibtex": self.bibtex, "rating": self.rating}


def _bibtex(p: Paper) -> str:
    key = (p.authors[0].name.split()[-1] if p.authors else "arxiv") + str(p.first_submitted.year)
    authors = " and ".join(a.name for a in p.authors)
    return (f"@misc{{{key},\n  title = {{{p.title}}},\n  author = {{{authors}}},\n  year = {{{p.first_submitted.year}}},"
            f"\n  eprint = {{{p.id}}},\n  archivePrefix = {{arXiv}},\n  primaryClass = {{{p.primary_category}}}\n}}")


def paper_detail(lib: Any, paper_id: str) -> PaperDetail:
    st = lib.store
    p = st.get_paper(paper_id)
    if p is None:
        raise NotFound(f"no paper {paper_id!r} in the library")
    cites = st.citations_for([p.id]).get(p.id)
    nov, nov_missing, sim, sim_missing = None, "", [], ""
    if st.active_model():
        from paperscope.discovery import explain_novelty, similar_papers

        try:
            nov = explain_novelty(st, p.id)
        except PaperscopeError as e:
            nov_missing = str(e)
        try:
            sim = similar_papers(st, p.id, k=8)
        except PaperscopeError as e:
            sim_missing = str(e)
    else:
        nov_missing = sim_missing = "the library has no embeddings yet"
    sc = st.scores_for([p.id]).get(p.id)
    ratings = st.get_state("web:ratings") or {}
    return PaperDetail(p, cites, nov, nov_missing, sc, "" if sc else "no AI Score yet (needs embeddings and scoring)",
                       sim, sim_missing, _bibtex(p), ratings.get(p.id))


@dataclass(slots=True)
class SearchResult:
    query: str
    hits: list[PaperRow]
    semantic: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "semantic": self.semantic, "hits": [h.to_dict() for h in self.hits]}


def search(lib: Any, query: str, *, order: str = "relevance", limit: int = 20, categories: tuple[str, ...] = (),
           semantic: bool = False, has_code: bool | None = None, since: date | None = None,
           until: date | None = None) -> SearchResult:
    from paperscope import service

    if semantic:
        if not lib.store.active_model():
            raise NotReady("semantic search needs embeddings", needs="embed")
        from paperscope.discovery import semantic_search

        papers = [d["paper"] for d in semantic_search(lib.store, query, limit=limit * 3)]
        papers = [p for p in papers if not categories or set(categories) & set(p.categories)]
    else:
        papers = service.search(lib.store, query, order=order, limit=limit * 3, categories=categories)
    papers = [p for p in papers if _keep(p, None, has_code, since, until)][:limit]
    return SearchResult(query, _rows(lib, papers), semantic)


def author_profile(lib: Any, name: str, *, author_id: str | None = None, order: str = "citations") -> Any:
    from paperscope import service
    from paperscope.authors import AmbiguousAuthor

    try:
        return service.author_profile(lib.store, name, author_id=author_id, order=order, today=lib.now().date())
    except AmbiguousAuthor:
        raise
    except PaperscopeError as e:
        if "no author named" in str(e):
            raise NotFound(str(e)) from e
        raise


def follow(lib: Any, name: str, *, author_id: str | None = None) -> bool:
    from paperscope.authors import follow as _follow

    return _follow(lib.store, name, author_id=author_id, now=lib.now())[1]


def unfollow(lib: Any, name: str) -> bool:
    from paperscope.authors import unfollow as _unfollow

    return _unfollow(lib.store, name)


def following(lib: Any) -> list[dict[str, str]]:
    return lib.store.following()


def rate(lib: Any, paper_id: str, rating: str) -> dict[str, Any]:
    if rating not in ("up", "down", "not_interested", "none"):
        raise PaperscopeError(f"unknown rating {rating!r}: up, down, not_interested or none")
    if lib.store.get_paper(paper_id) is None:
        raise NotFound(f"no paper {paper_id!r} in the library")
    if rating == "not_interested":
        lib.store.mark_not_interested([paper_id], lib.now())
    ratings = lib.store.get_state("web:ratings") or {}
    if rating == "none":
        ratings.pop(paper_id, None)
    else:
        ratings[paper_id] = rating
    lib.store.set_state("web:ratings", ratings)
    return {"id": paper_id, "rating": rating}


@dataclass(slots=True)
class LibraryStats:
    papers: int
    embedded_model: str | None
    last_announce: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"papers": self.papers, "model": self.embedded_model, "last_announce": self.last_announce}


def stats(lib: Any) -> LibraryStats:
    return LibraryStats(lib.store.count(), lib.store.active_model(), lib.store.get_state("announce:last") or {})


def open_from_env() -> Any:
    return Lib.open(os.environ.get("PAPERSCOPE_DB"))


@dataclass(slots=True)
class HomeSection:
    topic: Topic
    slug: str
    rows: list[PaperRow]
    total_note: str = ""


@dataclass(slots=True)
class Home:
    sections: list[HomeSection]
    examples: bool
    note: str
    stats: LibraryStats

    def to_dict(self) -> dict[str, Any]:
        return {"examples": self.examples, "note": self.note, "stats": self.stats.to_dict(),
                "topics": [{"name": s.topic.name, "slug": s.slug, "papers": [r.to_dict() for r in s.rows]}
                           for s in self.sections]}


def home(lib: Any, *, per_topic: int = 5) -> Home:
    """Each topic's newest papers (the digest, short)."""
    from paperscope.render.model import slugify

    ts, examples = topics(lib)
    sections = [HomeSection(t, slugify(t.name), topic_page(lib, t.name, limit=per_topic).papers) for t in ts]
    last = lib.store.get_state("announce:last") or {}
    note = f"arXiv announced nothing on {last.get('date')} (weekend or holiday)." if last.get("empty") else ""
    return Home(sections, examples, note, stats(lib))


def topic_feed(lib: Any, slug: str) -> str:
    """The topic's Atom feed, from the render package's Atom renderer."""
    from paperscope.render import Digest, DigestSection, render_atom

    page = topic_page(lib, slug)
    section = DigestSection(title=page.topic.name, papers=[r.paper for r in page.papers], topic=page.topic,
                            note=page.note)
    return render_atom(section, Digest(generated=lib.now().date(), sections=[section]))


def trends_module() -> Any:
    """paperscope.service.trends (loaded from its file while paperscope.service is still a module)."""
    try:
        from paperscope.service import trends  # type: ignore[attr-defined]

        return trends
    except ImportError:
        import importlib.util
        import sys

        name = "paperscope_service_trends"
        if name not in sys.modules:
            path = Path(__file__).parent.parent / "service" / "trends.py"
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            sys.modules[name] = mod
            spec.loader.exec_module(mod)  # type: ignore[union-attr]
        return sys.modules[name]
