"""The AI Score: citation percentiles, Spearman, the impact model, the fallback formula, the author figure."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import make_paper

from paperscope.errors import ModelMismatchError, StoreError
from paperscope.models import Figure
from paperscope.scoring.aiscore import (
    FORMULA_TEXT,
    META_FEATURES,
    ImpactModel,
    PaperFeatures,
    citation_percentiles,
    mentions_venue,
    paper_scores,
    spearman,
)

TOPICS = ("diffusion", "retrieval", "robotics", "graphs", "speech", "theory")
HOT = {"diffusion": 1.0, "retrieval": 0.6, "robotics": 0.0, "graphs": -0.2, "speech": -0.4, "theory": -1.0}


def library(n: int = 400, dim: int = 32, seed: int = 7) -> tuple[list[PaperFeatures], dict[str, int]]:
    """Papers whose citations depend on their features the way arXiv's tend to.

    Embeddings cluster by topic (as sentence embeddings do) and some topics are hotter; code, a venue
    acceptance and more authors raise the expected count; counts are Poisson around it.
    """
    rng = np.random.default_rng(seed)
    centres = {t: rng.normal(size=dim) * 2.0 for t in TOPICS}
    comments = ("", "12 pages, 5 figures", "Accepted to CVPR 2026", "Submitted to ICLR 2026", "Preprint. Under review")
    feats, cites = [], {}
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        comment = comments[int(rng.choice(len(comments), p=[0.35, 0.3, 0.15, 0.1, 0.1]))]
        f = PaperFeatures(
            arxiv_id=f"{2501 + i % 12:04d}.{10000 + i:05d}", year=2025 + i % 2, category=("cs.CV", "cs.CL")[i % 2],
            embedding=centres[topic] + rng.normal(size=dim), has_code=bool(rng.random() < 0.35), comment=comment,
            n_authors=1 + int(rng.poisson(4)), n_categories=1 + int(rng.poisson(0.8)),
            abstract_len=int(rng.normal(1300, 250)), title_len=int(rng.normal(80, 20)),
            versions=1 + int(rng.poisson(0.5)))
        rate = math.exp(1.2 + 0.8 * f.has_code + 1.0 * mentions_venue(comment) + 0.3 * math.log(f.n_authors)
                        + 0.8 * HOT[topic] + 0.3 * rng.normal())
        feats.append(f)
        cites[f.arxiv_id] = int(rng.poisson(rate))
    return feats, cites


def targets_of(feats, cites):
    return citation_percentiles([(f.arxiv_id, f.year, f.category, cites.get(f.arxiv_id)) for f in feats])


# --- percentiles and Spearman --------------------------------------------------------------------


def test_citation_percentiles_within_groups_with_ties():
    rows = [("a", 2025, "cs.CL", 0), ("b", 2025, "cs.CL", 10), ("c", 2025, "cs.CL", 0), ("d", 2025, "cs.CL", 5),
            ("e", 2026, "cs.CL", 3), ("f", 2025, "cs.CV", 1000), ("g", 2025, "cs.CV", 1), ("h", 2025, "cs.CL", None)]
    pct = citation_percentiles(rows)
    # cs.CL 2025: 0, 0 share ranks 1 and 2 -> 1.5; then 5 (rank 3) and 10 (rank 4); (rank - 1) / 3.
    assert pct["a"] == pct["c"] == pytest.approx(100 * 0.5 / 3)
    assert pct["d"] == pytest.approx(100 * 2 / 3) and pct["b"] == 100.0
    assert pct["e"] == 50.0  # alone in its group
    assert (pct["g"], pct["f"]) == (0.0, 100.0)  # 1000 citations in another group does not move cs.CL
    assert "h" not in pct


def test_spearman_hand_computed_with_ties():
    # ranks y = 1, 2, 3.5, 5, 3.5 -> sum dx*dy = 8, sum dx^2 = 10, sum dy^2 = 9.5
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / math.sqrt(95))
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3])) and math.isnan(spearman([1], [2]))
    with pytest.raises(ValueError):
        spearman([1, 2], [1])


def test_spearman_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 8, 60).tolist(), rng.integers(0, 5, 60).tolist()  # many ties
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)


def test_mentions_venue():
    assert mentions_venue("2 pages, 3 figures, 2 tables, Accepted to ICCE-TW 2026")
    assert mentions_venue("Accepted by ACL 2026") and mentions_venue("NeurIPS 2025 (spotlight)")
    assert mentions_venue("To appear in IEEE TPAMI")
    assert not mentions_venue("Submitted to ICLR 2026") and not mentions_venue("Under review at NeurIPS 2025")
    assert not mentions_venue("15 pages, 10 figures") and not mentions_venue("")


def test_features_from_a_library_paper():
    p = make_paper("2604.16523", 2, title="Privacy-Preserving Semantic Segmentation without Key Management",
                   authors=["Mare Hirose", "Shoko Imaizumi", "Hitoshi Kiya"], categories=["cs.CV", "cs.CR"],
                   comment="2 pages, 3 figures, 2 tables, Accepted to ICCE-TW 2026")
    f = PaperFeatures.from_paper(p)
    assert (f.year, f.category, f.n_authors, f.n_categories, f.versions) == (2025, "cs.CV", 3, 2, 2)
    assert f.title_len == 63 and f.meta_values()["venue"] is True and f.meta_values()["has_code"] is False


# --- the model -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    feats, cites = library()
    return feats, cites, ImpactModel.fit(feats, targets_of(feats, cites), seed=0, holdout=0.25)


def test_model_beats_a_constant_on_held_out_papers(fitted):
    _, _, model = fitted
    assert (model.n_train, model.n_holdout) == (300, 100)
    assert model.held_out_spearman > 0.4
    assert model.held_out_mae < 0.85 * model.held_out_mae_constant
    assert model.alpha in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def test_model_learns_the_direction_of_each_signal(fitted):
    feats, _, model = fitted
    base = PaperFeatures("2601.00001", 2026, "cs.CV", None, n_authors=4, abstract_len=1300, title_len=80)
    with_code = PaperFeatures("2601.00002", 2026, "cs.CV", None, has_code=True, n_authors=4, abstract_len=1300,
                              title_len=80)
    accepted = PaperFeatures("2601.00003", 2026, "cs.CV", None, comment="Accepted to CVPR 2026", n_authors=4,
                             abstract_len=1300, title_len=80)
    p = model.predict([base, with_code, accepted])
    assert p["2601.00002"] > p["2601.00001"] + 5
    assert p["2601.00003"] > p["2601.00001"] + 5
    # Text: the hottest topic's papers get more from their embedding than the coldest topic's.
    hot = np.mean([model.explain(f)["text"] for f in feats[0::len(TOPICS)]])
    cold = np.mean([model.explain(f)["text"] for f in feats[5::len(TOPICS)]])
    assert hot > cold + 5


def test_explain_sums_to_prediction_minus_intercept(fitted):
    feats, _, model = fitted
    raw = model.raw(feats[:20])
    for f, r in zip(feats[:20], raw):
        parts = model.explain(f)
        assert list(parts) == [*META_FEATURES, "text"]
        assert model.intercept + sum(parts.values()) == pytest.approx(r)
        assert model.predict([f])[f.arxiv_id] == pytest.approx(min(100, max(0, r)))
    # A paper with average features and no embedding scores the intercept: the mean training percentile.
    assert 40 < model.intercept < 60


def test_fit_is_deterministic_and_independent_of_input_order(fitted):
    feats, cites, model = fitted
    again = ImpactModel.fit(list(reversed(feats)), targets_of(feats, cites), seed=0, holdout=0.25)
    assert again.to_bytes() == model.to_bytes()
    other_seed = ImpactModel.fit(feats, targets_of(feats, cites), seed=1, holdout=0.25)
    assert other_seed.to_bytes() != model.to_bytes()


def test_model_round_trips_through_bytes(fitted):
    feats, _, model = fitted
    back = ImpactModel.from_bytes(model.to_bytes())
    assert back.predict(feats[:50]) == model.predict(feats[:50])
    assert (back.n_train, back.n_holdout, back.alpha, back.held_out_spearman) == \
        (model.n_train, model.n_holdout, model.alpha, model.held_out_spearman)
    with pytest.raises(StoreError, match="not a paperscope model"):
        ImpactModel.from_bytes(b"PK\x03\x04 something else")
    with pytest.raises(StoreError, match="truncated"):
        ImpactModel.from_bytes(model.to_bytes()[:-8])


def test_embedding_of_another_model_is_refused(fitted):
    _, _, model = fitted
    odd = PaperFeatures("2601.00009", 2026, "cs.CV", np.zeros(768))
    with pytest.raises(ModelMismatchError, match=r"paper 2601\.00009: embedding has 768 dimensions.*32"):
        model.predict([odd])


def test_model_without_embeddings_uses_metadata_only():
    feats, cites = library(200)
    for f in feats:
        f.embedding = None
    model = ImpactModel.fit(feats, targets_of(feats, cites), seed=0)
    assert model.text_components == 0 and model.embedding_dim is None
    assert all(model.explain(f)["text"] == 0.0 for f in feats[:5])
    assert model.held_out_spearman > 0.2
    assert ImpactModel.from_bytes(model.to_bytes()).predict(feats[:5]) == model.predict(feats[:5])


def test_fit_refuses_too_few_papers():
    feats, cites = library(20)
    with pytest.raises(ValueError, match="at least 20 training papers"):
        ImpactModel.fit(feats, targets_of(feats, cites))


# --- paper_scores: model or formula --------------------------------------------------------------


def test_paper_scores_trains_the_model_when_enough_papers_are_cited():
    feats, cites = library(300)
    rep = paper_scores(feats, cites, novelty={}, author_h={}, min_train=200)
    assert rep.method == "model" and rep.n_with_citations == 300 and rep.n_train == 240 and rep.n_holdout == 60
    assert rep.held_out_spearman is not None and rep.held_out_spearman > 0.3
    assert rep.reason.startswith("model: ridge regression trained on 240 papers")
    assert set(rep.scores) == {f.arxiv_id for f in feats} and all(0 <= s <= 100 for s in rep.scores.values())
    one = rep.inputs[feats[0].arxiv_id]
    assert one["method"] == "model" and set(one["contributions"]) == {*META_FEATURES, "text"}
    assert one["values"]["text"] is True
    raw = one["base"] + sum(one["contributions"].values())
    assert rep.scores[feats[0].arxiv_id] == pytest.approx(min(100, max(0, raw)))
    # Its explanation says the local model made it, and how well it did on held-out library papers.
    ex = rep.explain(feats[0].arxiv_id)
    assert (ex.method, ex.model, ex.score) == ("model", "local model", round(rep.scores[feats[0].arxiv_id]))
    assert ex.headline.startswith(f"AI Score {ex.score} — predicted citation percentile among this library's cs.")
    assert "held-out Spearman" in ex.text() and "None" not in ex.text() and len(ex.top_inputs) == 3
    # Same inputs, same scores; and a stored model gives them back without refitting.
    assert paper_scores(feats, cites, novelty={}, author_h={}).scores == rep.scores
    reused = paper_scores(feats, {}, novelty={}, author_h={}, model=ImpactModel.from_bytes(rep.model.to_bytes()))
    assert reused.method == "model" and reused.scores == rep.scores


def test_paper_scores_falls_back_to_the_formula_and_says_so():
    feats, cites = library(60)
    few = {k: v for k, v in list(cites.items())[:50]}
    a, b, c = feats[0].arxiv_id, feats[1].arxiv_id, feats[2].arxiv_id
    feats[0].has_code, feats[1].has_code, feats[2].has_code = True, False, False
    rep = paper_scores(feats[:3], few, novelty={a: 90.0, b: 20.0, c: None}, author_h={a: 80.0, b: 10.0},
                       min_train=200)
    assert rep.method == "formula" and rep.model is None and rep.formula == FORMULA_TEXT
    # These vectors (32 dimensions) are not the pretrained model's, so the formula is the last resort.
    assert rep.reason.startswith("formula (last resort; on real papers it barely tracks citations): the "
                                 "pretrained impact model cannot run: vectors have 32 dimensions")
    assert rep.reason.endswith("3 of 3 papers have citation counts; the local model needs at least 200")
    assert rep.scores[a] == pytest.approx(0.45 * 90 + 0.40 * 80 + 15)
    assert rep.scores[b] == pytest.approx(0.45 * 20 + 0.40 * 10)
    assert rep.scores[c] == pytest.approx(0.45 * 50 + 0.40 * 50)  # both unknown: the median assumed
    assert rep.inputs[c]["assumed"] == ["novelty_pct", "author_h_pct"]
    assert rep.inputs[a]["values"] == {"novelty_pct": 90.0, "author_h_pct": 80.0, "has_code": True}
    assert rep.inputs[a]["contributions"] == pytest.approx({"novelty": 40.5, "authors": 32.0, "code": 15.0})
    many = paper_scores(feats, few, novelty={}, author_h={}, min_train=200)
    assert many.method == "formula" and "; 50 of 60 papers have citation counts" in many.reason
    # A low min_train lets the model train, but never on fewer than 20 papers.
    low = paper_scores(feats, few, novelty={}, author_h={}, min_train=10)
    assert (low.method, low.n_train, low.n_holdout) == ("model", 40, 10)
    assert paper_scores(feats[:20], few, novelty={}, author_h={}, min_train=10).reason.endswith("needs at least 25")


def test_formula_refuses_values_that_are_not_percentiles():
    feats, _ = library(3)
    with pytest.raises(ValueError, match="outside 0-100"):
        paper_scores(feats, {}, novelty={}, author_h={feats[0].arxiv_id: 130.0})


# --- author score --------------------------------------------------------------------------------


