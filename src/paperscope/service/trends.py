"""Trends: papers per week and rising terms per topic, and a 2-D map of the library laid out from its embeddings.

The map is a PCA of the library's in-memory vector space (numpy only), computed once per library and process
and reused until the embeddings change: at 3 million papers it is the one costly step, a long-running server
does it once.
"""

from __future__ import annotations

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
_STOP = frozenset("""
the and for with that this from are our which these their into can has have been also than such more its not
both while each when where how using use used based via new two over other all between within show shows
paper propose proposed approach method methods results result model models task tasks data work study present
however existing performance large language learning framework achieve achieves demonstrate further without
across well only they them there then through most many significant significantly provide provides under
novel first improve improves improved state-of-the-art effective efficient problem problems recent training
""".split())


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


@dataclass(slots=True)
class TopicTrend:
    topic: str
    papers: int
    weeks: list[WeekCount] = field(default_factory=list)
    rising: list[RisingTerm] = field(default_factory=list)


@dataclass(slots=True)
class TrendsResult(Result):
    """Per topic: papers per week (first submissions) up to `until`, and its rising terms."""

    until: date
    topics: list[TopicTrend]
    source: str = "library: first-submitted dates of each topic's newest papers"


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _terms(p: Paper) -> set[str]:
    words = [w.strip("-") for w in _WORD.findall(f"{p.title} {p.abstract}".lower())]
    words = [w for w in words if len(w) > 2]
    out = {w for w in words if w not in _STOP}
    out.update(f"{a} {b}" for a, b in zip(words, words[1:]) if a not in _STOP and b not in _STOP)
    return out


def rising_terms(recent: Sequence[Paper], before: Sequence[Paper], *, n: int = 12,
                 min_recent: int = 3) -> list[RisingTerm]:
    """Terms (words and two-word phrases) whose share of papers grew most, add-one smoothed."""
    if not recent:
        return []
    r = Counter(t for p in recent for t in _terms(p))
    b = Counter(t for p in before for t in _terms(p))
    nr, nb = len(recent), max(len(before), 1)
    out = []
    for term, c in r.items():
        if c < min_recent:
            continue
        lift = ((c + 1) / (nr + 2)) / ((b[term] + 1) / (nb + 2))
        if lift > 1.0:
            out.append(RisingTerm(term, c, b[term], round(lift, 2)))
    out.sort(key=lambda t: (-t.lift, -t.recent, t.term))
    # a phrase and its own words say the same thing: keep the first of them
    kept: list[RisingTerm] = []
    for t in out:
        if any(t.term in k.term.split() or k.term in t.term.split() for k in kept):
            continue
        kept.append(t)
        if len(kept) == n:
            break
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
        out.append(TopicTrend(t.name, len(papers), series, rising_terms(recent, before)))
    return TrendsResult(end, out)


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
