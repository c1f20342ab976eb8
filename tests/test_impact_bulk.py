"""The bulk prediction path of the pre-trained impact model against the per-paper one it replaced.

Each test computes the reference here, the simple way (one term, one node, one paper at a time), and the
model's bulk path must give the same: word sequences, words scores, metadata, leaves, points, shown values
and scores, on hand-made edge cases and on the 300 real held-out papers of the fixture.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperscope.scoring.impact import (
    _CODE,
    _TOKEN,
    META_COLUMNS,
    ImpactInput,
    TreeEnsemble,
    _code_named,
    _label,
    _meta_matrix,
    _venues,
    field_of,
    meta_features,
    pretrained_model,
    venue_named,
)
from paperscope.scoring.impact_kernels import TreeKernel, WordKernel

FIXTURE = Path(__file__).parent / "fixtures" / "citations" / "heldout.jsonl.gz"


@pytest.fixture(scope="module")
def model():
    return pretrained_model()


# --- the reference: the per-paper path, written out -------------------------------------------------------


def ref_terms(text: str) -> list[str]:
    toks = re.findall(r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b", text.lower())
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


def ref_words(model, text: str) -> float:
    counts: dict[int, int] = {}
    for t in ref_terms(text):
        j = model.words.index.get(t)
        if j is not None:
            counts[j] = counts.get(j, 0) + 1
    if not counts:
        return model.words.intercept
    ix = np.array(list(counts))
    w = (1.0 + np.log(np.array(list(counts.values()), dtype=float))) * model.words.idf[ix]
    return model.words.intercept + float(w @ model.words.coef[ix]) / float(np.sqrt(w @ w))


def ref_walk(trees: TreeEnsemble, row: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The leaf of each tree and the points per column: one node at a time."""
    leaves, points = [], np.zeros(len(row))
    for node in trees.roots.tolist():
        while trees.feature[node] >= 0:
            f = int(trees.feature[node])
            child = int(trees.left[node] if row[f] <= trees.threshold[node] else trees.right[node])
            points[f] += trees.value[child] - trees.value[node]
            node = child
        leaves.append(node)
    return leaves, points


def ref_predict(model, inp: ImpactInput, vec: np.ndarray) -> tuple[float, list[tuple[str, str, float]]]:
    v = np.asarray(vec, dtype=float)
    meta = meta_features(inp)
    row = np.concatenate([[v @ model.emb_coef + model.emb_intercept, ref_words(model, inp.text())],
                          (v - model.pc_mean) @ model.pc_components.T, [meta[c] for c in META_COLUMNS]])
    _, pts = ref_walk(model.trees, row)
    grouped: dict[str, float] = {}
    for c, p in zip(model.columns, pts):
        grouped[_label(c)] = grouped.get(_label(c), 0.0) + float(p)
    col = dict(zip(model.columns, row))
    venue = venue_named(inp.comment)
    shown = {"text (embedding)": f"text score {col['embedding']:.0f}", "text (words)": f"words score {col['words']:.0f}",
             "field": field_of(inp.category), "authors": "unknown" if inp.n_authors is None else str(inp.n_authors),
             "author h-index": "unknown" if col["author_h_known"] == 0 else f"{math.expm1(col['author_h']):.0f}",
             "venue named": (venue + (" oral/spotlight" if col["oral"] else "")) if venue else "none",
             "code": "linked" if inp.has_code else "said available" if col["has_code"] else "none", "abstract length": f"{len(inp.abstract or '')} chars",
             "title length": f"{len(inp.title or '')} chars"}
    contribs = sorted(((k, shown[k], v) for k, v in grouped.items()), key=lambda c: (-abs(c[2]), c[0]))
    base = float(model.trees.value[model.trees.roots].sum())
    return min(100.0, max(0.0, base + sum(c[2] for c in contribs))), contribs


def assert_same_predictions(model, inputs: list[ImpactInput], vecs: np.ndarray) -> None:
    got = model.predict(inputs, vecs)
    assert [p.id for p in got] == [i.id for i in inputs]
    for p, inp, v in zip(got, inputs, vecs):
        score, contribs = ref_predict(model, inp, v)
        assert p.score == pytest.approx(score, abs=1e-9), inp
        assert [(c.input, c.value) for c in p.inputs] == [(k, s) for k, s, _ in contribs], inp
        assert [c.points for c in p.inputs] == pytest.approx([x for _, _, x in contribs], abs=1e-9)
        assert p.score == min(100.0, max(0.0, p.base + sum(c.points for c in p.inputs)))  # exactly


# --- hand-made papers: the edge cases -----------------------------------------------------------------------

LONG = " ".join(["state-of-the-art", "x_i", "transformer-based", "pneumonoultramicroscopicsilicovolcanoconiosis",
                 "electroencephalography", "3d-printing", "pre-", "and", "post-training", "résumé"] * 400)
EDGE_TEXTS = [
    "", ".", "a", "ab", "a b c", "Deep   learning\tfor\nrobots.", "-based 3d-printing 2-layer 1a-b a- ab- ab--",
    "x_i ab-_ cd_ _ef foo_bar ab-é ab-cdé", "Éclair naïve café résumé — “quotes” and ‘single’", "KELVIN Kelvin",
    "İstanbul ıi ſtate ﬁnite", "Σίσυφος ΣΑΣ ends with Σ", "model\u00a0based learning\u200bfree", LONG,
    "github.com/x our code; source code and project page", "code is available at https://example.org",
    "we make the data publicly available", "the models are freely made available", "Our encoder-decoder",
    "source codes and codebooks", "models will be available soon", "avaılable code is avaılable", "GITHUB.COM",
]


def test_word_sequence_is_the_regex_tokens_in_order(model):
    kernel = WordKernel.build(model.words.index, _TOKEN)
    doc, wid = kernel.word_sequence(EDGE_TEXTS)
    for i, text in enumerate(EDGE_TEXTS):
        want = [kernel.word_ids.get(t, -1) for t in _TOKEN.findall(text.lower())]
        assert wid[doc == i].tolist() == want, text
        at = np.flatnonzero(doc == i)
        assert not at.size or at[-1] - at[0] == at.size - 1  # a text's tokens lie together: pairs are read there


def test_words_score_equals_the_reference_on_edge_cases(model):
    titles = [*EDGE_TEXTS, "attention is all you need", "Graph neural networks for molecule property prediction"]
    got = model.words.score(titles * 2)  # enough texts for the bulk kernel
    assert got.tolist() == pytest.approx([ref_words(model, t) for t in titles * 2], abs=1e-9)
    assert model.words.score(titles[:5]).tolist() == pytest.approx(got[:5].tolist(), abs=1e-9)  # and a few
    # A text that reads only words of the vocabulary scores away from the intercept.
    assert got[-1] != model.words.intercept


_ALPHABET = "ab-_1Zz. \néıİKſΣ"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=40), max_size=6))
def test_word_sequence_matches_the_regex_on_random_text(texts):
    kernel = _small_kernel()
    doc, wid = kernel.word_sequence(texts)
    for i, text in enumerate(texts):
        assert wid[doc == i].tolist() == [kernel.word_ids.get(t, -1) for t in _TOKEN.findall(text.lower())], text


def _small_kernel() -> WordKernel:
    words = ["ab", "zz", "a-b", "ab-", "b1", "ab ab", "zz ab", "a-b zz", "abab-zz"]
    return WordKernel.build({w: i for i, w in enumerate(words)}, _TOKEN)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="abz-_ 1é", max_size=30), min_size=1, max_size=5))
def test_words_score_matches_the_reference_on_random_text(texts):
    kernel = _small_kernel()
    index = {w: i for i, w in enumerate(["ab", "zz", "a-b", "ab-", "b1", "ab ab", "zz ab", "a-b zz", "abab-zz"])}
    idf = np.linspace(1.0, 3.0, len(index))
    coef = np.linspace(-2.0, 2.0, len(index))
    got = kernel.scores(texts, idf, coef, 5.0)
    for text, g in zip(texts, got):
        counts: dict[int, int] = {}
        for t in ref_terms(text):
            if t in index:
                counts[index[t]] = counts.get(index[t], 0) + 1
        want = 5.0
        if counts:
            ix = np.array(list(counts))
            w = (1.0 + np.log(np.array(list(counts.values()), dtype=float))) * idf[ix]
            want += float(w @ coef[ix]) / float(np.sqrt(w @ w))
        assert g == pytest.approx(want, abs=1e-12), text


def test_metadata_in_bulk_equals_meta_features():
    comments = ["", "Accepted to CVPR 2026 (oral)", "Submitted to ICLR 2026", "NIPS 2018 camera-ready", "KDD 2026",
                "8 pages; accepted at corl 2025\nspotlight", "ICML", "To appear in TPAMI", "accepted to ıclr 2026",
                "Accepted at NeurIPS 2025; code at github.com/x", "eccv'24 accepted as a spotlight paper"]
    inputs = [ImpactInput(id=str(i), title=t, abstract=a, category=cat, n_authors=n, comment=c, has_code=hc,
                          author_h=h)
              for i, (t, a, cat, n, c, hc, h) in enumerate(itertools.product(
                  ["", "A title"], ["", "Code is available at github.com/x.", LONG[:3000], "Our encoder is ſource code"],
                  ["cs.CL", "stat.ML", "math.OC", ""], [None, 0, 7], comments[:3], [False, True],
                  [None, float("nan"), -1.0, 12.0]))]
    inputs += [ImpactInput(id=f"c{i}", title="t", abstract="a", comment=c) for i, c in enumerate(comments)]
    m, venues = _meta_matrix(inputs)
    for inp, row, venue in zip(inputs, m, venues):
        assert row.tolist() == [meta_features(inp)[c] for c in META_COLUMNS], inp
        assert venue == venue_named(inp.comment)
    assert _venues(comments) == [venue_named(c) for c in comments]  # one comment is not ASCII
    ascii_only = [c for c in comments if c.isascii()]
    assert _venues(ascii_only) == [venue_named(c) for c in ascii_only]
    assert [v for v in _venues(ascii_only) if v] == ["CVPR", "NeurIPS", "CoRL", "NeurIPS", "ECCV"]
    assert _venues([]) == []


@pytest.mark.parametrize("abstract", [*EDGE_TEXTS, "Our code: see the project page.", "code are made available",
                                      "dataset will be publicly made available", "The sourcecode", "x" * 5000 +
                                      " is available", "Code is available" + " pad" * 10, "flavour code",
                                      "xmodels are available", "the sourcecode is available"])
def test_code_prefilter_agrees_with_the_regex(abstract):
    assert _code_named(abstract) == bool(_CODE.search(abstract))


# --- trees --------------------------------------------------------------------------------------------------


def test_tree_kernel_finds_the_leaves_of_a_walk(model):
    trees = model.trees
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, len(model.columns))) * 20 + 40
    # Values on the thresholds themselves, NaN and infinities take the walk's side (x <= t: left).
    x[:50, 0] = trees.threshold[trees.feature == 0][:50] if (trees.feature == 0).sum() >= 50 else x[:50, 0]
    x[50:60, 1], x[60:70, 2], x[70:80, 3] = np.nan, np.inf, -np.inf
    got = trees.leaves(x)
    for i in range(len(x)):
        leaves, points = ref_walk(trees, x[i])
        assert got[i].tolist() == leaves
    assert (trees.leaves(x[45:65]) == got[45:65]).all()  # a few rows take the walk, with the same leaves
    groups = [0, 1] + [2] * (len(model.columns) - 2)
    want = np.array([[p[0], p[1], p[2:].sum()] for p in (ref_walk(trees, r)[1] for r in x)])
    assert np.abs(trees.grouped_points(got, groups) - want).max() < 1e-9


def test_tree_kernel_on_a_hand_made_ensemble():
    # tree 0: x0 <= 1 ? (x1 <= 0 ? leaf 3 : leaf 4) : leaf 2;  tree 1: a single leaf
    trees = TreeEnsemble(feature=np.array([0, 1, -1, -1, -1, -1]), threshold=np.array([1.0, 0.0, 0, 0, 0, 0]),
                         left=np.array([1, 3, -1, -1, -1, -1]), right=np.array([2, 4, -1, -1, -1, -1]),
                         value=np.array([10.0, 8.0, 14.0, 7.0, 9.0, 5.0]), roots=np.array([0, 5]))
    x = np.array([[0.0, -1.0], [1.0, 0.0], [1.0, 0.5], [2.0, -5.0], [np.nan, 0.0]])
    assert trees.leaves(x).tolist() == [[3, 5], [3, 5], [4, 5], [2, 5], [2, 5]]
    kernel = TreeKernel.build(trees.feature, trees.threshold, trees.left, trees.right, trees.roots)
    assert kernel.leaves(x).tolist() == [[3, 5], [3, 5], [4, 5], [2, 5], [2, 5]]
    pts = trees.grouped_points(trees.leaves(x), [0, 1])
    _, ref = trees.predict_with_points(x)
    assert np.allclose(pts, ref)
    assert pts[0].tolist() == [-2.0, -1.0] and pts[3].tolist() == [4.0, 0.0]


def test_tree_kernel_refuses_trees_wider_than_a_word():
    n = 65  # a chain of 64 inner nodes: 65 leaves
    feature = np.array([0] * (n - 1) + [-1] * n)
    left = np.array([n - 1 + i for i in range(n - 1)] + [-1] * n)
    right = np.array([i + 1 if i < n - 2 else 2 * n - 2 for i in range(n - 1)] + [-1] * n)
    with pytest.raises(ValueError, match="65 leaves"):
        TreeKernel.build(feature, np.arange(2 * n - 1, dtype=float), left, right, np.array([0]))


# --- whole predictions --------------------------------------------------------------------------------------


def test_predictions_equal_the_reference_on_edge_cases(model):
    rng = np.random.default_rng(1)
    inputs = [ImpactInput(id=f"p{i}", title=t, abstract=a, category=cat, year=2026, n_authors=n, comment=c,
                          has_code=hc, author_h=h)
              for i, (t, a, cat, n, c, hc, h) in enumerate([
                  ("", "", "", None, "", False, None),
                  ("A title", "", "cs.CV", 3, "", False, None),
                  ("Robots", "We build robots. Code is available at github.com/x.", "cs.RO", 12,
                   "Accepted to ICRA 2026 (oral)", False, 25.0),
                  ("Café résumé", "Naïve Σ models, x_i and ab-_ tokens; İstanbul", "cs.CL", 1, "Submitted to ACL 2026",
                   True, float("nan")),
                  ("Long", LONG, "stat.ML", 400, "NIPS 2017 camera-ready", False, 0.0),
                  ("Spaces", "  \n\t ", "math.OC", 0, "ECCV'24", False, -3.0),
              ])]
    vecs = rng.normal(size=(len(inputs), model.embedder_dim)) * 0.05 + model.pc_mean
    assert_same_predictions(model, inputs, vecs)  # a few papers: the trees are walked
    assert_same_predictions(model, inputs * 6, np.tile(vecs, (6, 1)))  # more: the tree kernel
    assert model.predict([], np.zeros((0, model.embedder_dim))) == []


def test_predictions_equal_the_reference_on_real_papers(model):
    from paperscope.semantic.embed import load_embedder, paper_text

    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f]
    inputs = [ImpactInput(id=r["id"], title=r["title"], abstract=r["abstract"], category=r["category"],
                          year=r["year"], n_authors=r["n_authors"], comment=r["comment"], author_h=r["author_h"])
              for r in recs]
    vecs = load_embedder().embed([paper_text(r["title"], r["abstract"]) for r in recs])
    assert_same_predictions(model, inputs, vecs)


def test_code_input_says_whether_linked_or_only_said_available(model):
    """The input read "code link: yes" for a paper with no link whose abstract says its code is available."""
    rng = np.random.default_rng(2)
    inputs = [ImpactInput(id="linked", title="T", abstract="We study x.", category="cs.CL", has_code=True),
              ImpactInput(id="said", title="T", abstract="Our code is publicly available.", category="cs.CL"),
              ImpactInput(id="none", title="T", abstract="We study x.", category="cs.CL")]
    vecs = rng.normal(size=(3, model.embedder_dim)) * 0.05 + model.pc_mean
    shown = {p.id: {c.input: c.value for c in p.inputs} for p in model.predict(inputs, vecs)}
    assert [shown[i]["code"] for i in ("linked", "said", "none")] == ["linked", "said available", "none"]
