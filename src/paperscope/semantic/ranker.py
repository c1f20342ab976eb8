"""Recommendations that learn: a per-researcher logistic regression over paper vectors and words.

Positives are the researcher's library (recent items weigh more when their dates are known) and the papers they
rated up; negatives are the papers they rated down or marked not interested (weighted strongly) and a background
of other papers (weighted weakly, all together as much as the positives: "not chosen" is weak evidence). Each
paper is described by its embedding beside a tf-idf vector of its title and abstract (unigrams and adjacent-word
bigrams, sublinear tf), so a rare term that names a subfield can carry weight that an embedding blurs.

Only the terms of the positive and rated papers are model columns (any other term could only ever get a weight
from negatives), but every term counts in a row's length, so an off-topic abstract is diluted, not ignored.

The score is the regression's logit plus a nearest-neighbour term (the best recency-weighted cosine to a positive,
minus the best cosine to a rated-down paper): a next paper is often the follow-up of one earlier paper, which a
linear model of the whole library averages away. Each result says which library papers it resembles most and
which of its terms weigh most.

Pure numpy; texts and vectors come in, nothing is read from a store, and equal inputs give equal outputs.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

__all__ = ["CandidateSet", "LIKED_WEIGHT", "PaperSet", "RankOptions", "Ranked", "rank", "term_ids", "tokenize"]

HASH_BITS = 22  # 4M buckets: collisions among one researcher's few thousand terms are rare
_HASH_MASK = (1 << HASH_BITS) - 1

LIKED_WEIGHT = 2.0
"""Weight the service layer gives a paper rated up, against 1.0 for a library item of today."""

_TOKEN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*|[0-9]+[a-z][a-z0-9-]*")
# Words that carry no topic; bigrams are not formed across them.
_STOP = frozenset(
    """a an and are as at be been being but by can could do does each for from has have how in into is it its
    our of on or over such than that the their them then there these they this those through to under up upon
    via was we were what when where which while who will with within without would also both more most other
    only same so some very not no nor new novel paper propose proposed proposes present presents show shows
    shown using use used uses based approach approaches method methods results result work study however
    demonstrate demonstrates existing further first one two three well achieve achieves across large
    significantly significant extensive experiments experimental performance state-of-the-art code available
    framework""".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of a text, then the bigrams of adjacent non-stopwords ("graph transformer")."""
    words = _TOKEN.findall(text.lower())
    out = [w for w in words if w not in _STOP and len(w) > 1]
    out += [f"{a} {b}" for a, b in zip(words, words[1:]) if a not in _STOP and b not in _STOP
            and len(a) > 1 and len(b) > 1]
    return out


@dataclass(frozen=True, slots=True)
class PaperSet:
    """Papers as the ranker sees them: ids, texts (title and abstract), unit vectors, and optionally dates
    (library items: when added or published, for recency), titles (for explanations) and weights."""

    ids: Sequence[str]
    texts: Sequence[str]
    vectors: np.ndarray
    dates: Sequence[date | datetime | str | None] | None = None
    titles: Sequence[str] | None = None
    weights: Sequence[float] | None = None
    terms: Sequence[np.ndarray] | None = None  # term_ids(text) per paper, when the caller caches them

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.texts) != n or len(self.vectors) != n:
            raise ValueError(f"{n} ids but {len(self.texts)} texts and {len(self.vectors)} vectors")
        for name in ("dates", "titles", "weights", "terms"):
            v = getattr(self, name)
            if v is not None and len(v) != n:
                raise ValueError(f"{n} ids but {len(v)} {name}")

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def empty(dim: int) -> PaperSet:
        return PaperSet([], [], np.zeros((0, dim), dtype=np.float32))


CandidateSet = PaperSet
"""The papers to rank (their dates and weights are not used)."""


@dataclass(frozen=True, slots=True)
class RankOptions:
    """Tuned on the development half of bench/recommend.py's researchers (see its docstring)."""

    half_life_days: float = 365.0  # a library item this old weighs half as much as one of today
    min_recency: float = 0.25  # ... but never less than this: an old paper still names an interest
    lexical_scale: float = 1.0  # tf-idf block against the unit embedding block
    embedding_scale: float = 1.0
    l2: float = 1e-3  # ridge penalty per unit of total sample weight
    iterations: int = 300
    disliked_weight: float = 3.0  # a paper rated down, against 1.0 for a positive
    knn_weight: float = 4.0  # nearest-neighbour term in logit units
    explain_papers: int = 3
    explain_terms: int = 5
    candidates_as_background: bool = True  # the batch itself, unchosen, as weak negatives ...
    max_candidate_background: int = 2000  # ... an evenly spaced sample of it: cost, not quality, sets this


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked candidate: its score (higher is better), the logistic and neighbour parts, and why."""

    id: str
    rank: int
    score: float
    model_score: float
    neighbour_score: float
    similar: list[tuple[str, str, float]] = field(default_factory=list)  # (library id, title, cosine)
    terms: list[tuple[str, float]] = field(default_factory=list)  # (term, contribution to the logit)
    disliked_similar: list[tuple[str, float]] = field(default_factory=list)  # rated-down papers it is near

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "rank": self.rank, "score": round(self.score, 4),
                "model_score": round(self.model_score, 4), "neighbour_score": round(self.neighbour_score, 4),
                "similar": [{"id": i, "title": t, "similarity": round(s, 4)} for i, t, s in self.similar],
                "terms": [{"term": t, "weight": round(w, 4)} for t, w in self.terms],
                "disliked_similar": [{"id": i, "similarity": round(s, 4)} for i, s in self.disliked_similar]}


def rank(
    candidates: CandidateSet,
    positives: PaperSet,
    negatives: PaperSet | None = None,
    *,
    background: PaperSet | None = None,
    today: date | None = None,
    limit: int | None = None,
    options: RankOptions | None = None,
) -> list[Ranked]:
    """Rank candidates for a researcher, best first, each with its explanation.

    `positives`: library items and papers rated up (give those `weights`, e.g. LIKED_WEIGHT); `negatives`: papers
    rated down or marked not interested; `background`: other papers of the store, e.g. a seeded random sample.
    `today` anchors recency (default: the newest positive date). Ties keep the candidates' order.
    """
    opt = options or RankOptions()
    if not len(positives):
        raise ValueError("no positive papers: the ranker needs at least one library paper")
    if not len(candidates):
        return []
    dim = positives.vectors.shape[1]
    negatives = negatives if negatives is not None else PaperSet.empty(dim)
    background = background if background is not None else PaperSet.empty(dim)

    pos_w = _recency(positives, today, opt) * _given_weights(positives)
    neg_w = opt.disliked_weight * _given_weights(negatives)
    n_cand = len(candidates)
    cand_bg = np.zeros(0, dtype=np.int64)
    if opt.candidates_as_background:
        take = min(n_cand, opt.max_candidate_background)
        cand_bg = np.unique(np.linspace(0, n_cand - 1, take).round().astype(np.int64)) if take else cand_bg
    n_bg = len(background) + len(cand_bg)

    docs = [*_terms_of(positives), *_terms_of(negatives), *_terms_of(background), *_terms_of(candidates)]
    n_pos, n_neg, n_back = len(positives), len(negatives), len(background)
    rows, col_hash = _tfidf(docs, n_pos + n_neg)

    emb = np.vstack([np.asarray(s.vectors, dtype=np.float32) for s in (positives, negatives, background, candidates)])
    emb = emb * opt.embedding_scale
    lex = _Csr(rows, len(col_hash), opt.lexical_scale)
    cand_rows = np.arange(n_pos + n_neg + n_back, len(docs))

    train = np.r_[np.arange(n_pos + n_neg + n_back), cand_rows[cand_bg]].astype(np.int64)
    y = np.r_[np.ones(n_pos), np.zeros(n_neg + n_bg)]
    w = np.r_[pos_w, neg_w, np.full(n_bg, pos_w.sum() / max(n_bg, 1))]
    # A candidate that is also a positive or a rated paper must not be trained as a background negative.
    known = set(positives.ids) | set(negatives.ids)
    w[n_pos + n_neg + n_back:][[str(candidates.ids[c]) in known for c in cand_bg]] = 0.0
    we, wl, b = _fit_logistic(emb, lex, train, y, w, opt)

    cand_emb = emb[cand_rows]
    logit = cand_emb @ we + lex.dot(cand_rows, wl) + b
    pos_vec = np.asarray(positives.vectors, dtype=np.float32)
    sims = np.asarray(candidates.vectors, dtype=np.float32) @ pos_vec.T
    knn = (sims * (pos_w / pos_w.max())[None, :]).max(axis=1)
    neg_sims = None
    if n_neg:
        neg_sims = np.asarray(candidates.vectors, dtype=np.float32) @ np.asarray(negatives.vectors, np.float32).T
        knn = knn - neg_sims.max(axis=1)
    score = logit + opt.knn_weight * knn
    order = np.argsort(-score, kind="stable")
    if limit is not None:
        order = order[:limit]

    titles = positives.titles or [""] * n_pos
    out: list[Ranked] = []
    for r, i in enumerate(order.tolist()):
        top = np.argsort(-sims[i], kind="stable")[: opt.explain_papers]
        row = cand_rows[i]
        cols, vals = lex.row(row)
        contrib = vals * wl[cols]
        best = np.argsort(-contrib, kind="stable")[: opt.explain_terms]
        names = _term_names(str(candidates.texts[i]))
        disliked: list[tuple[str, float]] = []
        if neg_sims is not None:
            j = int(np.argmax(neg_sims[i]))
            disliked = [(str(negatives.ids[j]), float(neg_sims[i, j]))]
        out.append(Ranked(
            id=str(candidates.ids[i]), rank=r + 1, score=float(score[i]), model_score=float(logit[i]),
            neighbour_score=float(knn[i]),
            similar=[(str(positives.ids[j]), str(titles[j]), float(sims[i, j])) for j in top.tolist()],
            terms=[(names.get(int(col_hash[cols[k]]), "?"), float(contrib[k])) for k in best.tolist()
                   if contrib[k] > 0],
            disliked_similar=disliked,
        ))
    return out


# ------------------------------------------------------------------------------------------------ internals
def _term_names(text: str) -> dict[int, str]:
    return {zlib.crc32(t.encode()) & _HASH_MASK: t for t in tokenize(text)}


def _day(d: date | datetime | str | None) -> int | None:
    if d is None or d == "":
        return None
    if isinstance(d, datetime):
        d = d.date()
    elif isinstance(d, str):
        d = date.fromisoformat(d[:10])
    return d.toordinal()


def _recency(s: PaperSet, today: date | None, opt: RankOptions) -> np.ndarray:
    days = [_day(d) for d in s.dates] if s.dates is not None else [None] * len(s)
    known = [d for d in days if d is not None]
    if not known:
        return np.ones(len(s))
    ref = today.toordinal() if today is not None else max(known)
    return np.array([1.0 if d is None else max(opt.min_recency, 0.5 ** (max(ref - d, 0) / opt.half_life_days))
                     for d in days])


def _given_weights(s: PaperSet) -> np.ndarray:
    return np.ones(len(s)) if s.weights is None else np.asarray(s.weights, dtype=np.float64)


def term_ids(text: str) -> np.ndarray:
    """The hashed ids (crc32 mod 2**HASH_BITS) of a text's terms, one per occurrence; cacheable per paper."""
    return np.array([zlib.crc32(t.encode()) & _HASH_MASK for t in tokenize(text)], dtype=np.int64)


def _terms_of(s: PaperSet) -> list[np.ndarray]:
    return list(s.terms) if s.terms is not None else [term_ids(t) for t in s.texts]


def _tfidf(docs: list[np.ndarray], labelled: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Sublinear tf-idf rows (L2 over all terms) restricted to the columns that the first `labelled` documents
    use and at least two documents share (one paper's quirk teaches nothing); returns rows and column hashes."""
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    owner = np.repeat(np.arange(len(docs)), lengths)
    flat = np.concatenate(docs) if docs else np.zeros(0, np.int64)
    pairs, counts = np.unique(owner * (_HASH_MASK + 1) + flat, return_counts=True)
    doc, term = pairs // (_HASH_MASK + 1), pairs % (_HASH_MASK + 1)
    uterms, tinv, df = np.unique(term, return_inverse=True, return_counts=True)
    idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
    val = (1.0 + np.log(counts)) * idf[tinv]
    norm = np.sqrt(np.bincount(doc, weights=val * val, minlength=len(docs)))
    val = val / np.maximum(norm[doc], 1e-12)
    cols = np.unique(term[(doc < labelled) & (df[tinv] >= 2)])
    col = np.searchsorted(cols, term)
    keep = (col < len(cols)) & (cols[np.minimum(col, len(cols) - 1)] == term) if len(cols) else term < 0
    doc, col, val = doc[keep], col[keep], val[keep]
    bounds = np.searchsorted(doc, np.arange(len(docs) + 1))
    return [(col[a:b], val[a:b]) for a, b in zip(bounds[:-1], bounds[1:])], cols


class _Csr:
    """Just enough of a sparse row matrix for a logistic regression, in numpy."""

    def __init__(self, rows: list[tuple[np.ndarray, np.ndarray]], n_cols: int, scale: float) -> None:
        self.n_cols = n_cols
        lengths = np.array([len(c) for c, _ in rows], dtype=np.int64)
        self.start = np.r_[0, np.cumsum(lengths)]
        self.cols = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, np.int64)
        self.vals = (np.concatenate([v for _, v in rows]) if rows else np.zeros(0)) * scale

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        s, e = self.start[r], self.start[r + 1]
        return self.cols[s:e], self.vals[s:e]

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row position in `rows`, column, value) of every stored entry of those rows."""
        lengths = self.start[rows + 1] - self.start[rows]
        owner = np.repeat(np.arange(len(rows)), lengths)
        idx = np.repeat(self.start[rows] - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())
        return owner, self.cols[idx], self.vals[idx]

    def dot(self, rows: np.ndarray, w: np.ndarray) -> np.ndarray:
        owner, cols, vals = self.gather(rows)
        return np.bincount(owner, weights=vals * w[cols], minlength=len(rows))


def _fit_logistic(emb: np.ndarray, lex: _Csr, train: np.ndarray, y: np.ndarray, w: np.ndarray,
                  opt: RankOptions) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted L2 logistic regression by Nesterov-accelerated gradient descent (deterministic).

    Rows are unit-length per block, so the loss's curvature is at most (scale_e² + scale_l² + 1) / 4 per unit
    of weight: that bound gives a safe fixed step without a line search.
    """
    keep = w > 0
    train, y, w = train[keep], y[keep], w[keep] / w[keep].sum()
    x = emb[train].astype(np.float64)
    owner, cols, vals = lex.gather(train)
    lam = opt.l2
    step = 1.0 / ((opt.embedding_scale ** 2 + opt.lexical_scale ** 2 + 1.0) / 4.0 + lam)
    theta = np.zeros(x.shape[1] + lex.n_cols + 1)
    prev = theta.copy()
    d = x.shape[1]
    for t in range(1, opt.iterations + 1):
        v = theta + (t - 2) / (t + 1) * (theta - prev) if t > 1 else theta
        z = x @ v[:d] + np.bincount(owner, weights=vals * v[d:-1][cols], minlength=len(train)) + v[-1]
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function without overflow
        r = w * (p - y)
        grad = np.empty_like(theta)
        grad[:d] = x.T @ r + lam * v[:d]
        grad[d:-1] = np.bincount(cols, weights=vals * r[owner], minlength=lex.n_cols) + lam * v[d:-1]
        grad[-1] = r.sum()
        prev, theta = theta, v - step * grad
    return theta[:d], theta[d:-1], float(theta[-1])
