"""Papers: full-text and hybrid search, one paper with everything known about it, the library's size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from paperscope.errors import InputError, NotFound, NotReady, QueryError
from paperscope.library import Library
from paperscope.models import UTC, Paper, split_arxiv_id
from paperscope.service.results import JSONValue, Result
from paperscope.store.api import PaperQuery

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al.'s usual choice)
MAX_LIMIT = 10_000
COUNT_CAP = 10_000  # a page's count of matches stops here ("10,000+"): counting all of a broad query at 2.9M is slow


@dataclass(slots=True)
class SearchHit(Result):
    paper: Paper
    score: float | None = None
    text_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None


@dataclass(slots=True)
class SearchResult(Result):
    query: str
    semantic: bool
    hits: list[SearchHit]
    terms: list[str] = field(default_factory=list)  # words to highlight
    total: int | None = None  # papers matching the words, categories and dates (count=True; full text only)
    more_than: bool = False  # `total` is COUNT_CAP and there are more

    @property
    def papers(self) -> list[Paper]:
        return [h.paper for h in self.hits]


def check_limit(limit: int, what: str = "limit") -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise InputError(f"{what} must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


def _day_span(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Days (inclusive) as the datetimes that bound last updates: from the first second of `since` to the last
    of `until`, UTC."""
    lo = datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None
    hi = datetime(until.year, until.month, until.day, 23, 59, 59, tzinfo=UTC) if until else None
    return lo, hi


def filtered_query(q: PaperQuery, *, category: str | None = None, since: date | None = None,
                   until: date | None = None, has_code: bool | None = None) -> PaperQuery:
    """`q` narrowed to one arXiv category (besides its own categories, any of which it may have), to papers
    last updated between `since` and `until` (days, inclusive) and to papers with (or without) a code link: the
    store selects them over the whole library, not a filter afterwards."""
    from paperscope.query import And, Query, Term, is_category

    query = q.query
    if category:
        if not is_category(category):
            raise InputError(f"category must be an arXiv category like cs.CL, not {category!r}")
        narrow = Term(category, "cat")
        query = Query(narrow if query is None else And((query.root, narrow)))
    lo, hi = _day_span(since, until)
    if since and until and since > until:
        raise InputError(f"since ({since}) is after until ({until})")
    return PaperQuery(query, q.categories, q.title_words, lo or q.since, hi or q.until,
                      q.has_code if has_code is None else has_code)


def _in_span(p: Paper, q: PaperQuery) -> bool:
    return (q.since is None or p.updated >= q.since) and (q.until is None or p.updated <= q.until) and \
        (q.has_code is None or p.has_code == q.has_code)


def search(lib: Library, query: str, *, order: str = "relevance", limit: int = 20, categories: Sequence[str] = (),
           semantic: bool = False, pool: int = 50, count: bool = False, since: date | None = None,
           until: date | None = None, has_code: bool | None = None) -> SearchResult:
    """Full-text search in the topic query syntax; `semantic` fuses it with meaning by reciprocal rank.

    `since` / `until` (days, inclusive) bound the papers' last updates; `has_code` keeps papers with (without) a
    code link. `count` also counts every paper all of that matches (`total`), for a page that says how many
    there are beyond those shown."""
    from paperscope.query import parse_query

    check_limit(limit)
    parsed = parse_query(query)
    q = filtered_query(PaperQuery(parsed, tuple(categories)), since=since, until=until, has_code=has_code)
    terms = parsed.positive_terms()
    if not semantic:
        hits = [SearchHit(p) for p in lib.store.search(q, order=order, limit=limit)]
        total = (len(hits) if len(hits) < limit else lib.store.count_matching(q, at_most=COUNT_CAP + 1)) if count \
            else None
        return SearchResult(query, False, hits, terms, None if total is None else min(total, COUNT_CAP),
                            total is not None and total > COUNT_CAP)
    from paperscope.semantic.embed import paper_text

    text_hits = lib.store.search(q, order="relevance", limit=max(pool, limit))
    space = lib.vectors()
    qv = lib.embedder(space.model).embed([paper_text(query, "")])[0]
    narrowed = bool(categories) or q.bounded
    near = space.nearest(qv, max(pool, limit) * (3 if narrowed else 1))
    vec_papers = {p.id: p for p in lib.store.get_papers([i for i, _ in near])}
    if narrowed:
        near = [(i, s) for i, s in near if i in vec_papers and _in_span(vec_papers[i], q)
                and (not categories or set(vec_papers[i].categories) & set(categories))]
    fused: dict[str, SearchHit] = {}
    for rank, p in enumerate(text_hits, 1):
        fused.setdefault(p.id, SearchHit(p)).text_rank = rank
    for rank, (i, s) in enumerate(near[: max(pool, limit)], 1):
        if i not in vec_papers:
            continue
        hit = fused.setdefault(i, SearchHit(vec_papers[i]))
        hit.vector_rank, hit.similarity = rank, round(s, 4)
    for h in fused.values():
        h.score = round(sum(1 / (RRF_K + r) for r in (h.text_rank, h.vector_rank) if r), 6)
    hits = sorted(fused.values(), key=lambda h: (-(h.score or 0.0), h.paper.id))[:limit]
    from paperscope.service.trends import FUNCTION_WORDS

    # a sentence asked by meaning: its "that", "from", "a" are no words to mark in the results
    return SearchResult(query, True, hits, [t for t in terms if t.lower() not in FUNCTION_WORDS])


def get_paper(lib: Library, paper_id: str) -> Paper:
    """The paper of an id (with or without version, or an arXiv URL); NotFound when the library lacks it."""
    pid = split_arxiv_id(paper_id)[0]
    p = lib.store.get_paper(pid)
    if p is None:
        raise NotFound(f"{paper_id}: not in the library", kind="paper", key=pid)
    return p


@dataclass(slots=True)
class Citations(Result):
    count: int | None
    source: str
    fetched: str
    counts_by_year: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class Neighbour(Result):
    id: str
    title: str
    submitted: str
    similarity: float


@dataclass(slots=True)
class NoveltyInfo(Result):
    value: float | None
    percentile: float | None
    k: int
    reason: str
    computed: str
    neighbours: list[Neighbour] = field(default_factory=list)


@dataclass(slots=True)
class ScoreInput(Result):
    """One input of an AI Score as a reader sees it: its value and the points it adds (None: not scored)."""

    input: str
    value: str
    points: float | None


@dataclass(slots=True)
class ScoreInfo(Result):
    value: float
    method: str
    text: str
    inputs: dict[str, JSONValue] = field(default_factory=dict)
    computed: str = ""
    base: float | None = None  # the points of an average paper, where the inputs' points add to it
    breakdown: list[ScoreInput] = field(default_factory=list)  # largest |points| first


def score_breakdown(inputs: dict[str, JSONValue]) -> tuple[float | None, list[ScoreInput]]:
    """The stored inputs of a score as (base, one row per input, largest |points| first)."""
    values, points, base = inputs.get("values"), inputs.get("contributions"), inputs.get("base")
    if not isinstance(values, dict):
        return None, []
    pts = points if isinstance(points, dict) else {}
    rows = []
    for name, v in values.items():
        got = pts.get(name)
        rows.append(ScoreInput(str(name), str(v), float(got) if isinstance(got, (int, float)) else None))
    rows.sort(key=lambda r: -abs(r.points or 0.0))
    return (float(base) if isinstance(base, (int, float)) else None), rows


@dataclass(slots=True)
class PaperDetail(Result):
    paper: Paper
    code_url: str
    citations: Citations | None
    novelty: NoveltyInfo | None
    score: ScoreInfo | None
    similar: list[Neighbour]
    bibtex: str
    missing: dict[str, str] = field(default_factory=dict)  # figure -> the step it needs


def novelty_info(lib: Library, pid: str) -> NoveltyInfo | None:
    got = lib.store.novelty_for([pid]).get(pid)
    if got is None:
        return None
    nb = {p.id: p for p in lib.store.get_papers([n for n, _ in got["neighbours"]])}
    return NoveltyInfo(got["value"], got["percentile"], int(got["k"]), got["reason"] or "", got["computed"],
                       [Neighbour(n, nb[n].title, nb[n].first_submitted.date().isoformat(), float(s))
                        for n, s in got["neighbours"] if n in nb])


def score_text(value: float, paper: Paper, method: str, inputs: dict[str, JSONValue] | None = None) -> str:
    """What an AI Score means, in words (the model's own headline and quality when stored): never a bare number."""
    if inputs and isinstance(inputs.get("text"), str):
        text = str(inputs["text"])
        quality = inputs.get("quality")
        if isinstance(quality, str) and quality:
            text += f" · {inputs.get('model', method)}: {quality}"
        elif isinstance(quality, dict) and isinstance(rho := quality.get("spearman"), (int, float)):
            text += f" · {inputs.get('model', method)}, held-out Spearman {float(rho):.2f}"
        elif inputs.get("model"):
            text += f" · {inputs['model']}"
        return text
    cat = paper.primary_category or "arXiv"
    year = paper.first_submitted.year
    by = {"model": "the library's own model", "formula": "the fallback formula"}.get(method, method)
    return f"AI Score {value:.0f} — predicted citation percentile among {cat} papers of {year} ({by})"


def score_info(lib: Library, pid: str, paper: Paper) -> ScoreInfo | None:
    got = lib.store.scores_for([pid]).get(pid)
    if got is None:
        return None
    base, rows = score_breakdown(got["inputs"])
    value = float(got["value"])
    return ScoreInfo(value, got["method"], score_text(value, paper, got["method"], got["inputs"]), got["inputs"],
                     got["computed"], base, rows)


def paper_detail(lib: Library, paper_id: str, *, similar: int = 5) -> PaperDetail:
    """One paper with everything the library knows: versions, code, citations, novelty and its evidence,
    the AI Score with its inputs, similar papers and BibTeX; `missing` names the steps not yet run."""
    from paperscope.render.bibtex import paper_bibtex

    p = get_paper(lib, paper_id)
    store = lib.store
    missing: dict[str, str] = {}
    c = store.citations_for([p.id]).get(p.id)
    cites = Citations(c["cited_by_count"], c["source"], c["fetched"], dict(c["counts_by_year"])) if c else None
    if cites is None:
        missing["citations"] = "enrich"
    nov = novelty_info(lib, p.id)
    if nov is None:
        missing["novelty"] = "novelty" if store.active_model() else "embed"
    sc = score_info(lib, p.id, p)
    if sc is None:
        missing["score"] = "score" if store.active_model() else "embed"
    near: list[Neighbour] = []
    if similar and store.active_model():
        try:
            from paperscope.service.meaning import similar as similar_papers

            near = [Neighbour(h.paper.id, h.paper.title, h.paper.first_submitted.date().isoformat(), h.similarity)
                    for h in similar_papers(lib, p.id, k=similar).hits]
        except NotReady:
            missing["similar"] = "embed"
    elif similar:
        missing["similar"] = "embed"
    return PaperDetail(p, p.code_url, cites, nov, sc, near, paper_bibtex(p), missing)


@dataclass(slots=True)
class LibraryStats(Result):
    db: str
    papers: int
    embedded_with: str | None
    following: int
    readonly: bool


def stats(lib: Library) -> LibraryStats:
    """How many papers the library holds, and where it is."""
    s = lib.store
    return LibraryStats(s.path, s.count(), s.active_model(), len(s.following()), s.readonly)


__all__ = ["LibraryStats", "PaperDetail", "QueryError", "SearchHit", "SearchResult", "get_paper", "paper_detail",
           "search", "stats"]
