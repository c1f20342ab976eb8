"""Recommendations that learn: a researcher's profile of the words of their library, with feedback.

Each paper is a tf-idf vector of its title and abstract: words without function words and the bigrams of the
words left, sublinear tf, an idf counted over a store-wide sample of papers (`DocFreq`) plus the papers at hand,
and no weight for a term in more than a tenth of them, so the rare terms that name a subfield carry the score.
The researcher's profile is the weighted mean of their library's vectors (papers rated up count double); a
candidate scores its cosine to that profile — its mean cosine to the library papers, each paper counting however
short — minus its cosine to the profile of the papers rated down. On bench/recommend.py's development
researchers this beat a tf-idf LinearSVC trained on the library against every other paper (arxiv-sanity-lite), a
weighted cosine of embeddings (zotero-arxiv-daily), a logistic regression over embedding and words, and fusions of
the words with the embedding's nearest library papers or with pseudo-relevance feedback (both kept as options,
off by default: each cost recall there).

Each result says which library papers it shares most words with and which of its terms weigh most.

Pure numpy; texts and vectors come in, nothing is read from a store, and equal inputs give equal outputs.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

__all__ = ["CandidateSet", "DocFreq", "HASH_BITS", "LIKED_WEIGHT", "PaperSet", "RankOptions", "Ranked", "rank", "term_ids", "tokenize"]

HASH_BITS = 31  # 2G buckets: the millions of terms of a store-wide sample (DocFreq) rarely collide
_HASH_MASK = (1 << HASH_BITS) - 1
_PAIR = 0x9E3779B1  # mixes two word hashes into a bigram's

LIKED_WEIGHT = 2.0
"""Weight the service layer gives a paper rated up, against 1.0 for a library item of today."""

_TOKEN = re.compile(r"[a-z][a-z0-9]+")
# English function words: no topic in them. Bigrams join the words left once they are gone ("learning of
# representations" gives "learning representations"); words common in abstracts ("method", "results") need no list:
# the document-frequency cut (RankOptions.max_df) removes them.
_STOP = frozenset(
    """a about above after again against all almost along already also although always am among an and another any
    are around as at be because been before being below between both but by can cannot could did do does doing done
    down during each either else enough etc even ever every few for from further had has have having he her here
    hers him his how however i if in into is it its itself just least less like may me might more most much must my
    neither no nor not of off often on once one only onto or other others otherwise our ours out over own per
    perhaps rather same several she should since so some such than that the their theirs them themselves then there
    thereby therefore these they this those though through throughout thus to together too toward towards under
    until up upon us very via was we well were what whatever when whenever where whereas whether which while who
    whom whose why will with within without would yet you your yours""".split()
)


def _words(text: str) -> list[str]:
    return [w for w in _TOKEN.findall(text.lower()) if w not in _STOP]


def tokenize(text: str) -> list[str]:
    """Lower-cased words of a text without function words, then the bigrams of the words left ("graph transformer")."""
    words = _words(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


@dataclass(frozen=True, slots=True)
class DocFreq:
    """How many of `docs` papers hold each term (sorted hashed term ids, their counts): a store-wide sample, so
    that a term's rarity is the field's, not the window's."""

    terms: np.ndarray
    counts: np.ndarray
    docs: int

    @staticmethod
    def of(term_lists: Sequence[np.ndarray]) -> DocFreq:
        """The document frequencies of papers given by their term_ids."""
        flat = np.concatenate([np.unique(t) for t in term_lists]) if len(term_lists) else np.zeros(0, np.int64)
        terms, counts = np.unique(flat, return_counts=True)
        return DocFreq(terms.astype(np.int64), counts.astype(np.int64), len(term_lists))

    @staticmethod
    def merge(parts: Sequence[DocFreq]) -> DocFreq:
        """The counts of several disjoint sets of papers together."""
        if not parts:
            return DocFreq.of([])
        terms, inv = np.unique(np.concatenate([p.terms for p in parts]), return_inverse=True)
        counts = np.bincount(inv, weights=np.concatenate([p.counts for p in parts]), minlength=len(terms))
        return DocFreq(terms, counts.astype(np.int64), sum(p.docs for p in parts))

    def lookup(self, terms: np.ndarray) -> np.ndarray:
        if not len(self.terms):
            return np.zeros(len(terms), np.int64)
        at = np.minimum(np.searchsorted(self.terms, terms), len(self.terms) - 1)
        return np.where(self.terms[at] == terms, self.counts[at], 0)


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
    """Tuned on the development researchers of bench/recommend.py (see its docstring); the test ones were not seen."""

    half_life_days: float = 365.0  # a library item this old weighs half as much as one of today ...
    min_recency: float = 1.0  # ... but never less than this (1.0: recency off; it lost recall on the dev split)
    max_df: float = 0.1  # a term in more than this share of the papers names no subfield: it gets no weight
    feedback_papers: int = 10  # the best-scoring candidates, added to the profile as pseudo-relevant ...
    feedback_weight: float = 0.0  # ... with this much of the library's weight (0: off; it did not help on dev)
    embedding_weight: float = 0.0  # the embedding's best-three-neighbours score, z-scored, beside the words' (0:
    # off: with a store-wide term rarity the words alone did best on dev; 0.2-0.4 cost 0.01-0.014 recall@50)
    disliked_weight: float = 1.0  # a rated-down paper's profile is subtracted with this weight
    explain_papers: int = 3
    explain_terms: int = 5


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked candidate: its score (higher is better), the words' and the embedding's parts, and why."""

    id: str
    rank: int
    score: float
    model_score: float  # the tf-idf profile's cosine (minus the rated-down profile's)
    neighbour_score: float  # the mean cosine of the three nearest library papers in the embedding
    similar: list[tuple[str, str, float]] = field(default_factory=list)  # (library id, title, tf-idf cosine)
    terms: list[tuple[str, float]] = field(default_factory=list)  # (term, contribution to model_score)
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
    doc_freq: DocFreq | None = None,
    today: date | None = None,
    limit: int | None = None,
    options: RankOptions | None = None,
) -> list[Ranked]:
    """Rank candidates for a researcher, best first, each with its explanation.

    `positives`: library items and papers rated up (give those `weights`, e.g. LIKED_WEIGHT); `negatives`: papers
    rated down or marked not interested; `background`: other papers, used only to count how common each term is
    (the candidates themselves always count); `doc_freq`: the same from a store-wide sample, precomputed. `today` anchors recency (default: the newest positive date). Ties
    keep the candidates' order.
    """
    opt = options or RankOptions()
    if not len(positives):
        raise ValueError("no positive papers: the ranker needs at least one library paper")
    if not len(candidates):
        return []
    dim = positives.vectors.shape[1]
    negatives = negatives if negatives is not None else PaperSet.empty(dim)
    background = background if background is not None else PaperSet.empty(dim)
    n_pos, n_neg, n_back, n_cand = len(positives), len(negatives), len(background), len(candidates)

    pos_w = _recency(positives, today, opt) * _given_weights(positives)
    pos_w = pos_w / pos_w.sum()
    neg_w = _given_weights(negatives)
    neg_w = neg_w / max(neg_w.sum(), 1e-12)
    docs = [*_terms_of(positives), *_terms_of(negatives), *_terms_of(background), *_terms_of(candidates)]
    rows, col_hash = _tfidf(docs, n_pos + n_neg, opt.max_df, doc_freq)
    lex = _Csr(rows, len(col_hash))
    pos_rows = np.arange(n_pos)
    neg_rows = np.arange(n_pos, n_pos + n_neg)
    cand_rows = np.arange(n_pos + n_neg + n_back, len(docs))

    # The profile: the weighted mean of the library's tf-idf rows, so a candidate's score is its weighted mean
    # cosine to the library papers (each paper counts, however short); then the best candidates feed it back.
    profile = lex.weighted_sum(pos_rows, pos_w)
    words = lex.dot(cand_rows, profile)
    if opt.feedback_papers and opt.feedback_weight > 0 and n_cand > opt.feedback_papers:
        best = np.argsort(-words, kind="stable")[: opt.feedback_papers]
        fb = lex.weighted_sum(cand_rows[best], np.full(len(best), 1.0 / len(best)))
        scale = np.linalg.norm(profile) / max(float(np.linalg.norm(fb)), 1e-12)
        words = lex.dot(cand_rows, profile + opt.feedback_weight * scale * fb)
    disliked_profile = lex.weighted_sum(neg_rows, neg_w) if n_neg else None
    if disliked_profile is not None:
        words = words - opt.disliked_weight * lex.dot(cand_rows, disliked_profile)

    cand_vec = np.asarray(candidates.vectors, dtype=np.float32)
    sims = cand_vec @ np.asarray(positives.vectors, dtype=np.float32).T
    k = min(3, n_pos)
    near = -np.sort(-(sims * (pos_w / pos_w.max())[None, :]), axis=1)[:, :k].mean(axis=1)
    neg_sims = None
    if n_neg:
        neg_sims = cand_vec @ np.asarray(negatives.vectors, dtype=np.float32).T
        near = near - opt.disliked_weight * neg_sims.max(axis=1)
    score = _z(words) + opt.embedding_weight * _z(near)
    order = np.argsort(-score, kind="stable")
    if limit is not None:
        order = order[:limit]

    # Why: the library papers whose words it shares most (their cosines are what `words` averages) and the
    # terms that add most to the library profile's part of the score.
    titles = positives.titles or [""] * n_pos
    lex_sims = lex.cross(cand_rows[order], pos_rows)
    out: list[Ranked] = []
    for r, i in enumerate(order.tolist()):
        top = np.argsort(-lex_sims[r], kind="stable")[: opt.explain_papers]
        cols, vals = lex.row(int(cand_rows[i]))
        contrib = vals * profile[cols]
        best_terms = np.argsort(-contrib, kind="stable")[: opt.explain_terms]
        names = _term_names(str(candidates.texts[i]))
        disliked: list[tuple[str, float]] = []
        if neg_sims is not None:
            j = int(np.argmax(neg_sims[i]))
            disliked = [(str(negatives.ids[j]), float(neg_sims[i, j]))]
        out.append(Ranked(
            id=str(candidates.ids[i]), rank=r + 1, score=float(score[i]), model_score=float(words[i]),
            neighbour_score=float(near[i]),
            similar=[(str(positives.ids[j]), str(titles[j]), float(lex_sims[r, j])) for j in top.tolist()
                     if lex_sims[r, j] > 0],
            terms=[(names.get(int(col_hash[cols[t]]), "?"), float(contrib[t])) for t in best_terms.tolist()
                   if contrib[t] > 0],
            disliked_similar=disliked,
        ))
    return out


def _z(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


# ------------------------------------------------------------------------------------------------ internals
def _term_names(text: str) -> dict[int, str]:
    words = _words(text)
    ids = _ids(words, {})
    names = [*words, *(f"{a} {b}" for a, b in zip(words, words[1:]))]
    return dict(zip(ids.tolist(), names))


def _ids(words: list[str], memo: dict[str, int]) -> np.ndarray:
    """Hashes of the words (crc32, memoised) followed by their bigrams' (two word hashes mixed): one crc per
    distinct word, the bigrams in numpy."""
    h = np.array([memo[w] if w in memo else memo.setdefault(w, zlib.crc32(w.encode())) for w in words],
                 dtype=np.int64)
    pairs = (h[:-1] * _PAIR + h[1:] * 31 + 1) if len(h) > 1 else np.zeros(0, np.int64)
    return np.r_[h, pairs] & _HASH_MASK


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
    if not known or opt.min_recency >= 1.0:
        return np.ones(len(s))
    ref = today.toordinal() if today is not None else max(known)
    return np.array([1.0 if d is None else max(opt.min_recency, 0.5 ** (max(ref - d, 0) / opt.half_life_days))
                     for d in days])


def _given_weights(s: PaperSet) -> np.ndarray:
    return np.ones(len(s)) if s.weights is None else np.asarray(s.weights, dtype=np.float64)


def term_ids(text: str, memo: dict[str, int] | None = None) -> np.ndarray:
    """The hashed ids of a text's terms (tokenize's order), one per occurrence; cacheable per paper. Pass one
    `memo` dict to many calls to hash each distinct word once."""
    return _ids(_words(text), {} if memo is None else memo)


def _terms_of(s: PaperSet) -> list[np.ndarray]:
    if s.terms is not None:
        return list(s.terms)
    memo: dict[str, int] = {}
    return [term_ids(t, memo) for t in s.texts]


def _tfidf(docs: list[np.ndarray], labelled: int, max_df: float,
           extra: DocFreq | None = None) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Sublinear tf-idf rows, L2 over every term held by two documents or more and not too common (a term in more
    than `max_df` of the documents, and more than 5, gets no weight), restricted to the columns that the first `labelled` documents
    use and at least two documents share (one paper's quirk teaches nothing); returns rows and column hashes."""
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    owner = np.repeat(np.arange(len(docs)), lengths)
    flat = np.concatenate(docs) if docs else np.zeros(0, np.int64)
    pairs, counts = np.unique(owner * (_HASH_MASK + 1) + flat, return_counts=True)
    doc, term = pairs // (_HASH_MASK + 1), pairs % (_HASH_MASK + 1)
    uterms, tinv, df = np.unique(term, return_inverse=True, return_counts=True)
    n = len(docs)
    if extra is not None:  # the store-wide counts hold these papers too (or a sample like them): the larger wins
        df = np.maximum(df, extra.lookup(uterms))
        n = max(n, extra.docs)
    # a term no other paper holds (mostly one-off bigrams) can match nothing: leaving it out of the length keeps
    # a row's cosines from being diluted by its own quirks; a term in too many papers names no subfield
    idf = np.where((df > max(max_df * n, 5.0)) | (df < 2), 0.0, np.log((1 + n) / (1 + df)) + 1.0)
    val = (1.0 + np.log(counts)) * idf[tinv]
    norm = np.sqrt(np.bincount(doc, weights=val * val, minlength=n))
    val = val / np.maximum(norm[doc], 1e-12)
    cols = np.unique(term[(doc < labelled) & (df[tinv] >= 2) & (val > 0)])
    col = np.searchsorted(cols, term)
    keep = (col < len(cols)) & (cols[np.minimum(col, len(cols) - 1)] == term) if len(cols) else term < 0
    doc, col, val = doc[keep], col[keep], val[keep]
    bounds = np.searchsorted(doc, np.arange(n + 1))
    return [(col[a:b], val[a:b]) for a, b in zip(bounds[:-1], bounds[1:])], cols


class _Csr:
    """Just enough of a sparse row matrix for profiles and cosines, in numpy."""

    def __init__(self, rows: list[tuple[np.ndarray, np.ndarray]], n_cols: int) -> None:
        self.n_cols = n_cols
        lengths = np.array([len(c) for c, _ in rows], dtype=np.int64)
        self.start = np.r_[0, np.cumsum(lengths)]
        self.cols = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, np.int64)
        self.vals = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)

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

    def weighted_sum(self, rows: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Σ w[i] · row(rows[i]), dense over the columns."""
        owner, cols, vals = self.gather(rows)
        return np.bincount(cols, weights=vals * w[owner], minlength=self.n_cols)

    def cross(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The (len(a), len(b)) matrix of dot products between rows `a` and rows `b` (a few rows of `a`)."""
        dense = np.zeros((len(a), self.n_cols))
        owner, cols, vals = self.gather(a)
        dense[owner, cols] = vals
        owner_b, cols_b, vals_b = self.gather(b)
        out = np.zeros((len(a), len(b)))
        if len(cols_b):
            np.add.at(out.T, owner_b, (dense[:, cols_b] * vals_b[None, :]).T)
        return out
