"""The AI Score: predicted impact, for a paper and for an author, shown with its workings.

Per paper there are two methods, and the report says which one ran:

- "model": when at least `min_train` library papers have citation counts, a ridge regression
  trained on them predicts a paper's citation percentile within its (year, primary category) group
  (`citation_percentiles`) from metadata (`META_FEATURES`) and the text embedding. The embedding
  enters as its top principal components (at most `MAX_TEXT_COMPONENTS`, fitted on the training
  papers) so that a few hundred papers can train it. Metadata columns are standardised; the penalty
  `alpha` (per paper: the loss is mean squared error + alpha * |w|^2) is picked from `ALPHA_GRID` by
  k-fold cross-validation on the training split. A seeded `holdout` share is never trained on; the
  Spearman correlation on it is reported. Everything is deterministic for a given seed.
  A score is `intercept + sum(contributions)`, clipped to 0-100: the intercept is the mean training
  percentile (the score of an average paper) and each contribution is coefficient x standardised
  value, so `explain()` says how many points each feature, and the text as a whole, adds or takes.
- "pretrained": with fewer cited papers a local model would be noise, so the impact model shipped
  in the package (`paperscope.scoring.impact`, trained on real papers with real citation counts)
  predicts each paper's citation percentile within its year and field from what it has on day one.
- "formula": only when the pretrained model cannot run (the library's vectors come from another
  embedder, or the model file is missing), a fixed formula is the last resort: `FORMULA_TEXT` with
  weights `FORMULA_WEIGHTS`. An unknown input counts as `ASSUMED_WHEN_UNKNOWN` (the median) and is
  marked as assumed. Measured on real papers this formula carries almost no signal; the reason says so.

`ScoreReport.explain(id)` gives any paper's score as a `ScoreExplanation`: the 0-100 score, the phrase
it reads as, its top inputs and the quality of the model that made it, whichever method ran.

Per author, `author_impact_score` is the profile's AI Score: each paper's actual citation percentile
when the library knows its citations (in a large enough cohort), else its predicted one, and the mean of
the best five (`AUTHOR_PAPER_TEXT`). `paper_scores` stores each cited paper's actual percentile beside its
score for it.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paperscope.errors import ModelMismatchError, StoreError
from paperscope.models import Figure, Paper

__all__ = [
    "ALPHA_GRID", "ASSUMED_WHEN_UNKNOWN", "AUTHOR_PAPER_TEXT",
    "FORMULA_TEXT", "FORMULA_WEIGHTS", "META_FEATURES", "MIN_ACTUAL_COHORT", "ImpactModel", "PaperEvidence",
    "PaperFeatures", "ScoreExplanation", "ScoreReport", "actual_percentiles", "author_impact_score",
    "citation_percentiles", "mentions_venue", "paper_scores", "spearman",
]

META_FEATURES = ("has_code", "has_comment", "venue", "n_authors", "n_categories", "abstract_len", "title_len",
                 "versions")
ALPHA_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
MAX_TEXT_COMPONENTS = 32
CV_FOLDS = 5
MIN_FIT = 20  # below this a fit is refused outright; paper_scores' min_train is the real bar
HOLDOUT = 0.2  # share of cited papers paper_scores keeps out of training to report the held-out Spearman

FORMULA_WEIGHTS = {"novelty": 0.45, "authors": 0.40, "code": 0.15}
ASSUMED_WHEN_UNKNOWN = 50.0
FORMULA_TEXT = (f"score = {FORMULA_WEIGHTS['novelty']:.2f} x novelty percentile + {FORMULA_WEIGHTS['authors']:.2f} x "
                f"highest author h-index percentile + {FORMULA_WEIGHTS['code']:.2f} x (100 if code is linked "
                f"else 0); an unknown percentile counts as {ASSUMED_WHEN_UNKNOWN:g}")

TOP_PAPERS = 5

_ACCEPTANCE = re.compile(
    r"\b(?:accepted\s+(?:at|to|by|for|in|as)|to\s+appear\s+(?:in|at)|published\s+(?:in|at|by)|camera[- ]ready"
    r"|(?:oral|spotlight)\s+(?:presentation\s+|paper\s+)?(?:at|in))\b", re.IGNORECASE)
_VENUE = re.compile(
    r"\b(?:NeurIPS|NIPS|ICML|ICLR|CVPR|ICCV|ECCV|ACL|EMNLP|NAACL|EACL|COLING|AAAI|IJCAI|KDD|WWW|SIGIR|SIGGRAPH"
    r"|CHI|ICRA|IROS|CoRL|RSS|AISTATS|UAI|COLT|MICCAI|WACV|BMVC|ICASSP|INTERSPEECH|Interspeech|WSDM|CIKM|RecSys"
    r"|ISSTA|ICSE|FSE|TPAMI|JMLR|TMLR|TACL)\b\W{0,3}(?:(?:19|20)\d{2}|'\d{2})\b")
_NOT_YET = re.compile(r"\b(?:submitted|under\s+review|in\s+submission|under\s+submission)\b", re.IGNORECASE)


def mentions_venue(comment: str) -> bool:
    """True when an arXiv comment says the paper was accepted or names a venue with its year.

    "Accepted to CVPR 2026", "To appear in TPAMI", "NeurIPS 2025 (spotlight)" count; "Submitted to
    ICLR 2026" and "Under review at NeurIPS 2025" do not.
    """
    if _ACCEPTANCE.search(comment):
        return True
    return bool(_VENUE.search(comment)) and not _NOT_YET.search(comment)


@dataclass(slots=True)
class PaperFeatures:
    """What the AI Score sees of one paper. `abstract_len` and `title_len` are in characters; `title`,
    `abstract` and `author_h_index` (highest h-index among the authors, raw) feed the pretrained model."""

    arxiv_id: str
    year: int
    category: str
    embedding: np.ndarray | None = None
    has_code: bool = False
    comment: str = ""
    n_authors: int = 1
    n_categories: int = 1
    abstract_len: int = 0
    title_len: int = 0
    versions: int = 1
    title: str = ""
    abstract: str = ""
    author_h_index: float | None = None

    @classmethod
    def from_paper(cls, paper: Paper, embedding: np.ndarray | None = None,
                   author_h_index: float | None = None) -> PaperFeatures:
        """Features of a library paper (year and category of its first submission and primary category)."""
        return cls(arxiv_id=paper.id, year=paper.first_submitted.year,
                   category=paper.primary_category or (paper.categories[0] if paper.categories else ""),
                   embedding=embedding, has_code=paper.has_code, comment=paper.comment,
                   n_authors=max(1, len(paper.authors)), n_categories=max(1, len(paper.categories)),
                   abstract_len=len(paper.abstract), title_len=len(paper.title),
                   versions=max(paper.version, len(paper.versions), 1), title=paper.title,
                   abstract=paper.abstract, author_h_index=author_h_index)

    def meta_values(self) -> dict[str, float | int | bool]:
        """The metadata as shown to a reader (before any transformation)."""
        return {"has_code": bool(self.has_code), "has_comment": bool(self.comment.strip()),
                "venue": mentions_venue(self.comment), "n_authors": self.n_authors,
                "n_categories": self.n_categories, "abstract_len": self.abstract_len, "title_len": self.title_len,
                "versions": self.versions}

    def meta_row(self) -> list[float]:
        # Counts and lengths are skewed; their logs behave better in a linear model.
        v = self.meta_values()
        return [float(v["has_code"]), float(v["has_comment"]), float(v["venue"]), math.log1p(self.n_authors),
                float(self.n_categories), math.log1p(self.abstract_len), math.log1p(self.title_len),
                math.log1p(self.versions)]


# --- ranks, percentiles, Spearman ----------------------------------------------------------------


def _average_ranks(values: Sequence[float]) -> np.ndarray:
    """1-based ranks; tied values share the mean of the ranks they span."""
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]:
            j += 1
        ranks[order[i: j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation with tied ranks averaged; NaN when either side is constant or n < 2."""
    if len(a) != len(b):
        raise ValueError(f"spearman: {len(a)} values against {len(b)}")
    if len(a) < 2:
        return math.nan
    ra, rb = _average_ranks(a), _average_ranks(b)
    da, db = ra - ra.mean(), rb - rb.mean()
    denom = math.sqrt(float(da @ da) * float(db @ db))
    return float(da @ db) / denom if denom else math.nan


def citation_percentiles(rows: Iterable[tuple[str, int, str, int | None]]) -> dict[str, float]:
    """Each paper's citation percentile (0-100) within its (year, category) group.

    percentile = 100 x (rank - 1) / (n - 1) with ties given their average rank, so the least cited
    paper of a group is 0 and the most cited 100; a paper alone in its group gets 50. Rows whose
    citations are None are left out; a repeated id keeps its first row.
    """
    groups: dict[tuple[int, str], list[tuple[str, int]]] = {}
    seen: set[str] = set()
    for arxiv_id, year, category, cites in rows:
        if cites is None or arxiv_id in seen:
            continue
        seen.add(arxiv_id)
        groups.setdefault((int(year), category), []).append((arxiv_id, int(cites)))
    out: dict[str, float] = {}
    for members in groups.values():
        if len(members) == 1:
            out[members[0][0]] = 50.0
            continue
        ranks = _average_ranks([c for _, c in members])
        for (arxiv_id, _), r in zip(members, ranks):
            out[arxiv_id] = float(100.0 * (r - 1) / (len(members) - 1))
    return out


# --- the model -----------------------------------------------------------------------------------


_Moments = tuple[np.ndarray, float, np.ndarray, np.ndarray, int]


def _moments(z: np.ndarray, y: np.ndarray) -> _Moments:
    """What a ridge fit needs from the data; computed once and reused for every alpha."""
    zm, ym = z.mean(axis=0), float(y.mean())
    zc = z - zm
    return zm, ym, zc.T @ zc, zc.T @ (y - ym), len(y)


def _solve(m: _Moments, alpha: float) -> tuple[np.ndarray, float]:
    """Weights and intercept minimising mean((y - z w - b)^2) + alpha |w|^2 (intercept not penalised)."""
    zm, ym, gram, zy, n = m
    w = np.linalg.solve(gram + alpha * n * np.eye(len(zm)), zy)
    return w, float(ym - zm @ w)


_MAGIC = b"paperscope-aiscore\x00"
_FORMAT = 1


class ImpactModel:
    """Ridge regression from metadata and text to a paper's citation percentile; see the module doc."""

    def __init__(self, *, meta_mean: np.ndarray, meta_std: np.ndarray, emb_mean: np.ndarray,
                 components: np.ndarray, text_scale: float, coef: np.ndarray, intercept: float, alpha: float,
                 n_train: int, n_holdout: int, held_out_spearman: float, held_out_mae: float,
                 held_out_mae_constant: float, seed: int) -> None:
        self.meta_mean, self.meta_std = meta_mean, meta_std
        self.emb_mean, self.components, self.text_scale = emb_mean, components, text_scale
        self.coef, self.intercept, self.alpha = coef, intercept, alpha
        self.n_train, self.n_holdout, self.seed = n_train, n_holdout, seed
        self.held_out_spearman = held_out_spearman
        self.held_out_mae, self.held_out_mae_constant = held_out_mae, held_out_mae_constant

    @property
    def text_components(self) -> int:
        return int(self.components.shape[0])

    @property
    def embedding_dim(self) -> int | None:
        return int(self.components.shape[1]) if self.text_components else None

    # -- fitting --

    @classmethod
    def fit(cls, feats: list[PaperFeatures], targets: Mapping[str, float], *, seed: int = 0,
            holdout: float = 0.2) -> ImpactModel:
        """Train on the papers that have a target; a seeded `holdout` share is kept out and scored."""
        if not 0 <= holdout < 1:
            raise ValueError(f"holdout must be in [0, 1), got {holdout}")
        by_id = {f.arxiv_id: f for f in feats if f.arxiv_id in targets}
        rows = [by_id[i] for i in sorted(by_id)]  # input order must not change the model
        n_hold = round(len(rows) * holdout)
        if len(rows) - n_hold < MIN_FIT:
            raise ValueError(f"need at least {MIN_FIT} training papers with known citations, got "
                             f"{len(rows) - n_hold}")
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(rows))
        train = [rows[i] for i in sorted(perm[n_hold:])]
        hold = [rows[i] for i in sorted(perm[:n_hold])]
        y = np.array([targets[f.arxiv_id] for f in train], dtype=float)

        meta = np.array([f.meta_row() for f in train])
        meta_mean, meta_std = meta.mean(axis=0), meta.std(axis=0)
        meta_std[meta_std == 0] = 1.0  # a constant column carries nothing; keep it harmless
        emb_mean, components, text_scale = _text_basis(train)
        model = cls(meta_mean=meta_mean, meta_std=meta_std, emb_mean=emb_mean, components=components,
                    text_scale=text_scale, coef=np.zeros(len(META_FEATURES) + len(components)), intercept=0.0,
                    alpha=0.0, n_train=len(train), n_holdout=len(hold), held_out_spearman=math.nan,
                    held_out_mae=math.nan, held_out_mae_constant=math.nan, seed=seed)
        z = model._design(train)
        model.alpha = _choose_alpha(z, y, rng)
        model.coef, model.intercept = _solve(_moments(z, y), model.alpha)
        if hold:
            y_hold = np.array([targets[f.arxiv_id] for f in hold], dtype=float)
            pred = np.clip(model._design(hold) @ model.coef + model.intercept, 0, 100)
            model.held_out_spearman = spearman(pred.tolist(), y_hold.tolist())
            model.held_out_mae = float(np.abs(pred - y_hold).mean())
            model.held_out_mae_constant = float(np.abs(y.mean() - y_hold).mean())
        return model

    def _design(self, feats: Sequence[PaperFeatures]) -> np.ndarray:
        rows = np.array([f.meta_row() for f in feats]).reshape(len(feats), len(META_FEATURES))
        meta = (rows - self.meta_mean) / self.meta_std
        k = self.text_components
        text = np.zeros((len(feats), k))
        for i, f in enumerate(feats):
            if k and f.embedding is not None:
                e = np.asarray(f.embedding, dtype=float).ravel()
                if e.shape[0] != self.embedding_dim:
                    raise ModelMismatchError(f"paper {f.arxiv_id}: embedding has {e.shape[0]} dimensions, the AI "
                                             f"Score model was trained on {self.embedding_dim}; refit it")
                # A paper without an embedding stays at 0: the average text, no text contribution.
                text[i] = self.components @ (e - self.emb_mean) / self.text_scale
        return np.hstack([meta, text])

    # -- using it --

    def raw(self, feats: Sequence[PaperFeatures]) -> np.ndarray:
        """Unclipped predictions: intercept + sum of contributions."""
        return self._design(feats) @ self.coef + self.intercept if feats else np.zeros(0)

    def predict(self, feats: Sequence[PaperFeatures]) -> dict[str, float]:
        """Predicted citation percentile, 0-100, per paper."""
        return {f.arxiv_id: float(v) for f, v in zip(feats, np.clip(self.raw(feats), 0.0, 100.0))}

    def explain(self, feat: PaperFeatures) -> dict[str, float]:
        """Points each metadata feature and the text add to `intercept`; they sum to the unclipped prediction
        minus the intercept (`predict` then clips that to 0-100)."""
        return self.explain_many([feat])[0]

    def explain_many(self, feats: Sequence[PaperFeatures]) -> list[dict[str, float]]:
        """`explain` for many papers at once."""
        if not feats:
            return []
        parts = self._design(feats) * self.coef
        m = len(META_FEATURES)
        return [{**{name: float(row[i]) for i, name in enumerate(META_FEATURES)}, "text": float(row[m:].sum())}
                for row in parts]

    # -- persistence --

    def to_bytes(self) -> bytes:
        """A self-describing blob (JSON header + float64 arrays) for the library; same model, same bytes."""
        arrays = {"meta_mean": self.meta_mean, "meta_std": self.meta_std, "emb_mean": self.emb_mean,
                  "components": self.components, "coef": self.coef}
        header = {"format": _FORMAT, "features": list(META_FEATURES), "text_scale": self.text_scale,
                  "intercept": self.intercept, "alpha": self.alpha, "n_train": self.n_train,
                  "n_holdout": self.n_holdout, "seed": self.seed,
                  "held_out_spearman": _num(self.held_out_spearman), "held_out_mae": _num(self.held_out_mae),
                  "held_out_mae_constant": _num(self.held_out_mae_constant),
                  "arrays": [[name, list(a.shape)] for name, a in arrays.items()]}
        head = json.dumps(header, sort_keys=True).encode()
        body = b"".join(np.ascontiguousarray(a, dtype="<f8").tobytes() for a in arrays.values())
        return _MAGIC + struct.pack("<I", len(head)) + head + body

    @classmethod
    def from_bytes(cls, blob: bytes) -> ImpactModel:
        """Read a blob written by `to_bytes`; StoreError when it is not one."""
        if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 4:
            raise StoreError("stored AI Score model is not a paperscope model; refit it")
        (n,) = struct.unpack_from("<I", blob, len(_MAGIC))
        start = len(_MAGIC) + 4
        try:
            header = json.loads(blob[start: start + n])
        except ValueError:
            raise StoreError("stored AI Score model has a damaged header; refit it") from None
        if header.get("format") != _FORMAT or header.get("features") != list(META_FEATURES):
            raise StoreError(f"stored AI Score model has format {header.get('format')} with other features; "
                             "refit it")
        arrays: dict[str, np.ndarray] = {}
        pos = start + n
        for name, shape in header["arrays"]:
            size = int(np.prod(shape)) * 8
            if pos + size > len(blob):
                raise StoreError("stored AI Score model is truncated; refit it")
            arrays[name] = np.frombuffer(blob, dtype="<f8", count=size // 8, offset=pos).reshape(shape).copy()
            pos += size
        return cls(**arrays, text_scale=header["text_scale"], intercept=header["intercept"], alpha=header["alpha"],
                   n_train=header["n_train"], n_holdout=header["n_holdout"], seed=header["seed"],
                   held_out_spearman=_unnum(header["held_out_spearman"]), held_out_mae=_unnum(header["held_out_mae"]),
                   held_out_mae_constant=_unnum(header["held_out_mae_constant"]))


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _unnum(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _text_basis(train: Sequence[PaperFeatures]) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean, top principal directions (rows) and scale of the training embeddings; empty when too few."""
    embs = [(f.arxiv_id, np.asarray(f.embedding, dtype=float).ravel()) for f in train if f.embedding is not None]
    if not embs:
        return np.zeros(0), np.zeros((0, 0)), 1.0
    dim = embs[0][1].shape[0]
    for arxiv_id, e in embs:
        if e.shape[0] != dim:
            raise ModelMismatchError(f"paper {arxiv_id}: embedding has {e.shape[0]} dimensions, others have {dim}")
    k = min(MAX_TEXT_COMPONENTS, len(embs) // 5, dim)
    if k == 0:
        return np.zeros(0), np.zeros((0, dim)), 1.0
    e = np.array([v for _, v in embs])
    mean = e.mean(axis=0)
    centred = e - mean
    # The covariance is dim x dim, cheaper than an SVD of the n x dim matrix for large libraries.
    vals, vecs = np.linalg.eigh(centred.T @ centred / len(e))
    top = vecs[:, ::-1][:, :k].T
    # Eigenvectors have no inherent sign; fix it so the same data always gives the same model.
    signs = np.sign(top[np.arange(k), np.abs(top).argmax(axis=1)])
    # C order, as from_bytes gives it back: BLAS may round differently on another memory layout.
    top = np.ascontiguousarray(top * signs[:, None])
    scale = math.sqrt(max(float(vals[-1]), 0.0)) or 1.0
    return mean, top, scale


def _choose_alpha(z: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
    """The ALPHA_GRID value with the lowest k-fold CV error; on a tie the larger (simpler) one."""
    folds = np.array_split(rng.permutation(len(y)), max(2, min(CV_FOLDS, len(y) // 4)))
    split = []
    for fold in folds:
        mask = np.ones(len(y), dtype=bool)
        mask[fold] = False
        split.append((fold, _moments(z[mask], y[mask])))
    best, best_err = ALPHA_GRID[-1], math.inf
    for alpha in sorted(ALPHA_GRID, reverse=True):
        err = 0.0
        for fold, moments in split:
            w, b = _solve(moments, alpha)
            err += float(((z[fold] @ w + b - y[fold]) ** 2).sum())
        if err < best_err * (1 - 1e-9):  # a smaller alpha must really be better, not equal up to rounding
            best, best_err = alpha, err
    return best


# --- per-paper scores ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreExplanation:
    """One paper's AI Score as a reader should see it: never a bare number.

    `top_inputs` are (input, value as shown, points) with the largest |points| first; for the
    "pretrained" and "model" methods score = clip(base + sum of every input's points, 0, 100).
    """

    id: str
    score: int
    headline: str  # "AI Score 61 — predicted citation percentile among cs.CL papers of 2026"
    method: str  # "pretrained", "model" or "formula"
    model: str  # "pretrained impact model v1", "local model" or "formula (last resort)"
    quality: str  # the held-out quality of the model that made the score, in words
    top_inputs: tuple[tuple[str, str, float], ...]
    base: float

    def text(self) -> str:
        tops = ", ".join(f"{name} ({value}) {pts:+.1f}" for name, value, pts in self.top_inputs)
        return f"{self.headline}; top inputs: {tops or 'none'}; {self.model}: {self.quality}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ai_score": self.score, "text": self.headline, "method": self.method,
                "model": self.model, "quality": self.quality, "base": round(self.base, 2),
                "top_inputs": [{"input": n, "value": v, "points": round(p, 2)} for n, v, p in self.top_inputs]}


@dataclass(slots=True)
class ScoreReport:
    """AI Scores for a set of papers and how they were made.

    `inputs[id]` = {"method", "values" (what went in, as shown), "contributions" (points each part
    adds), "base" (points before any contribution), "assumed" (inputs taken as 50), "text" (the
    headline), "model" (which model made it)}; score = clip(base + sum(contributions), 0, 100).
    """

    method: str  # "model", "pretrained" or "formula"
    scores: dict[str, float]
    inputs: dict[str, dict[str, Any]]
    formula: str
    reason: str
    n_with_citations: int
    min_train: int
    n_train: int = 0
    n_holdout: int = 0
    held_out_spearman: float | None = None
    alpha: float | None = None
    model: ImpactModel | None = field(default=None, repr=False)
    quality: str = ""

    def explain(self, arxiv_id: str, k: int = 3) -> ScoreExplanation:
        """The score of one paper with its top `k` inputs and the quality of the model that made it."""
        if arxiv_id not in self.scores:
            raise KeyError(f"no AI Score for paper {arxiv_id}")
        inp = self.inputs[arxiv_id]
        values = inp.get("values", {})
        parts = sorted(inp.get("contributions", {}).items(), key=lambda kv: (-abs(kv[1]), kv[0]))
        tops = tuple((name, _shown(values.get(name, values.get(_VALUE_OF.get(name, ""), "")), name in
                                   inp.get("assumed", []) or _VALUE_OF.get(name) in inp.get("assumed", [])),
                      float(pts)) for name, pts in parts[:k])
        return ScoreExplanation(arxiv_id, round(self.scores[arxiv_id]), inp["text"], inp["method"],
                                inp["model"], inp.get("quality", self.quality), tops, float(inp.get("base", 0.0)))


# The formula's contributions are named after its inputs' values.
_VALUE_OF = {"novelty": "novelty_pct", "authors": "author_h_pct", "code": "has_code"}


def _shown(v: Any, assumed: bool = False) -> str:
    """A value as text for a reader: no None, no bare floats with sixteen digits."""
    if assumed or v is None:
        return f"unknown, {ASSUMED_WHEN_UNKNOWN:g} assumed" if assumed else "unknown"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.0f}" if abs(v) >= 10 else f"{v:.2g}"
    return str(v)


def _among(category: str, year: int | None) -> str:
    from paperscope.scoring.impact import field_of

    f = field_of(category)
    return (f"{f} papers" if f != "other" else f"{category or 'cs'} papers") + (f" of {year}" if year else "")


def paper_scores(feats: Sequence[PaperFeatures], citations: Mapping[str, int | None], *,
                 novelty: Mapping[str, float | None], author_h: Mapping[str, float], min_train: int = 200,
                 seed: int = 0, model: ImpactModel | None = None, embedder: str | None = None,
                 pretrained: Any = None) -> ScoreReport:
    """AI Score (0-100) of each paper: the local model when enough library papers have citations, else the
    pretrained impact model, else (last resort, when the pretrained model cannot run) the formula.

    `novelty[id]` is the paper's novelty percentile and `author_h[id]` the highest h-index percentile
    among its authors (both 0-100, None or absent when unknown); they feed only the formula. Pass a
    stored `model` to reuse it. `embedder` names the embedder of the papers' vectors (default: the
    shipped default); the pretrained model refuses vectors of another one. `pretrained` overrides the
    shipped model (a `PretrainedImpactModel`), e.g. for tests.
    """
    rows = [(f.arxiv_id, f.year, f.category, citations.get(f.arxiv_id)) for f in feats]
    targets = citation_percentiles(rows)
    actual = actual_percentiles(rows)  # stored beside each score for the author AI Score
    n_cited = len(targets)
    needed = max(1, min_train)
    while needed - round(needed * HOLDOUT) < MIN_FIT:  # the held-out share must leave MIN_FIT to train on
        needed += 1
    if model is None and n_cited >= needed:
        model = ImpactModel.fit(list(feats), targets, seed=seed, holdout=HOLDOUT)
    if model is None:
        few = f"{n_cited} of {len(feats)} papers have citation counts; the local model needs at least {needed}"
        try:
            return _with_actual(_pretrained_report(feats, pretrained, embedder, few, n_cited, min_train), actual)
        except (ModelMismatchError, StoreError) as e:
            reason = (f"formula (last resort; on real papers it barely tracks citations): the pretrained impact "
                      f"model cannot run: {e}; {few}")
            return _with_actual(_formula_report(feats, novelty, author_h, reason, n_cited, min_train), actual)
    rho = model.held_out_spearman
    quality = (f"held-out Spearman {rho:.2f} on {model.n_holdout} library papers; ridge trained on "
               f"{model.n_train} library papers with citations" if model.n_holdout and not math.isnan(rho) else
               f"ridge trained on {model.n_train} library papers with citations; no held-out figure")
    scores, inputs = {}, {}
    for f, parts in zip(feats, model.explain_many(feats)):
        # The score is built from the contributions shown, so the two always add up.
        scores[f.arxiv_id] = float(min(100.0, max(0.0, model.intercept + sum(parts.values()))))
        inputs[f.arxiv_id] = {
            "method": "model", "base": float(model.intercept), "contributions": parts,
            "values": {**f.meta_values(), "text": f.embedding is not None}, "assumed": [], "model": "local model",
            "quality": quality, "held_out_spearman": None if math.isnan(rho) else round(rho, 3),
            "text": f"AI Score {round(scores[f.arxiv_id])} — predicted citation percentile among this "
                    f"library's {_among(f.category, f.year)}"}
    reason = (f"model: ridge regression trained on {model.n_train} papers with citations "
              f"(held-out Spearman {rho:.2f} on {model.n_holdout})" if model.n_holdout else
              f"model: ridge regression trained on {model.n_train} papers with citations")
    formula = ("score = clip(base + sum of contributions, 0, 100); base = mean citation percentile of the "
               "training papers; contribution = coefficient x standardised feature (" + ", ".join(META_FEATURES)
               + f", and {model.text_components} text-embedding components summed as 'text')")
    return _with_actual(ScoreReport("model", scores, inputs, formula, reason, n_cited, min_train, model.n_train,
                                    model.n_holdout, None if math.isnan(rho) else rho, model.alpha, model, quality),
                        actual)


def _with_actual(report: ScoreReport, actual: Mapping[str, dict[str, Any]]) -> ScoreReport:
    """Each cited paper's actual percentile and cohort under inputs[id]["actual"]."""
    for pid, a in actual.items():
        if pid in report.inputs:
            report.inputs[pid]["actual"] = a
    return report


PRETRAINED_TEXT = ("score = clip(base + sum of each input's points, 0, 100): the pretrained impact model's expected "
                   "citation percentile within the paper's year and field; points are the trees' path attribution")


def _pretrained_report(feats: Sequence[PaperFeatures], pretrained: Any, embedder: str | None, few: str,
                       n_cited: int, min_train: int) -> ScoreReport:
    from paperscope.scoring.impact import ImpactInput, pretrained_model

    pm = pretrained if pretrained is not None else pretrained_model(embedder)
    if pretrained is not None and embedder is not None:
        pm.check_embedder(embedder)
    vecs = np.array([pm.pc_mean if f.embedding is None else np.asarray(f.embedding, dtype=float).ravel()
                     for f in feats]).reshape(len(feats), -1) if feats else np.zeros((0, pm.embedder_dim))
    if feats and vecs.shape[1] != pm.embedder_dim:
        raise ModelMismatchError(f"vectors have {vecs.shape[1]} dimensions, the model reads "
                                 f"'{pm.embedder}' vectors ({pm.embedder_dim})")
    ins = [ImpactInput(id=f.arxiv_id, title=f.title, abstract=f.abstract, category=f.category, year=f.year,
                       n_authors=f.n_authors, comment=f.comment, has_code=f.has_code, author_h=f.author_h_index)
           for f in feats]
    q = pm.quality
    scores, inputs = {}, {}
    for f, p in zip(feats, pm.predict(ins, vecs)):
        scores[f.arxiv_id] = p.score
        values = {c.input: c.value for c in p.inputs}
        if f.embedding is None:  # the average text stood in for a missing embedding
            values["text (embedding)"] = "no embedding, average text assumed"
        inputs[f.arxiv_id] = {"method": "pretrained", "base": p.base,
                              "contributions": {c.input: c.points for c in p.inputs}, "values": values,
                              "assumed": ["text (embedding)"] if f.embedding is None else [],
                              "model": p.model, "text": p.headline(), "quality": q.text(p.field),
                              "held_out_spearman": round(q.spearman, 3)}
    reason = f"{pm.label}: {q.text()}; {few}"
    return ScoreReport("pretrained", scores, inputs, PRETRAINED_TEXT, reason, n_cited, min_train,
                       n_holdout=q.n, held_out_spearman=q.spearman, quality=q.text())


def _formula_report(feats: Sequence[PaperFeatures], novelty: Mapping[str, float | None],
                    author_h: Mapping[str, float], reason: str, n_cited: int, min_train: int) -> ScoreReport:
    scores, inputs = {}, {}
    for f in feats:
        nov, auth = _pct(novelty.get(f.arxiv_id)), _pct(author_h.get(f.arxiv_id))
        values = {"novelty_pct": nov, "author_h_pct": auth, "has_code": bool(f.has_code)}
        assumed = [k for k, v in (("novelty_pct", nov), ("author_h_pct", auth)) if v is None]
        contributions = {
            "novelty": FORMULA_WEIGHTS["novelty"] * (ASSUMED_WHEN_UNKNOWN if nov is None else nov),
            "authors": FORMULA_WEIGHTS["authors"] * (ASSUMED_WHEN_UNKNOWN if auth is None else auth),
            "code": FORMULA_WEIGHTS["code"] * (100.0 if f.has_code else 0.0),
        }
        scores[f.arxiv_id] = float(min(100.0, max(0.0, sum(contributions.values()))))
        inputs[f.arxiv_id] = {"method": "formula", "base": 0.0, "contributions": contributions, "values": values,
                              "assumed": assumed, "model": "formula (last resort)",
                              "text": f"AI Score {round(scores[f.arxiv_id])} — formula of novelty, author "
                                      f"h-index and code; not a predicted citation percentile"}
    return ScoreReport("formula", scores, inputs, FORMULA_TEXT, reason, n_cited, min_train,
                       quality="no held-out figure: a fixed formula; within-venue-year Spearman about 0.02 on "
                               "real conference papers")


def _pct(x: float | None) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if not 0 <= x <= 100:
        raise ValueError(f"percentile {x} is outside 0-100")
    return float(x)


# --- per-author score ----------------------------------------------------------------------------


MIN_ACTUAL_COHORT = 10  # library papers with citation counts a (year, category) cohort needs to rank a paper in
AUTHOR_PAPER_TEXT = (
    f"per paper: its actual citation percentile within its year and primary category among the library's papers "
    f"with citation counts, when it has a count and that cohort holds at least {MIN_ACTUAL_COHORT} of them; else "
    f"its predicted percentile (its AI Score). Author AI Score = the mean of their best {TOP_PAPERS} such "
    f"percentiles (of all of them when they have fewer)")


@dataclass(frozen=True, slots=True)
class PaperEvidence:
    """What the author AI Score knows of one paper: its AI Score (the predicted citation percentile) and, when
    the library has its citation count, its actual percentile in the cohort `cohort` of `cohort_size` papers."""

    id: str
    predicted: float | None = None
    actual: float | None = None
    cohort: str = ""
    cohort_size: int = 0

    def percentile(self) -> tuple[float, str] | None:
        """(percentile, "actual" or "predicted") under `AUTHOR_PAPER_TEXT`; None when neither is known."""
        act, pred = _pct(self.actual), _pct(self.predicted)
        if act is not None and self.cohort_size >= MIN_ACTUAL_COHORT:
            return act, "actual"
        if pred is not None:
            return pred, "predicted"
        return None


def author_impact_score(papers: Sequence[PaperEvidence], *, total_papers: int | None = None,
                        quality: str = "") -> Figure:
    """An author's AI Score (0-100, an int) from their papers' actual and predicted citation percentiles.

    Per paper the actual percentile wins when it can be trusted (`PaperEvidence.percentile`): real citations
    say more than any prediction, but a rank among fewer than MIN_ACTUAL_COHORT papers says little. Over the
    papers, the mean of the best TOP_PAPERS: an author is judged by their strongest work, as readers of a CV
    do, so workshop notes and side projects do not pull a prolific author down, while five papers keep one
    lucky outlier from carrying the figure. `total_papers` (the author's papers in the library) and `quality`
    (the held-out quality of the model that made the predictions) are shown in the text. The Figure's source
    is its one-line reading; its inputs list every paper's percentile and where it came from.
    """
    rows = []
    for p in papers:
        got = p.percentile()
        if got is not None:
            rows.append({"id": p.id, "percentile": round(got[0], 1), "from": got[1],
                         "predicted": None if p.predicted is None else round(float(p.predicted), 1),
                         "actual": None if p.actual is None else round(float(p.actual), 1),
                         "cohort": p.cohort, "cohort_size": p.cohort_size})
    total = max(total_papers or 0, len(rows))
    if not rows:
        text = ("no AI Score yet: AI Scores not computed for their papers" if total else
                "no AI Score yet: no papers")
        return Figure("Score", None, text, {"text": text, "papers": 0, "papers_total": total,
                                            "rule": AUTHOR_PAPER_TEXT})
    rows.sort(key=lambda r: (-r["percentile"], r["id"]))
    best = rows[:TOP_PAPERS]
    value = round(sum(r["percentile"] for r in best) / len(best))
    n_actual = sum(1 for r in rows if r["from"] == "actual")
    of = f"{len(rows)} of their {total} papers" if total > len(rows) else _papers(len(rows))
    summary = f"from {of} ({n_actual} with citations, {len(rows) - n_actual} predicted)"
    text = f"AI Score {value} — {summary}: mean of the best {len(best)}"
    if quality:
        text += f" · predictions: {quality}"
    inputs: dict[str, object] = {
        "text": text, "summary": summary, "papers": len(rows), "papers_total": total, "with_citations": n_actual,
        "predicted": len(rows) - n_actual, "best": [r["id"] for r in best], "top_k": TOP_PAPERS,
        "model_quality": quality or None, "rule": AUTHOR_PAPER_TEXT, "per_paper": rows,
    }
    return Figure("Score", value, text, inputs)


def _papers(n: int) -> str:
    return f"{n} paper" if n == 1 else f"{n} papers"


def actual_percentiles(rows: Iterable[tuple[str, int, str, int | None]]) -> dict[str, dict[str, Any]]:
    """Each cited paper's actual citation percentile (`citation_percentiles`) with its cohort, for the author
    AI Score: {"percentile", "citations", "cohort" ("cs.CL papers of 2024"), "cohort_size"}."""
    rows = list(rows)
    pct = citation_percentiles(rows)
    size: dict[tuple[int, str], int] = {}
    meta: dict[str, tuple[int, str, int]] = {}
    for arxiv_id, year, category, cites in rows:
        if arxiv_id in pct and arxiv_id not in meta:
            meta[arxiv_id] = (int(year), category, int(cites or 0))
            size[(int(year), category)] = size.get((int(year), category), 0) + 1
    return {i: {"percentile": round(pct[i], 1), "citations": c, "cohort": f"{cat or 'uncategorised'} papers of {y}",
                "cohort_size": size[(y, cat)]} for i, (y, cat, c) in meta.items()}
