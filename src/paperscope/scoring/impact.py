"""The pre-trained impact model: a brand-new paper's predicted citation percentile, with its workings.

Trained by `tools/train_impact.py` on real papers with real citation counts (conference papers with
Google Scholar counts, arXiv cs papers with Semantic Scholar counts; see the model's `trained_on`).
The target is the paper's citation percentile (0-100) within its cohort: one count source x year x
field (conference papers: the field their venue belongs to; arXiv papers: year only, no field known).

What it reads of a paper is only what a paper has on the day it appears (`ImpactInput`): title and
abstract (as the library's embedding and as words), field, the number of authors and the highest
h-index among them when known, a venue or acceptance named in the comment, a code link, and lengths.
Versions are not read: no training record carries them.

How it predicts (numpy only):
  1. two linear text scores: ridge on the embedding ("embedding") and ridge on tf-idf words and
     word pairs ("words"); the model also keeps the embedding's top principal components;
  2. a gradient-boosted tree ensemble on those scores, the components and the metadata.
The score is `base + sum(points)`, clipped to 0-100, where each tree's change in expected value at a
split is credited to the feature it splits on (path attribution), so the points of every input add up
to the score exactly. A score is the *expected* percentile given the inputs, so it stays nearer 50
than real percentiles do.

`predict` works on all papers at once (`impact_kernels`: the words score, the leaves, the points per
input), giving what `meta_features`, `_terms` and `TreeEnsemble.predict_with_points` give one paper at a
time (tests/test_impact_bulk.py holds it to that; bench/score_speed.py measures it).

The model file records the embedder it was trained with (name, dimension and the vectors of a few
probe texts); `check_embedder` refuses another embedder instead of predicting from foreign vectors.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from paperscope.errors import ModelMismatchError, StoreError
from paperscope.models import Paper
from paperscope.scoring.aiscore import mentions_venue
from paperscope.scoring.impact_kernels import TreeKernel, WordKernel, leaf_points

__all__ = [
    "DEFAULT_IMPACT_MODEL", "FIELDS", "INPUT_LABELS", "MODELS_DIR", "PROBE_TEXTS", "VENUES", "Contribution",
    "ImpactInput", "ImpactPrediction", "ModelQuality", "PretrainedImpactModel", "field_of", "load_impact_model",
    "meta_features", "pretrained_model", "venue_named",
]

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_IMPACT_MODEL = "impact-v1"
FORMAT = 1

FIELDS = ("cs.CV", "cs.CL", "cs.LG", "cs.AI", "cs.RO")
# Fields a category folds into; the rest (and papers with no known field) read as "other".
_FIELD_ALIASES = {"stat.ML": "cs.LG", "eess.IV": "cs.CV"}
# The venues of the training data, as an arXiv comment spells them.
VENUES = ("AAAI", "ACL", "ACML", "AISTATS", "AutoML", "COLING", "COLM", "COLT", "CoRL", "CVPR", "ECCV", "ICCV",
          "ICLR", "ICML", "ICRA", "IJCAI", "IROS", "NAACL", "NeurIPS", "RSS", "UAI", "WACV")
_VENUE_WORD = re.compile(r"\b(" + "|".join([*VENUES, "NIPS"]) + r")\b", re.IGNORECASE)
_VENUE_LOWER = re.compile(_VENUE_WORD.pattern.lower())
_ORAL = re.compile(r"\b(?:oral|spotlight)\b", re.IGNORECASE)
_CODE = re.compile(r"github\.com|gitlab\.com|huggingface\.co/|\b(?:code|models?|data(?:set)?s?) (?:is|are|will be) "
                   r"(?:publicly |freely )?(?:made )?available|\bour code\b|\bsource code\b|\bproject page\b",
                   re.IGNORECASE)
PROBE_TEXTS = (("Attention is all you need. The dominant sequence transduction models are based on recurrent "
                "networks."), "A robot arm learns to grasp novel objects from a single demonstration.",
               "We prove a lower bound for online convex optimisation with delayed feedback.")

# Feature name -> the input a reader sees it as; the points of one input are summed.
INPUT_LABELS: dict[str, str] = {
    "embedding": "text (embedding)", "words": "text (words)", "field": "field", "n_authors": "authors",
    "authors_known": "authors", "author_h": "author h-index", "author_h_known": "author h-index",
    "venue": "venue named", "oral": "venue named", "has_code": "code", "abstract_len": "abstract length",
    "title_len": "title length",
}
_PC_LABEL = "text (embedding)"


def field_of(category: str) -> str:
    """The training field a primary category belongs to ('other' for the rest)."""
    cat = _FIELD_ALIASES.get(category, category)
    return cat if cat in FIELDS else "other"


def venue_named(comment: str) -> str | None:
    """The training venue an arXiv comment says the paper was accepted at, or None.

    Only an acceptance counts (the rule of `mentions_venue`): "Accepted to CVPR 2026" names CVPR,
    "Submitted to ICLR 2026" names nothing. NIPS reads as NeurIPS.
    """
    if not comment or not mentions_venue(comment):
        return None
    m = _VENUE_WORD.search(comment)
    if not m:
        return None
    # Which venue matched, by the regex's own case folding ("ıclr", with a dotless i, matches ICLR; lower()
    # would not find it).
    word = next(v for v in (*VENUES, "NIPS") if re.fullmatch(v, m.group(1), re.IGNORECASE))
    return "NeurIPS" if word == "NIPS" else word


@dataclass(frozen=True, slots=True)
class ImpactInput:
    """What the pre-trained model reads of one paper. `n_authors` None: unknown; `author_h`: the highest
    h-index among the authors, None when none is known."""

    id: str
    title: str
    abstract: str
    category: str = ""
    year: int | None = None
    n_authors: int | None = None
    comment: str = ""
    has_code: bool = False
    author_h: float | None = None

    @classmethod
    def from_paper(cls, paper: Paper, author_h: float | None = None) -> ImpactInput:
        """The input of a library paper (its primary category and first-submission year)."""
        return cls(id=paper.id, title=paper.title, abstract=paper.abstract,
                   category=paper.primary_category or (paper.categories[0] if paper.categories else ""),
                   year=paper.first_submitted.year, n_authors=len(paper.authors) or None, comment=paper.comment,
                   has_code=paper.has_code, author_h=author_h)

    def text(self) -> str:
        """The text the word model reads."""
        return f"{self.title or ''}. {self.abstract or ''}"


def meta_features(inp: ImpactInput) -> dict[str, float]:
    """The metadata columns of the tree model, by name (see `META_COLUMNS`)."""
    venue = venue_named(inp.comment)
    f: dict[str, float] = {f"field={x}": float(field_of(inp.category) == x) for x in FIELDS}
    f.update({f"venue={v}": float(venue == v) for v in VENUES})
    f["oral"] = float(venue is not None and bool(_ORAL.search(inp.comment)))
    f["authors_known"] = float(inp.n_authors is not None)
    f["n_authors"] = math.log1p(inp.n_authors) if inp.n_authors else 0.0
    h = inp.author_h
    known = h is not None and not (isinstance(h, float) and math.isnan(h))
    f["author_h_known"] = float(known)
    f["author_h"] = math.log1p(max(0.0, float(h))) if known else 0.0  # type: ignore[arg-type]
    f["has_code"] = float(bool(inp.has_code) or bool(_CODE.search(inp.abstract or "")))
    f["abstract_len"] = math.log1p(len(inp.abstract or ""))
    f["title_len"] = math.log1p(len(inp.title or ""))
    return f


META_COLUMNS = tuple(meta_features(ImpactInput("", "", "")))

# What `_CODE` can match always holds one of these, lower-cased (on ASCII text IGNORECASE is lower-casing);
# the first three are whole branches of it, so holding one is a match.
_CODE_SURE = ("github.com", "gitlab.com", "huggingface.co/")
_CODE_KEYS = ("is available", "are available", "be available", "publicly available", "freely available",
              "made available", "our code", "source code", "project page")
_CODE_LOWER = re.compile(_CODE.pattern)
_CODE_REACH = 32  # a match starts at most this many characters before the key it holds


def _code_named(abstract: str) -> bool:
    """`bool(_CODE.search(abstract))`, the regex run only from just before the first of its keys."""
    if not abstract.isascii():
        return bool(_CODE.search(abstract))
    low = abstract.lower()
    if "git" not in low and "hugging" not in low and "available" not in low and "code" not in low \
            and "project page" not in low:  # what every key holds: most abstracts stop here
        return False
    if any(k in low for k in _CODE_SURE):
        return True
    at = min((i for i in map(low.find, _CODE_KEYS) if i >= 0), default=-1)
    return at >= 0 and bool(_CODE_LOWER.search(low, max(0, at - _CODE_REACH)))


def _venues(comments: Sequence[str]) -> list[str | None]:
    """`venue_named` of each comment; one regex pass over all comments finds the few that name a venue."""
    out: list[str | None] = [None] * len(comments)
    starts = list(itertools.accumulate((len(c) + 1 for c in comments[:-1]), initial=0))
    seen = -1
    joined = "\n".join(comments)  # '\n' is a word boundary, as a string's end is
    # On ASCII text IGNORECASE is lower-casing, and a case-sensitive scan is the faster one.
    scan = _VENUE_LOWER.finditer(joined.lower()) if joined.isascii() else _VENUE_WORD.finditer(joined)
    for m in scan:
        k = bisect.bisect_right(starts, m.start()) - 1
        if k != seen:
            out[k] = venue_named(comments[k])
            seen = k
    return out


def _meta_matrix(inputs: Sequence[ImpactInput]) -> tuple[np.ndarray, list[str | None]]:
    """`meta_features` of every input as rows in `META_COLUMNS` order, and each input's venue."""
    n = len(inputs)
    comments = [inp.comment or "" for inp in inputs]
    venues = _venues(comments)
    col = {c: i for i, c in enumerate(META_COLUMNS)}
    m = np.zeros((n, len(META_COLUMNS)))
    fields: dict[str, int] = {}
    field_col = [fields.setdefault(inp.category, col.get(f"field={field_of(inp.category)}", -1)) for inp in inputs]
    rows = np.arange(n)
    fc = np.array(field_col, dtype=np.int64)
    m[rows[fc >= 0], fc[fc >= 0]] = 1.0
    vc = np.array([-1 if v is None else col[f"venue={v}"] for v in venues], dtype=np.int64)
    m[rows[vc >= 0], vc[vc >= 0]] = 1.0
    m[:, col["oral"]] = [float(v is not None and bool(_ORAL.search(c))) for v, c in zip(venues, comments)]
    m[:, col["authors_known"]] = [float(inp.n_authors is not None) for inp in inputs]
    m[:, col["n_authors"]] = [math.log1p(inp.n_authors) if inp.n_authors else 0.0 for inp in inputs]
    hs = [inp.author_h for inp in inputs]
    known = [h is not None and not (isinstance(h, float) and math.isnan(h)) for h in hs]
    m[:, col["author_h_known"]] = known
    m[:, col["author_h"]] = [math.log1p(max(0.0, float(h))) if k else 0.0  # type: ignore[arg-type]
                             for h, k in zip(hs, known)]
    m[:, col["has_code"]] = [float(bool(inp.has_code) or _code_named(inp.abstract or "")) for inp in inputs]
    m[:, col["abstract_len"]] = [math.log1p(len(inp.abstract or "")) for inp in inputs]
    m[:, col["title_len"]] = [math.log1p(len(inp.title or "")) for inp in inputs]
    return m, venues


@lru_cache(maxsize=8)
def _input_groups(columns: tuple[str, ...]) -> tuple[list[str], list[int]]:
    """The inputs a reader sees, in column order, and the input of each column."""
    labels = list(dict.fromkeys(_label(c) for c in columns))
    return labels, [labels.index(_label(c)) for c in columns]


def _label(column: str) -> str:
    if column.startswith("pc"):
        return _PC_LABEL
    return INPUT_LABELS.get(column.split("=")[0], column)


_FEW = 32  # below this many papers the one-at-a-time paths are the faster ones

# --- word model: tf-idf (sublinear tf, l2-normalised) dotted with ridge weights ---------------------------

_TOKEN = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b")


def _terms(text: str) -> list[str]:
    """Unigrams and adjacent pairs, the way scikit-learn's TfidfVectorizer(ngram_range=(1, 2)) forms them."""
    toks = _TOKEN.findall(text.lower())
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


@dataclass(slots=True)
class WordModel:
    """Ridge regression on tf-idf; `score(text)` = w . tfidf(text) / |tfidf(text)| + intercept."""

    index: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    _kernel: WordKernel | None = field(default=None, repr=False, compare=False)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """The words score of each text, the terms being `_terms(text)` (computed in bulk: impact_kernels)."""
        if len(texts) < _FEW:
            return self._score_each(texts)
        if self._kernel is None:
            self._kernel = WordKernel.build(self.index, _TOKEN)
        return self._kernel.scores(texts, self.idf, self.coef, self.intercept)

    def _score_each(self, texts: Sequence[str]) -> np.ndarray:
        """`score` one text at a time: for a few texts, cheaper than the bulk kernel's fixed cost."""
        out = np.full(len(texts), self.intercept)
        for i, text in enumerate(texts):
            counts: dict[int, int] = {}
            for t in _terms(text):
                j = self.index.get(t)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if counts:
                ix = np.fromiter(counts, dtype=np.int64)
                w = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * self.idf[ix]
                out[i] += float(w @ self.coef[ix]) / float(np.sqrt(w @ w))
        return out


# --- tree ensemble with path attribution ----------------------------------------------------------------


@dataclass(slots=True)
class TreeEnsemble:
    """Regression trees in flat arrays: node i splits on `feature[i]` (-1: a leaf) at `threshold[i]`
    (x <= threshold goes to `left[i]`), `value[i]` is the node's expected output; `roots[t]` is tree t's root."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    _kernel: TreeKernel | None = field(default=None, repr=False, compare=False)
    _points: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def base(self) -> float:
        return float(self.value[self.roots].sum())

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """(rows, trees): the node index of the leaf each row of `x` reaches in each tree."""
        if len(x) < _FEW:  # a few rows: the kernel's fixed cost (a pass per feature) is more than a walk's
            return self._walk(np.asarray(x, dtype=float))
        if self._kernel is None:
            self._kernel = TreeKernel.build(self.feature, self.threshold, self.left, self.right, self.roots)
        return self._kernel.leaves(x)

    def _walk(self, x: np.ndarray) -> np.ndarray:
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        rows = np.broadcast_to(np.arange(len(x))[:, None], node.shape)
        while True:
            feat = self.feature[node]
            live = feat >= 0
            if not live.any():
                return node
            c = node[live]
            node[live] = np.where(x[rows[live], feat[live]] <= self.threshold[c], self.left[c], self.right[c])

    def grouped_points(self, leaves: np.ndarray, groups: Sequence[int]) -> np.ndarray:
        """(rows, groups): what each group of columns (`groups[column]`) adds for each row, its path
        attribution summed over the trees: the points of `predict_with_points` summed per group."""
        key = tuple(groups)
        table = self._points.get(key)
        if table is None:
            table = np.ascontiguousarray(leaf_points(self.feature, self.left, self.right, self.value, self.roots,
                                                     np.asarray(groups, dtype=np.int64), max(key) + 1).T)
            self._points[key] = table
        out = np.empty((len(leaves), table.shape[0]))
        for g, points in enumerate(table):  # one group at a time: rows summed along contiguous memory
            out[:, g] = points[leaves].sum(axis=1)
        return out

    def predict_with_points(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(predictions, points): points[i, j] is what column j adds for row i; base + points.sum(1) = prediction."""
        n, d = x.shape
        node = np.broadcast_to(self.roots, (n, len(self.roots))).copy()
        points = np.zeros((n, d))
        rows = np.broadcast_to(np.arange(n)[:, None], node.shape)
        while True:
            feat = self.feature[node]
            live = feat >= 0
            if not live.any():
                break
            r, c = rows[live], node[live]
            f = feat[live]
            go_left = x[r, f] <= self.threshold[c]
            child = np.where(go_left, self.left[c], self.right[c])
            np.add.at(points, (r, f), self.value[child] - self.value[c])
            node[live] = child
        return self.value[node].sum(axis=1), points


# --- results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelQuality:
    """How well a model did on papers it never saw: Spearman of its scores against their real percentiles."""

    spearman: float
    n: int
    per_field: dict[str, tuple[float, int]]
    trained_on: str
    split: str

    def text(self, field: str | None = None) -> str:
        """In words; with a `field` the model measured, its figure for that field too."""
        own = self.per_field.get(field or "")
        among = f", {own[0]:.2f} on its {own[1]:,} {field} papers" if own else ""
        return (f"held-out Spearman {self.spearman:.2f} on {self.n:,} papers{among} ({self.split}); trained on "
                f"{self.trained_on}")

    def to_dict(self) -> dict[str, Any]:
        return {"spearman": round(self.spearman, 4), "n": self.n, "trained_on": self.trained_on, "split": self.split,
                "per_field": {k: {"spearman": round(s, 4), "n": m} for k, (s, m) in self.per_field.items()}}


@dataclass(frozen=True, slots=True)
class Contribution:
    """One input of a score: what it was (as shown) and the points it adds (negative: takes)."""

    input: str
    value: str
    points: float

    def text(self) -> str:
        return f"{self.input} ({self.value}) {self.points:+.1f}"

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "value": self.value, "points": round(self.points, 2)}


@dataclass(frozen=True, slots=True)
class ImpactPrediction:
    """A paper's AI Score from the pre-trained model: score = clip(base + sum of every input's points, 0, 100)."""

    id: str
    score: float
    base: float
    field: str
    year: int | None
    inputs: tuple[Contribution, ...]  # every input, largest |points| first
    model: str  # e.g. "pretrained impact model v1"
    quality: ModelQuality

    @property
    def ai_score(self) -> int:
        return round(self.score)

    def top_inputs(self, k: int = 3) -> tuple[Contribution, ...]:
        return self.inputs[:k]

    def headline(self) -> str:
        """'AI Score 61 — predicted citation percentile among cs.CL papers of 2026'."""
        among = f"{self.field} papers" if self.field != "other" else "cs papers"
        return f"AI Score {self.ai_score} — predicted citation percentile among {among}" + (
            f" of {self.year}" if self.year else "")

    def text(self) -> str:
        tops = ", ".join(c.text() for c in self.top_inputs())
        return (f"{self.headline()}; top inputs: {tops}; base {self.base:.1f}; {self.model}, "
                f"{self.quality.text(self.field)}")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ai_score": self.ai_score, "score": round(self.score, 2), "text": self.headline(),
                "base": round(self.base, 2), "field": self.field, "year": self.year, "model": self.model,
                "inputs": [c.to_dict() for c in self.inputs], "quality": self.quality.to_dict()}


# --- the model -------------------------------------------------------------------------------------------

_BLOCK = 4096  # papers predicted at a time


@dataclass(slots=True)
class PretrainedImpactModel:
    """The shipped model (see the module doc); `load_impact_model()` reads it."""

    version: int
    embedder: str
    embedder_dim: int
    probe_vectors: np.ndarray
    emb_coef: np.ndarray
    emb_intercept: float
    pc_mean: np.ndarray
    pc_components: np.ndarray
    words: WordModel
    trees: TreeEnsemble
    columns: tuple[str, ...]
    quality: ModelQuality
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"pretrained impact model v{self.version}"

    def check_embedder(self, name: str, dim: int | None = None, probe: np.ndarray | None = None) -> None:
        """Raise ModelMismatchError unless vectors come from the embedder this model was trained with.

        `probe` (the embedder's vectors of PROBE_TEXTS) also catches a model retrained under the same name.
        """
        if name != self.embedder or (dim is not None and dim != self.embedder_dim):
            raise ModelMismatchError(
                f"the pretrained impact model was trained on '{self.embedder}' vectors ({self.embedder_dim} "
                f"dimensions); the library uses '{name}'{f' ({dim} dimensions)' if dim else ''}: retrain it with "
                f"tools/train_impact.py or use the local model")
        if probe is not None:
            p = np.asarray(probe, dtype=float)
            if p.shape != self.probe_vectors.shape or float(np.abs(p - self.probe_vectors).max()) > 1e-3:
                raise ModelMismatchError(
                    f"embedder '{name}' gives other vectors than the one the pretrained impact model was trained "
                    f"with (same name, other weights): retrain it with tools/train_impact.py")

    def check_embedder_of(self, embedder: Any) -> None:
        """`check_embedder` for an Embedder object: name, dimension and its vectors of the probe texts."""
        self.check_embedder(embedder.name, int(embedder.dim), embedder.embed(list(PROBE_TEXTS)))

    def design(self, inputs: Sequence[ImpactInput], vectors: np.ndarray) -> np.ndarray:
        """The tree model's input matrix (columns: `self.columns`)."""
        return self._design(inputs, self._checked(inputs, vectors))[0]

    def _checked(self, inputs: Sequence[ImpactInput], vectors: np.ndarray) -> np.ndarray:
        v = np.asarray(vectors, dtype=float)
        if v.ndim != 2 or v.shape[0] != len(inputs):
            raise ValueError(f"need one vector per paper: {len(inputs)} papers, vectors of shape {v.shape}")
        if v.shape[1] != self.embedder_dim:
            raise ModelMismatchError(f"vectors have {v.shape[1]} dimensions; the pretrained impact model was "
                                     f"trained on '{self.embedder}' ({self.embedder_dim})")
        return v

    def _design(self, inputs: Sequence[ImpactInput], v: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
        emb = v @ self.emb_coef + self.emb_intercept
        pcs = (v - self.pc_mean) @ self.pc_components.T
        words = self.words.score([x.text() for x in inputs])
        meta, venues = _meta_matrix(inputs)
        return np.column_stack([emb, words, pcs, meta]), venues

    def predict(self, inputs: Sequence[ImpactInput], vectors: np.ndarray, *,
                embedder: str | None = None) -> list[ImpactPrediction]:
        """Predict each paper's citation percentile; `vectors` are its embeddings (rows in input order) by
        the embedder named `embedder` (checked against the model's when given)."""
        if embedder is not None:
            self.check_embedder(embedder)
        if not inputs:
            return []
        v = self._checked(inputs, vectors)
        out: list[ImpactPrediction] = []
        for i in range(0, len(inputs), _BLOCK):  # a block's arrays stay in cache
            out.extend(self._predict_block(inputs[i:i + _BLOCK], v[i:i + _BLOCK]))
        return out

    def _predict_block(self, inputs: Sequence[ImpactInput], v: np.ndarray) -> list[ImpactPrediction]:
        x, venues = self._design(inputs, v)
        labels, groups = _input_groups(self.columns)
        pts = self.trees.grouped_points(self.trees.leaves(x), groups)
        # Largest |points| first, ties by name; the score sums them in that order (the score is rebuilt from
        # the points shown).
        rank = np.argsort(np.argsort(labels))
        order = np.lexsort((np.broadcast_to(rank, pts.shape), -np.abs(pts)), axis=-1)
        pts = np.take_along_axis(pts, order, axis=1)
        total = pts[:, 0].copy()
        for k in range(1, pts.shape[1]):
            total += pts[:, k]
        base = self.trees.base
        scores = np.minimum(100.0, np.maximum(0.0, base + total)).tolist()
        shown = _shown_columns(inputs, x, self.columns, venues)
        values = np.empty((len(inputs), len(labels)), dtype=object)
        for j, lab in enumerate(labels):
            values[:, j] = shown[lab]
        names = np.array(labels, dtype=object)[order].tolist()
        values = np.take_along_axis(values, order, axis=1).tolist()
        return [ImpactPrediction(inp.id, score, base, field_of(inp.category), inp.year,
                                 tuple(map(_contribution, n, val, p)), self.label, self.quality)
                for inp, score, n, val, p in zip(inputs, scores, names, values, pts.tolist())]


_new = object.__new__
_set_input, _set_value, _set_points = (vars(Contribution)[k].__set__ for k in ("input", "value", "points"))


def _contribution(input: str, value: str, points: float) -> Contribution:
    """Contribution(input, value, points), made at twice the speed of its __init__ (a frozen dataclass's
    __init__ sets each slot through object.__setattr__; this sets the slots directly)."""
    c = _new(Contribution)
    _set_input(c, input)
    _set_value(c, value)
    _set_points(c, points)
    return c


def _shown_columns(inputs: Sequence[ImpactInput], x: np.ndarray, columns: Sequence[str],
                   venues: Sequence[str | None]) -> dict[str, list[str]]:
    """Each input's value as a reader sees it, by input name: the value lists in input order."""
    col = {c: x[:, i].tolist() for i, c in enumerate(columns) if c in (
        "embedding", "words", "author_h_known", "author_h", "oral", "has_code")}
    return {
        "text (embedding)": [f"text score {v:.0f}" for v in col["embedding"]],
        "text (words)": [f"words score {v:.0f}" for v in col["words"]],
        "field": [field_of(inp.category) for inp in inputs],
        "authors": ["unknown" if inp.n_authors is None else str(inp.n_authors) for inp in inputs],
        "author h-index": ["unknown" if k == 0 else f"{math.expm1(h):.0f}"
                           for k, h in zip(col["author_h_known"], col["author_h"])],
        "venue named": [(v + (" oral/spotlight" if o else "")) if v else "none" for v, o in zip(venues, col["oral"])],
        # the feature is a code link or code said to be available in the abstract: the value says which
        "code": ["linked" if inp.has_code else "said available" if c else "none"
                 for inp, c in zip(inputs, col["has_code"])],
        "abstract length": [f"{len(inp.abstract or '')} chars" for inp in inputs],
        "title length": [f"{len(inp.title or '')} chars" for inp in inputs],
    }


# --- persistence: one .npz, loaded without pickle ------------------------------------------------------


def save_impact_model(path: Path, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> None:
    """Write a model file (used by tools/train_impact.py)."""
    blobs: dict[str, Any] = {"header": np.array(json.dumps(header, sort_keys=True)), **arrays}
    np.savez_compressed(path, **blobs)


@lru_cache(maxsize=4)
def load_impact_model(name_or_path: str | Path = DEFAULT_IMPACT_MODEL) -> PretrainedImpactModel:
    """Load a shipped model by name (models/<name>.npz) or a file path; StoreError when it is not one."""
    p = Path(name_or_path)
    path = p if p.suffix == ".npz" else MODELS_DIR / f"{name_or_path}.npz"
    if not path.is_file():
        raise StoreError(f"pretrained impact model not found: {path} (build it with tools/train_impact.py)")
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            a = {k: z[k] for k in z.files if k != "header"}
    except (OSError, ValueError, KeyError) as e:
        raise StoreError(f"pretrained impact model {path} cannot be read ({e}); rebuild it with "
                         f"tools/train_impact.py") from None
    if header.get("format") != FORMAT or tuple(header.get("meta_columns", ())) != META_COLUMNS:
        raise StoreError(f"pretrained impact model {path} has format {header.get('format')} or other features "
                         f"than this paperscope reads; rebuild it with tools/train_impact.py")
    q = header["quality"]
    quality = ModelQuality(q["spearman"], q["n"], {k: (v[0], v[1]) for k, v in q["per_field"].items()},
                           q["trained_on"], q["split"])
    terms = [str(t) for t in a["terms"]]
    return PretrainedImpactModel(
        version=int(header["version"]), embedder=header["embedder"], embedder_dim=int(header["embedder_dim"]),
        probe_vectors=a["probe_vectors"].astype(float), emb_coef=a["emb_coef"].astype(float),
        emb_intercept=float(header["emb_intercept"]), pc_mean=a["pc_mean"].astype(float),
        pc_components=a["pc_components"].astype(float),
        words=WordModel({t: i for i, t in enumerate(terms)}, a["idf"].astype(float), a["word_coef"].astype(float),
                        float(header["word_intercept"])),
        trees=TreeEnsemble(a["tree_feature"].astype(np.int64), a["tree_threshold"].astype(float),
                           a["tree_left"].astype(np.int64), a["tree_right"].astype(np.int64),
                           a["tree_value"].astype(float), a["tree_roots"].astype(np.int64)),
        columns=tuple(header["columns"]), quality=quality, extra=dict(header.get("extra", {})))


@lru_cache(maxsize=4)
def pretrained_model(embedder: str | None = None, name: str = DEFAULT_IMPACT_MODEL) -> PretrainedImpactModel:
    """The shipped model, checked against the library's embedder (default: the shipped default embedder).

    A shipped static embedder is also probed (its vectors of PROBE_TEXTS must match the ones recorded at
    training), so a default embedder retrained under the same name is caught rather than mis-read.
    Raises ModelMismatchError (other embedder) or StoreError (no usable model file).
    """
    from paperscope.semantic.embed import DEFAULT_MODEL, load_embedder
    from paperscope.semantic.embed import MODELS_DIR as EMBEDDER_DIR

    model = load_impact_model(name)
    used = embedder or DEFAULT_MODEL
    model.check_embedder(used)
    if (EMBEDDER_DIR / used / "config.json").is_file():
        model.check_embedder_of(load_embedder(used))
    return model
