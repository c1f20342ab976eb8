"""People: find a person in the library, build their profile, follow them, and the citation enrichment run.

Who is who: the author strings that can fit a name come from the author index (one indexed lookup of the keys
`author_lookup_keys` gives; the full-text index on the surname while the author index is being filled), each
is checked with `names_compatible`, and the matches are grouped into people by `merge_identities` (OpenAlex id
or ORCID first, never merging two different ids).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from paperscope.errors import Ambiguous, InputError, NotFound
from paperscope.library import Library
from paperscope.models import UTC, AuthorProfile, Figure, Paper, PaperCard
from paperscope.service.results import JSONValue, Result, jsonable
from paperscope.scoring import metrics
from paperscope.scoring.affiliations import affiliation_tag
from paperscope.scoring.names import (
    Identity,
    author_lookup_keys,
    display_name,
    merge_identities,
    name_key,
    names_compatible,
    parse_name,
)
from paperscope.store.api import AuthorshipRecord, Store
from paperscope.store.authors import surname_tokens

if TYPE_CHECKING:
    from paperscope.service.meaning import SimilarAuthor

ORDERS = ("citations", "newest", "novelty")


class AmbiguousAuthor(Ambiguous):
    """A name that fits several people; `candidates` lists them (Identity records)."""

    def __init__(self, name: str, candidates: list[Identity], breadth: Breadth | None = None) -> None:
        lines = [f"{c.name} ({len(c.paper_ids)} papers{', OpenAlex ' + c.openalex_id if c.openalex_id else ''})"
                 for c in candidates[:10]]
        if breadth is None:
            fits = f"{name!r} fits {len(candidates)} people: "
        else:
            fits = (f"{name!r} fits {breadth.rows:,} author entries under {breadth.spellings:,} spellings; "
                    f"the most frequent are {len(candidates)} people: ")
        super().__init__(fits + "; ".join(lines) + " — give the full name, or pick one by OpenAlex id or ORCID",
                         candidates=list(candidates))
        self.people = candidates
        self.breadth = breadth


# A name that fits more author rows than anyone has papers ("Wang", "Y. Li": hundreds of thousands in a whole-arXiv
# library) names many people; grouping every one of them took 12 s at 1M papers. Such a name is answered from its
# exact spelling and its most frequent spellings: at least BROAD_SPELLINGS of them and BROAD_SAMPLE rows, at most
# BROAD_SAMPLE_MAX rows (the people listed come from those).
BROAD_ROWS = 10_000
BROAD_SAMPLE = 5_000
BROAD_SAMPLE_MAX = 20_000
BROAD_SPELLINGS = 40
BROAD_MAX_SPELLINGS = 2_000


@dataclass(slots=True)
class Breadth:
    """How much a broad name fits: its distinct spellings and their author rows (the people found are a part)."""

    spellings: int
    rows: int


def _fitting(store: Store, name: str, *, whole: bool = False) -> tuple[list[tuple[str, int, str]], Breadth | None]:
    """(arxiv_id, author position, author string) of every author string that fits `name`, in library order
    (for a broad name, unless `whole`, of its likeliest spellings, with how broad it is)."""
    def fits(n: str) -> bool:
        return names_compatible(name, n)

    keys, prefixes = author_lookup_keys(name)
    counts = store.author_name_counts(keys, prefixes)
    if counts is not None:
        fitting = [(n, c) for n, c in counts if fits(n)]
        total = sum(c for _, c in fitting)
        broad = total > BROAD_ROWS and not whole
        if broad:
            rows = store.author_index(keys, prefixes, names=_likeliest(name, fitting))
        else:  # every fitting spelling, already judged above
            rows = store.author_index(keys, prefixes, {n for n, _ in fitting}.__contains__)
        if rows is not None:
            return rows, Breadth(len(fitting), total) if broad else None
    # The author index is not filled yet: every author string on the papers that have the surname's words.
    _, last, _ = parse_name(display_name(name))
    return [(arxiv_id, pos, n) for arxiv_id, names in store.author_candidates(surname_tokens(last or name))
            for pos, n in enumerate(names) if fits(n)], None


def _likeliest(name: str, fitting: list[tuple[str, int]]) -> list[str]:
    """The spellings of a broad name to group into people: those written exactly as asked, then the most frequent
    (see BROAD_SAMPLE and its neighbours)."""
    wanted = display_name(name).lower()
    chosen = [n for n, _ in fitting if display_name(n).lower() == wanted][:BROAD_MAX_SPELLINGS]
    taken = set(chosen)
    rows = sum(c for n, c in fitting if n in taken)
    for n, c in sorted(fitting, key=lambda nc: (-nc[1], nc[0])):
        enough = rows >= BROAD_SAMPLE and len(chosen) >= BROAD_SPELLINGS
        if enough or rows >= BROAD_SAMPLE_MAX or len(chosen) >= BROAD_MAX_SPELLINGS:
            break
        if n not in taken:
            chosen.append(n)
            taken.add(n)
            rows += c
    return chosen


def _records(store: Store, name: str, *,
             whole: bool = False) -> tuple[list[tuple[str, str | None, str | None, str]], Breadth | None]:
    rows, breadth = _fitting(store, name, whole=whole)
    ships = store.authorships_for(list(dict.fromkeys(r[0] for r in rows))) if rows else {}
    out = []
    by_paper: dict[str, dict[int, AuthorshipRecord]] = {}
    for arxiv_id, pos, n in rows:
        by_pos = by_paper.get(arxiv_id)
        if by_pos is None:
            by_pos = by_paper[arxiv_id] = {a["position"]: a for a in ships.get(arxiv_id, [])}
        a = by_pos.get(pos)
        if a is not None and not names_compatible(a["name"], n):
            a = None  # the sources disagree on the order: trust neither id
        out.append((n, a["openalex_id"] if a else None, a["orcid"] if a else None, arxiv_id))
    return out, breadth


def _people(store: Store, name: str, *, whole: bool = False) -> tuple[list[Identity], Breadth | None]:
    records, breadth = _records(store, name, whole=whole)
    people = merge_identities(records)
    people.sort(key=lambda i: (-len(i.paper_ids), i.name))
    return people, breadth


def find_people(store: Store, name: str) -> list[Identity]:
    """Everyone in the library whose name fits `name`, most papers first (for a name that fits more than
    BROAD_ROWS author rows, the people among its exact and most frequent spellings)."""
    return _people(store, name)[0]


def find_author(store: Store, name: str, *, author_id: str | None = None) -> Identity:
    """The one person meant by `name` (or by an OpenAlex id / ORCID); AmbiguousAuthor lists the candidates."""
    # An id picks one person out of any crowd: then every spelling is grouped, however broad the name.
    people, breadth = _people(store, name, whole=bool(author_id))
    if author_id:
        aid = author_id.strip().rstrip("/").rsplit("/", 1)[-1].upper()
        people = [p for p in people if aid in ((p.openalex_id or "").upper(), (p.orcid or "").upper())]
    if not people:
        raise NotFound(f"no author named {name!r} in the library", kind="author", key=name)
    if len(people) == 1 and breadth is None:  # of a broad name's spellings only some were grouped
        return people[0]
    exact = [p for p in people if name_key(p.name) == name_key(name) and any(
        display_name(n).lower() == display_name(name).lower() for n in p.names)]
    if len(exact) == 1 and all(p.openalex_id is None for p in people if p is not exact[0]):
        return exact[0]
    raise AmbiguousAuthor(name, people, breadth)


def _institution(inst: dict[str, JSONValue]) -> tuple[str, str | None, str | None]:
    """(name, acronym, ROR id) of an institution as the citation sources stored it."""
    def text(key: str) -> str | None:
        v = inst.get(key)
        return v if isinstance(v, str) and v else None

    return text("name") or "", text("acronym"), text("ror")


def _tags_for(paper: Paper, ships: list[AuthorshipRecord]) -> list[str]:
    tags: list[str] = []
    for a in paper.authors:
        for aff in a.affiliations:
            t = affiliation_tag(aff)
            if t and t not in tags:
                tags.append(t)
    for s in ships:
        for inst in s["institutions"]:
            t = affiliation_tag(*_institution(inst))
            if t and t not in tags:
                tags.append(t)
    return tags


@dataclass(slots=True)
class ProfileInputs:
    """Scores other parts of paperscope add to a profile (novelty and AI Score come from the semantic layer)."""

    novelty: dict[str, float] = field(default_factory=dict)  # arxiv id -> percentile
    scores: dict[str, float] = field(default_factory=dict)  # arxiv id -> 0-100
    author_novelty: Figure | None = None
    author_score: Figure | None = None


def build_profile(store: Store, person: Identity, *, order: str = "citations", today: date | None = None,
                  inputs: ProfileInputs | None = None) -> AuthorProfile:
    """Everything an author page shows, computed from the library and labelled with its source."""
    if order not in ORDERS:
        raise InputError(f"unknown order {order!r}: choose one of {', '.join(ORDERS)}")
    today = today or datetime.now(UTC).date()
    inputs = inputs or ProfileInputs()
    papers = store.get_papers(person.paper_ids)
    ids = [p.id for p in papers]
    cites = store.citations_for(ids)
    ships = store.authorships_for(ids)
    counts = {i: c["cited_by_count"] for i, c in cites.items() if c["cited_by_count"] is not None}
    known = list(counts.values())
    sources = sorted({c["source"] for c in cites.values()})
    lib_src = "library" + (f" ({', '.join(sources)} citations)" if sources else "")
    per_year: Counter[int] = Counter()
    for c in cites.values():
        per_year.update(c["counts_by_year"])
    h = metrics.h_index(known) if known else None
    figures = [
        Figure("Papers", len(papers), "library"),
        Figure("Citations", sum(known) if known else None, lib_src, {"papers with figures": len(known)}),
        Figure("h-index", h, lib_src),
        Figure("i10-index", metrics.i10_index(known) if known else None, lib_src),
        Figure("Citations per year of career",
               round(metrics.citation_rate([(p.first_submitted.year, counts.get(p.id, 0)) for p in papers],
                                           today.year), 1) if known else None, lib_src),
    ]
    stats = store.author_stats(person.openalex_id) if person.openalex_id else None
    if stats:
        src = f"OpenAlex ({stats['fetched'][:10]})"
        figures += [Figure("h-index", stats["h_index"], src), Figure("i10-index", stats["i10_index"], src),
                    Figure("Works", stats["works_count"], src), Figure("Citations", stats["cited_by_count"], src),
                    Figure("2-year mean citedness", stats["two_year_mean"], src)]
    me = name_key(person.name)
    co_keys = [[name_key(a.name) for a in p.authors] for p in papers]
    top = metrics.top_coauthors(me, co_keys, n=10)
    wanted = {k for k, _ in top}
    spelled: dict[str, str] = {}  # each co-author as first written in the papers
    for p, keys in zip(papers, co_keys):
        for a, k in zip(p.authors, keys):
            if k in wanted and k not in spelled:
                spelled[k] = display_name(a.name)
    coauthors = [(spelled.get(k, k), n) for k, n in top]
    affs: dict[str, str] = {}
    for p in papers:
        for a in p.authors:
            if names_compatible(person.name, a.name):
                for aff in a.affiliations:
                    affs.setdefault(affiliation_tag(aff), aff)
        for s in ships.get(p.id, []):
            if person.openalex_id and s["openalex_id"] == person.openalex_id or names_compatible(person.name, s["name"]):
                for inst in s["institutions"]:
                    name, acronym, ror = _institution(inst)
                    affs.setdefault(affiliation_tag(name, acronym, ror), name)
    cards = [PaperCard(paper=p, category_code=metrics.category_code(p.primary_category or "?"),
                       date_label=metrics.card_date(p.first_submitted.date(), today),
                       # first_authors shows three and says "et al." past them: four names tell it all
                       authors_label=metrics.first_authors([display_name(a.name) for a in p.authors[:4]]),
                       affiliation_tags=_tags_for(p, ships.get(p.id, [])), citations=counts.get(p.id),
                       novelty=inputs.novelty.get(p.id), score=inputs.scores.get(p.id)) for p in papers]
    sort_cards(cards, order)
    dash = "—"
    return AuthorProfile(
        name=display_name(person.name), key=me, generated=today, names=sorted({display_name(n) for n in person.names}),
        openalex_id=person.openalex_id, orcid=person.orcid,
        h_index=Figure("h-index", h, lib_src), papers=figures[0], citations=figures[1],
        novelty=inputs.author_novelty or Figure("Novelty", None, f"{dash} (needs embeddings)"),
        score=inputs.author_score or Figure("Score", None, f"{dash} (needs embeddings)"),
        figures=figures, citations_per_year=dict(sorted(per_year.items())),
        categories=metrics.category_shares(p.primary_category for p in papers if p.primary_category),
        coauthors=coauthors, affiliations=sorted((t, n) for t, n in affs.items() if t), cards=cards, order=order,
        followed=any(f["key"] == me for f in store.following()),
    )


def sort_cards(cards: list[PaperCard], order: str) -> None:
    """citations (most first, then newest), newest (first submitted), or novelty (most novel first)."""
    if order == "newest":
        cards.sort(key=lambda c: (c.paper.first_submitted, c.paper.id), reverse=True)
    elif order == "novelty":
        cards.sort(key=lambda c: (c.novelty is not None, c.novelty or 0, c.paper.first_submitted), reverse=True)
    else:
        cards.sort(key=lambda c: (c.citations or 0, c.paper.first_submitted, c.paper.id), reverse=True)


# ------------------------------------------------------------------------------------------------ follow
@dataclass(slots=True)
class FollowResult(Result):
    name: str
    key: str
    papers: int
    followed: bool  # following now
    changed: bool  # this call changed it


def follow(lib: Library, name: str, *, author_id: str | None = None) -> FollowResult:
    """Follow the person `name` means (`fetch` then brings their new papers and versions)."""
    person = find_author(lib.store, name, author_id=author_id)
    key = name_key(person.name)
    new = lib.store.follow(key, display_name(person.name), lib.now())
    return FollowResult(display_name(person.name), key, len(person.paper_ids), True, new)


def unfollow(lib: Library, name: str) -> FollowResult:
    """Stop following an author (NotFound when not followed)."""
    key = name_key(name)
    spelled = next((f["name"] for f in lib.store.following() if f["key"] == key), name)
    if not lib.store.unfollow(key):
        raise NotFound(f"not following {name!r}", kind="follow", key=key)
    return FollowResult(spelled, key, 0, False, True)


@dataclass(slots=True)
class Followed(Result):
    name: str
    key: str
    since: str


@dataclass(slots=True)
class FollowingResult(Result):
    authors: list[Followed]


def following(lib: Library) -> FollowingResult:
    """The authors the researcher follows."""
    return FollowingResult([Followed(f["name"], f["key"], f["since"]) for f in lib.store.following()])


@dataclass(slots=True)
class FollowedPaper(Result):
    paper: Paper
    author: str  # the followed author, as followed
    label: str  # "new" (a first version) or "revised"


@dataclass(slots=True)
class FollowingPage(Result):
    """Whom the researcher follows and what they put out in the `days` up to the library's newest announcement."""

    authors: list[Followed]
    papers: list[FollowedPaper]
    days: int
    until: date


def following_page(lib: Library, *, days: int = 30, today: date | None = None) -> FollowingPage:
    """The followed authors and their new papers and revisions of the last `days` before the newest
    announcement in the library (an old snapshot shows its own last month) or `today`, whichever is earlier."""
    from paperscope.service.meaning import newest_announcement

    if not 1 <= days <= 3650:
        raise InputError(f"days must be between 1 and 3650, not {days}")
    end = min(today or lib.today(), newest_announcement(lib))
    since = datetime(end.year, end.month, end.day, tzinfo=UTC) - timedelta(days=days)
    rows = [FollowedPaper(p, who, label) for p, who, label in followed_papers(lib, since=since)]
    return FollowingPage(following(lib).authors, rows, days, end)


def followed_papers(lib: Library, *, since: datetime) -> list[tuple[Paper, str, str]]:
    """(paper, followed author, "new" | "revised") for papers by followed authors updated since `since`."""
    store = lib.store
    out: dict[str, tuple[Paper, str, str]] = {}
    for f in store.following():
        ids = list(dict.fromkeys(r[0] for r in _fitting(store, f["name"], whole=True)[0]))
        for p in store.get_papers(ids):
            if p.updated >= since and p.id not in out:
                out[p.id] = (p, f["name"], "new" if p.version == 1 else "revised")
    return sorted(out.values(), key=lambda t: (t[0].updated, t[0].id), reverse=True)


def author_search_query(name: str) -> str:
    """arXiv API query for a person's papers: au:Last_First-initial catches both spellings arXiv indexes."""
    first, last, _ = parse_name(display_name(name))
    from paperscope.scoring.names import ascii_fold

    last_q = "_".join(ascii_fold(last).split())
    return f"au:{last_q}_{ascii_fold(first)[:1]}" if first else f"au:{last_q}"


# ------------------------------------------------------------------------------------------------ enrich
@dataclass(slots=True)
class EnrichReport(Result):
    asked: int = 0
    found: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    authors: int = 0


def enrich(lib: Library, *, max_age_days: int | None = None, limit: int | None = None, batch: int = 500,
           progress: Callable[[int], None] | None = None) -> EnrichReport:
    """Fetch citation figures (OpenAlex, then Semantic Scholar) for papers missing them or older than
    `max_age_days` (default: the config's), in saved batches, and refresh followed authors' figures.

    Each batch is stored before the next is asked for, so an interrupted run resumes where it stopped.
    """
    from paperscope.sources.citations import fetch_citations

    store = lib.store
    primary, fallback, author_source = lib.sources.openalex, lib.sources.semanticscholar, lib.sources.openalex
    now = lib.now()
    if max_age_days is None:
        max_age_days = int(lib.settings.enrich_max_age_days)
    ids = store.ids_needing_citations(now - timedelta(days=max_age_days), limit=limit)
    report = EnrichReport(asked=len(ids))
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        found = fetch_citations(chunk, primary, fallback, clock=lambda: now)
        store.save_citations(found.values())
        report.found += len(found)
        for r in found.values():
            report.by_source[r.source] = report.by_source.get(r.source, 0) + 1
        if progress:
            progress(len(chunk))
    if author_source is not None:
        wanted: set[str] = set()
        for f in store.following():
            for person in find_people(store, f["name"]):
                if person.openalex_id and name_key(person.name) == f["key"]:
                    wanted.add(person.openalex_id)
        if wanted:
            stats = author_source.authors(sorted(wanted))
            store.save_author_stats(stats.values())
            report.authors = len(stats)
    return report


def people_to_dicts(people: Sequence[Identity]) -> list[dict[str, object]]:
    return [{"name": p.name, "key": p.key, "names": p.names, "openalex_id": p.openalex_id, "orcid": p.orcid,
             "papers": len(p.paper_ids)} for p in people]


@dataclass(slots=True)
class ProfileResult(Result):
    profile: AuthorProfile
    similar: list[SimilarAuthor] = field(default_factory=list)  # asked with similar=k and the library embedded

    def to_dict(self) -> dict[str, JSONValue]:
        from paperscope.render.profile import profile_to_dict

        out = jsonable(profile_to_dict(self.profile))
        assert isinstance(out, dict)
        if self.similar:
            out["similar_authors"] = [s.to_dict() for s in self.similar]
        return out


def author_profile(lib: Library, name: str, *, author_id: str | None = None, order: str = "citations",
                   similar: int = 0) -> ProfileResult:
    """Find the person and build their profile (novelty and AI Score included when the library has them);
    `similar` > 0 adds that many authors nearest in meaning when the library is embedded."""
    store = lib.store
    person = find_author(store, name, author_id=author_id)
    inputs = ProfileInputs()
    today = lib.today()
    near: list[SimilarAuthor] = []
    if store.active_model():
        from paperscope.errors import NotReady
        from paperscope.service.meaning import author_figures, similar_to_person

        nov, sc, nfig, sfig = author_figures(lib, person.paper_ids, today=today)
        inputs = ProfileInputs(novelty=nov, scores=sc, author_novelty=nfig, author_score=sfig)
        if similar:
            try:
                near = similar_to_person(lib, person, k=similar).authors
            except NotReady:  # none of their papers embedded yet
                pass
    return ProfileResult(build_profile(store, person, order=order, today=today, inputs=inputs), near)


def render_profile(result: ProfileResult, fmt: str, *, view: str = "cards") -> str:
    """The profile as text via the renderer registry (markdown, html, json)."""
    from paperscope.render.registry import render

    if fmt == "json":
        return render("profile", "json", result.profile)
    return render("profile", fmt, result.profile, view=view)
