"""Topic digests: each topic's newest papers (ordered as the topic asks), followed authors, recommendations.

`build_digest` is what the CLI's `digest`, the web app's home and topic pages and the email all show;
`topic_page` is one topic with the web app's filters; `write_digest` writes the files of a static digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from paperscope.errors import InputError
from paperscope.library import Library
from paperscope.models import Paper, Topic
from paperscope.render.model import Digest, DigestSection
from paperscope.service.ingest import pick_topics, topic_query
from paperscope.service.papers import COUNT_CAP, filtered_query
from paperscope.service.results import JSONValue, Result, as_dict, jsonable

if TYPE_CHECKING:
    from paperscope.service.meaning import Recommendation, RecommendResult

FOLLOW_WINDOW_DAYS = 7
ORDERS = ("date", "novelty", "score", "fit")


@dataclass(slots=True)
class DigestResult(Result):
    digest: Digest
    notes: list[str] = field(default_factory=list)

    @property
    def sections(self) -> list[DigestSection]:
        return self.digest.sections

    def to_dict(self) -> dict[str, JSONValue]:
        from paperscope.render.jsonout import digest_to_dict

        return {"digest": jsonable(digest_to_dict(self.digest)), "notes": list(self.notes)}


def _empty_note(lib: Library) -> str:
    last = as_dict(lib.store.get_state("announce:last"))
    if last.get("empty"):
        return f"arXiv announced nothing on {last.get('date')} (weekend or holiday)."
    return "No papers in the library match this topic yet."


def build_digest(lib: Library, topics: Sequence[str] = (), *, today: date | None = None) -> DigestResult:
    """One section per topic with its newest papers (reordered by novelty, score or fit when the topic asks),
    then followed authors, then "Recommended for you" when a library file is set (or papers were rated up) and
    vectors exist."""
    store = lib.store
    day = today or lib.today()
    library = _library_path(lib)
    notes: list[str] = []
    sections = []
    for t in pick_topics(lib, topics):
        papers, why = order_papers(lib, topic_papers(lib, t), t.order, library)
        if why:
            notes.append(f"topic {t.name!r}: {why}")
        sections.append(DigestSection(title=t.name, papers=papers, topic=t,
                                      note="" if papers else _empty_note(lib)))
    if store.following():
        from paperscope.service.people import following_page

        # the week before the newest announcement the library holds (an old snapshot still shows its own week)
        week = following_page(lib, days=FOLLOW_WINDOW_DAYS, today=day)
        sections.append(DigestSection(
            title="Followed authors", papers=[r.paper for r in week.papers],
            labels={r.paper.id: f"{r.label} · {r.author}" for r in week.papers},
            note="" if week.papers else (f"No new papers or revisions by followed authors in the {FOLLOW_WINDOW_DAYS} "
                                         f"days up to {week.until.isoformat()}.")))
    from paperscope.service.meaning import rated_up, recommend

    liked_only = not library and bool(rated_up(lib))  # the papers rated up are the library
    if (library or liked_only) and store.active_model():
        days = int(lib.settings.recommend_days)
        try:
            rep = recommend(lib, library, days=days, limit=20, today=day)
        except InputError as e:
            if not liked_only:
                raise
            notes.append(f"recommendations: {e}")  # e.g. none of the liked papers embedded yet
        else:
            sections.append(recommended_section(rep, days))
    return DigestResult(Digest(generated=day, sections=sections), notes)


def recommended_section(rep: RecommendResult, days: int) -> DigestSection:
    """"Recommended for you": each paper labelled with the library paper it is most like, by title and id."""
    def like(r: Recommendation) -> str:
        if not r.resembles:
            return ""
        top = r.resembles[0]
        title = top.title if len(top.title) <= 70 else top.title[:69].rstrip() + "…"
        return f"like “{title}” ({top.id})" if title else f"like {top.id}"

    return DigestSection(
        title="Recommended for you", papers=[r.paper for r in rep.recommendations],
        labels={r.paper.id: like(r) for r in rep.recommendations if r.resembles},
        note="" if rep.recommendations else f"Nothing new in the last {days} days resembles your library.")


def _library_path(lib: Library) -> str | None:
    raw = lib.settings.library_file
    return str(Path(raw).expanduser()) if raw else None


def topic_papers(lib: Library, topic: Topic, limit: int | None = None) -> list[Paper]:
    """The newest papers of a topic, newest first by last update, ties by id."""
    return lib.store.newest_matching(topic_query(topic), limit or topic.max_papers)


def order_papers(lib: Library, papers: list[Paper], order: str, library: str | None) -> tuple[list[Paper], str]:
    """A topic's papers by date (as they come), novelty percentile, AI Score or fit to the researcher's library;
    the second value says why the order asked for could not be used ('' when it was)."""
    if order not in ORDERS:
        raise InputError(f"unknown order {order!r}: choose one of {', '.join(ORDERS)}")
    if order == "date" or not papers:
        return papers, ""
    store = lib.store
    if not store.active_model():
        return papers, f"ordered by date: {order} needs embeddings"
    ids = [p.id for p in papers]
    key: dict[str, float] = {}
    if order == "novelty":
        key = {i: (d["percentile"] if d["percentile"] is not None else -1.0) for i, d in store.novelty_for(ids).items()}
    elif order == "score":
        key = {i: float(d["value"]) for i, d in store.scores_for(ids).items()}
    elif order == "fit":
        from paperscope.service.meaning import library_fit, rated_up

        if not library and not rated_up(lib):
            return papers, "ordered by date: fit needs library_file in the config or papers rated up"
        key = library_fit(lib, library, ids)
    return sorted(papers, key=lambda p: key.get(p.id, -1.0), reverse=True), ""


@dataclass(slots=True)
class TopicPage(Result):
    topic: Topic
    order: str
    papers: list[Paper]
    note: str = ""
    novelty: dict[str, float] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    code: dict[str, str] = field(default_factory=dict)
    ratings: dict[str, str] = field(default_factory=dict)
    total: int | None = None  # the topic's papers within the filters (asked with count=True)
    more_than: bool = False  # `total` is COUNT_CAP and there are more


def topic_page(lib: Library, name: str, *, order: str = "date", category: str | None = None,
               has_code: bool | None = None, since: date | None = None, until: date | None = None,
               limit: int | None = None, count: bool = False) -> TopicPage:
    """One topic's papers as a page: ordered, filtered by category, code and date range, with their scores;
    `count` also says how many papers the topic holds within the filters (up to COUNT_CAP)."""
    topic = pick_topics(lib, [name])[0]
    want = limit or topic.max_papers
    q = filtered_query(topic_query(topic), category=category, since=since, until=until, has_code=has_code)
    store = lib.store
    pool = store.newest_matching(q, want)
    filtered = bool(category or since or until or has_code is not None)
    total = None  # how many the topic holds within the filters
    if count:
        total = store.count_matching(q, at_most=COUNT_CAP + 1) if len(pool) >= want else len(pool)
    papers, why = order_papers(lib, pool[:want], order, _library_path(lib))
    ids = [p.id for p in papers]
    nov = {i: d["percentile"] for i, d in store.novelty_for(ids).items() if d["percentile"] is not None}
    sc = {i: float(d["value"]) for i, d in store.scores_for(ids).items()}
    rated = store.ratings()
    empty = "No papers of this topic match these filters." if filtered else _empty_note(lib)
    return TopicPage(topic, order, papers, note=why or ("" if papers else empty), novelty=nov,
                     scores=sc, code={p.id: p.code_url for p in papers if p.code_url},
                     ratings={i: rated[i] for i in ids if i in rated},
                     total=None if total is None else min(total, COUNT_CAP),
                     more_than=total is not None and total > COUNT_CAP)


def render_digest(result: DigestResult | Digest, fmt: str) -> str:
    """The digest as one text in `fmt` (markdown, html, json, atom: every topic's feed, one after another)."""
    from paperscope.render.registry import render

    digest = result.digest if isinstance(result, DigestResult) else result
    return render("digest", fmt, digest)


@dataclass(slots=True)
class WrittenFiles(Result):
    folder: Path
    files: list[Path]


def write_digest(lib: Library, result: DigestResult, out_dir: str | Path) -> WrittenFiles:
    """Write README.md (Markdown), index.html, digest.json and one Atom feed per topic under feeds/."""
    from paperscope.render.atom import render_atom
    from paperscope.render.model import section_slugs
    from paperscope.render.registry import render

    digest = result.digest
    out = Path(out_dir).expanduser()
    (out / "feeds").mkdir(parents=True, exist_ok=True)
    written = []
    for name, fmt in (("README.md", "markdown"), ("index.html", "html"), ("digest.json", "json")):
        (out / name).write_text(render("digest", fmt, digest), encoding="utf-8")
        written.append(out / name)
    for s, slug in zip(digest.sections, section_slugs(digest)):
        p = out / "feeds" / f"{slug}.xml"
        p.write_text(render_atom(s, digest, slug=slug), encoding="utf-8")
        written.append(p)
    return WrittenFiles(out, written)
