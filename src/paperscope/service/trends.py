"""Trends: papers per week and rising terms per topic, and a 2-D map of the library laid out from its embeddings.

The map is a PCA of the library's in-memory vector space (numpy only), computed once per library and process
and reused until the embeddings change: at 3 million papers it is the one costly step, a long-running server
does it once.
"""

from __future__ import annotations

import math
import re
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from paperscope.errors import PaperscopeError
from paperscope.library import Library
from paperscope.models import Paper, Topic
from paperscope.service.results import JSONValue, Result

from paperscope.errors import NotReady

WEEKS = 26
RECENT_WEEKS = 4
TOPIC_POOL = 5000  # newest papers of a topic looked at
MAP_POINTS = 4000  # points sent to the browser; the layout itself uses every embedded paper

_WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")
# Function words: no trend, and not worth marking in a semantic search's results.
FUNCTION_WORDS = frozenset("""
a an in on of to is it as at by or be we us the and for with that this from are our which these their into can
has have been also than such its not both while each when where how via all between within but one whether same
does did done doing every whose who whom what why should would could might must may will shall was were being any
some few much very just even still yet though although because since until upon about above after again against
among around before behind below beneath beside beyond during except inside near off onto out outside per toward
towards unlike versus they them there then through most many other own here now today another either neither nor
those whereas thus hence therefore moreover furthermore only well more less further etc
""".split())
# Function words and the verbs and adjectives of every abstract: never part of a term.
_STOP = FUNCTION_WORDS | frozenset("""
using use used uses based new two three four five over show shows shown propose proposes proposed present presents
however existing large achieve achieves achieved demonstrate demonstrates without across significant
significantly provide provides under novel first improve improves improved state-of-the-art effective efficient
recent like get gets got make makes made take takes took give gives given see seen seem seems let lets often
always never sometimes several various able due enable enables enabling introduce introduces evaluate high low key
""".split())
# The nouns of every abstract: no trend alone, but a part of a phrase ("diffusion models", "sign language").
_GENERIC = frozenset("""
paper approach approaches method methods result results model models task tasks data work works study studies
performance language learning framework problem problems training way ways thing things evaluation analysis set
""".split())
_NOT_ALONE = _STOP | _GENERIC

# A term is called rising when its share of recent papers is above its share before and the difference is unlikely
# to be chance: Dunning's log-likelihood ratio (G², 1 degree of freedom) of at least this (p < 0.05).
MIN_KEYNESS = 3.84


@dataclass(slots=True)
class WeekCount:
    week: date  # the Monday the week starts on
    papers: int


@dataclass(slots=True)
class RisingTerm:
    term: str
    recent: int  # papers in the last RECENT_WEEKS weeks using it
    before: int  # papers in the weeks before
    lift: float  # recent share / earlier share, smoothed
    recent_share: float = 0.0  # recent / papers of the last RECENT_WEEKS weeks
    before_share: float = 0.0  # before / papers of the weeks before
    keyness: float = 0.0  # Dunning's G²: how unlikely the rise is by chance (3.84: p = 0.05, 10.8: p = 0.001)


@dataclass(slots=True)
class TopicTrend:
    topic: str
    papers: int
    weeks: list[WeekCount] = field(default_factory=list)
    rising: list[RisingTerm] = field(default_factory=list)
    recent_papers: int = 0  # papers of the last RECENT_WEEKS weeks, the rising terms' base


@dataclass(slots=True)
class TrendsResult(Result):
    """Per topic: papers per week (first submissions) up to `until`, and its rising terms."""

    until: date
    topics: list[TopicTrend]
    source: str = "library: first-submitted dates of each topic's newest papers"
    rising: str = (f"words and two-word phrases of the topic's titles whose share of papers in the last {RECENT_WEEKS} "
                   f"weeks grew against the weeks before, ranked by Dunning's log-likelihood (G² ≥ {MIN_KEYNESS})")


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _words(text: str) -> list[str]:
    words = [w.strip("-") for w in _WORD.findall(text.lower())]
    return [w for w in words if len(w) > 2]


def _terms_of(words: list[str]) -> set[str]:
    """Words that can stand alone, and two-word phrases of no function word with at least one such word."""
    out = {w for w in words if w not in _NOT_ALONE}
    out.update(f"{a} {b}" for a, b in zip(words, words[1:])
               if a not in _STOP and b not in _STOP and (a not in _GENERIC or b not in _GENERIC))
    return out


def _terms(p: Paper) -> set[str]:
    return _terms_of(_words(f"{p.title} {p.abstract}"))


def _stem(w: str) -> str:
    return w[:-1] if w.endswith("s") and len(w) > 3 else w


def _xlogx(o: float, e: float) -> float:
    return o * math.log(o / e) if o > 0 else 0.0


def keyness(recent: int, n_recent: int, before: int, n_before: int) -> float:
    """Dunning's log-likelihood ratio G² of a term in `recent` of `n_recent` papers against `before` of `n_before`."""
    n, k = n_recent + n_before, recent + before
    if not n or not k or k == n:
        return 0.0
    cells = ((recent, n_recent * k / n), (n_recent - recent, n_recent * (n - k) / n),
             (before, n_before * k / n), (n_before - before, n_before * (n - k) / n))
    return 2.0 * sum(_xlogx(o, e) for o, e in cells)


def rising_terms(recent: Sequence[Paper], before: Sequence[Paper], *, n: int = 12, min_recent: int = 3,
                 own: str = "") -> list[RisingTerm]:
    """Terms whose share of papers grew from `before` to `recent`, the least likely by chance first.

    Candidates are the words and two-word phrases of at least two of the papers' titles (an abstract's filler —
    "contributing", "leaves" — is in no title), used by `min_recent` recent papers or more, without the words of
    `own` (the topic's query: that a topic's papers name it is no trend). A phrase and its own words say the same
    thing: one of them is kept, the phrase when most of the word's recent papers use it."""
    if not recent:
        return []
    titles = Counter(t for p in (*recent, *before) for t in _terms_of(_words(p.title)))
    topical = {t for t, c in titles.items() if c >= 2}
    r = Counter(t for p in recent for t in _terms(p) if t in topical)
    b = Counter(t for p in before for t in _terms(p) if t in topical)
    own_words = {_stem(w) for w in _words(own)}
    nr, nb = len(recent), len(before)
    out = []
    for term, c in r.items():
        if c < min_recent or all(_stem(w) in own_words for w in term.split()):
            continue
        if nb and c / nr <= b[term] / nb:
            continue
        g2 = keyness(c, nr, b[term], nb)
        if g2 < MIN_KEYNESS:
            continue
        lift = ((c + 1) / (nr + 2)) / ((b[term] + 1) / (nb + 2))
        out.append(RisingTerm(term, c, b[term], round(lift, 2), round(c / nr, 4), round(b[term] / nb, 4) if nb else 0.0,
                              round(g2, 2)))
    out.sort(key=lambda t: (-t.keyness, -len(t.term.split()), -t.recent, t.term))  # a tie: the phrase first
    kept: list[RisingTerm] = []
    for t in out:
        words = t.term.split()
        overlap = [i for i, k in enumerate(kept) if t.term in k.term.split() or k.term in words]
        if not overlap:
            if len(kept) < n:
                kept.append(t)
        elif len(words) > 1 and all(len(kept[i].term.split()) == 1 and t.recent >= 0.8 * kept[i].recent
                                    for i in overlap):
            # its words rose as parts of this phrase: the phrase says more, in the first one's place
            kept[overlap[0]] = t
            kept = [k for i, k in enumerate(kept) if i not in overlap[1:]]
    return kept


def _topic_papers(lib: Library, topic: Topic) -> list[Paper]:
    from paperscope.service.digest import topic_papers

    return topic_papers(lib, topic, TOPIC_POOL)


def topic_trends(lib: Library, topics: Sequence[Topic], *, weeks: int = WEEKS, until: date | None = None) -> TrendsResult:
    """Papers per week and rising terms for each topic, over the `weeks` weeks up to `until` (default: the
    newest first submission among the topics' papers, so an old snapshot still shows its own last half-year)."""
    if weeks < RECENT_WEEKS + 1:
        raise PaperscopeError(f"weeks must be at least {RECENT_WEEKS + 1}")
    pools = [(t, _topic_papers(lib, t)) for t in topics]
    newest = [p.first_submitted.date() for _, ps in pools for p in ps]
    end = until or (max(newest) if newest else lib.now().date())
    last = _monday(end)
    first = last - timedelta(weeks=weeks - 1)
    split = last - timedelta(weeks=RECENT_WEEKS - 1)
    out = []
    for t, pool in pools:
        papers = [p for p in pool if first <= p.first_submitted.date() <= end]
        counts = Counter(_monday(p.first_submitted.date()) for p in papers)
        series = [WeekCount(first + timedelta(weeks=i), counts.get(first + timedelta(weeks=i), 0))
                  for i in range(weeks)]
        recent = [p for p in papers if p.first_submitted.date() >= split]
        before = [p for p in papers if p.first_submitted.date() < split]
        out.append(TopicTrend(t.name, len(papers), series, rising_terms(recent, before, own=t.query), len(recent)))
    return TrendsResult(end, out)


def trends_of(lib: Library, names: Sequence[str] = (), *, weeks: int = WEEKS,
              until: date | None = None) -> TrendsResult:
    """`topic_trends` of the config's topics, or of the named ones (NotFound names the topics there are)."""
    from paperscope.service.ingest import pick_topics

    return topic_trends(lib, pick_topics(lib, names), weeks=weeks, until=until)


# ------------------------------------------------------------------------------------------------ the map
@dataclass(slots=True)
class MapPoint:
    id: str
    x: float  # 0..1
    y: float  # 0..1
    category: str
    title: str


@dataclass(slots=True)
class LibraryMap(Result):
    """Papers placed by the first two principal components of their embeddings."""

    model: str
    embedded: int
    points: list[MapPoint]
    categories: list[tuple[str, int]]  # legend: the most common primary categories among the points shown
    explained: tuple[float, float]  # share of variance along each axis
    method: str = "PCA of the paper embeddings (numpy)"

    def to_dict(self) -> dict[str, JSONValue]:
        return {"model": self.model, "embedded": self.embedded, "method": self.method,
                "explained": list(self.explained), "categories": [list(c) for c in self.categories],
                "points": [[p.id, p.x, p.y, p.category, p.title] for p in self.points],
                "columns": ["id", "x", "y", "category", "title"]}


# Keyed by the library object so two libraries in one process never share a layout; entries go with it.
_MAPS: weakref.WeakKeyDictionary[Library, tuple[tuple[str, int, int], LibraryMap]] = weakref.WeakKeyDictionary()


def pca_2d(mat: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """The rows of `mat` projected on its first two principal components, and the variance each explains."""
    x = mat.astype(np.float64, copy=False)
    x = x - x.mean(axis=0)
    cov = x.T @ x / max(len(x) - 1, 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:2]
    total = float(vals.sum()) or 1.0
    comps = vecs[:, order]
    # a stable orientation: the largest-magnitude loading of each axis is positive
    comps *= np.sign(comps[np.abs(comps).argmax(axis=0), range(comps.shape[1])])
    return x @ comps, (round(float(vals[order[0]]) / total, 4), round(float(vals[order[1]]) / total, 4))


def library_map(lib: Library, *, max_points: int = MAP_POINTS) -> LibraryMap:
    """The library laid out in 2-D from its embeddings (NotReady when nothing is embedded)."""
    space = lib.vectors()  # NotReady(needs="embed") without embeddings
    if not len(space):
        raise NotReady("the map needs embeddings", needs="embed")
    key = (space.model, space.version, max_points)
    hit = _MAPS.get(lib)
    if hit and hit[0] == key:
        return hit[1]
    ids, mat = space.sample(max_points)  # the whole library at 2.9M papers would not fit a laptop's memory twice
    xy, explained = pca_2d(np.asarray(mat, dtype=np.float32))
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    xy = (xy - lo) / np.where(hi > lo, hi - lo, 1.0)
    papers = {p.id: p for p in lib.store.get_papers(ids)}
    points = [MapPoint(pid, round(float(xy[i, 0]), 4), round(1.0 - float(xy[i, 1]), 4),
                       (papers[pid].primary_category or "?") if pid in papers else "?",
                       _short(papers[pid].title) if pid in papers else pid) for i, pid in enumerate(ids)]
    legend = Counter(p.category for p in points).most_common(8)
    result = LibraryMap(space.model, len(space), points, legend, explained)
    _MAPS[lib] = (key, result)
    return result


def _short(title: str, n: int = 110) -> str:
    t = " ".join(title.split())
    return t if len(t) <= n else t[: n - 1] + "…"
