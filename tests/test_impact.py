"""The pre-trained impact model: it loads, predicts real held-out papers, explains itself, refuses foreign vectors."""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from paperscope.errors import ModelMismatchError
from paperscope.scoring.aiscore import (
    AUTHOR_PAPER_TEXT,
    MIN_ACTUAL_COHORT,
    PaperEvidence,
    PaperFeatures,
    actual_percentiles,
    author_impact_score,
    paper_scores,
    spearman,
)
from paperscope.scoring.impact import (
    MODELS_DIR,
    PROBE_TEXTS,
    ImpactInput,
    field_of,
    load_impact_model,
    pretrained_model,
    venue_named,
)
from paperscope.semantic.embed import DEFAULT_MODEL, load_embedder, paper_text

FIXTURE = Path(__file__).parent / "fixtures" / "citations" / "heldout.jsonl.gz"
HEADLINE = re.compile(r"^AI Score \d{1,3} — predicted citation percentile among (cs\.[A-Z]{2}|cs) papers( of \d{4})?$")


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def model():
    return pretrained_model()


@pytest.fixture(scope="module")
def heldout(embedder):
    """300 papers of the model's held-out part (never trained on), their inputs, vectors and real percentiles."""
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f]
    inputs = [ImpactInput(id=r["id"], title=r["title"], abstract=r["abstract"], category=r["category"],
                          year=r["year"], n_authors=r["n_authors"], comment=r["comment"], author_h=r["author_h"])
              for r in recs]
    vecs = embedder.embed([paper_text(r["title"], r["abstract"]) for r in recs])
    return recs, inputs, vecs


def new_paper(**kw) -> ImpactInput:
    base = {"id": "2605.01234", "title": "Sparse mixture-of-experts language models that route by uncertainty",
            "abstract": "We propose a routing rule for mixture-of-experts language models. " * 6,
            "category": "cs.CL", "year": 2026, "n_authors": 5, "comment": ""}
    return ImpactInput(**{**base, **kw})


def test_shipped_model_is_small_and_names_its_embedder(model):
    files = list(MODELS_DIR.glob("*.npz"))
    assert files and all(f.stat().st_size < 5_000_000 for f in files)
    assert model.embedder == DEFAULT_MODEL and model.embedder_dim == 256 and model.version >= 1
    assert model.quality.n > 3000 and "conference papers" in model.quality.trained_on


def test_predictions_are_deterministic(model, embedder):
    papers = [new_paper(), new_paper(id="b", comment="Accepted to ACL 2026", has_code=True)]
    vecs = embedder.embed([paper_text(p.title, p.abstract) for p in papers])
    first = [p.score for p in model.predict(papers, vecs)]
    load_impact_model.cache_clear()
    again = load_impact_model()
    assert [p.score for p in again.predict(papers, vecs)] == first
    assert [p.score for p in again.predict(papers[::-1], vecs[::-1])] == first[::-1]


def test_points_of_every_input_add_up_to_the_score(model, heldout):
    _, inputs, vecs = heldout
    for p in model.predict(inputs[:60], vecs[:60]):
        raw = p.base + sum(c.points for c in p.inputs)
        assert p.score == pytest.approx(min(100.0, max(0.0, raw)), abs=1e-9)
        assert len({c.input for c in p.inputs}) == len(p.inputs)
        assert [abs(c.points) for c in p.inputs] == sorted((abs(c.points) for c in p.inputs), reverse=True)


def test_explanation_reads_as_a_percentile_with_its_inputs_and_quality(model, embedder):
    paper = new_paper(comment="Accepted to ACL 2026 (oral)", author_h=40.0)
    (p,) = model.predict([paper], embedder.embed([paper_text(paper.title, paper.abstract)]))
    assert HEADLINE.match(p.headline()) and p.headline().endswith("among cs.CL papers of 2026")
    assert p.headline().startswith(f"AI Score {round(p.score)} ")
    text = p.text()
    assert "top inputs:" in text and "pretrained impact model v1" in text and "held-out Spearman 0." in text
    assert "None" not in text and "nan" not in text.lower()
    assert re.search(r"held-out Spearman 0\.\d\d on [\d,]+ papers, 0\.\d\d on its [\d,]+ cs\.CL papers", text)
    shown = {c.input: c.value for c in p.inputs}
    assert shown["venue named"] == "ACL oral/spotlight" and shown["author h-index"] == "40"
    assert shown["field"] == "cs.CL" and shown["authors"] == "5"
    d = p.to_dict()
    assert d["ai_score"] == round(p.score) and d["model"] == "pretrained impact model v1"
    assert json.loads(json.dumps(d))["quality"]["n"] == model.quality.n
    other = model.predict([new_paper(category="math.OC", year=None)], np.zeros((1, 256)))[0]
    assert other.headline().endswith("among cs papers") and "None" not in other.text()


def test_model_predicts_held_out_papers(model, heldout):
    """The fixture is drawn from the held-out part; the model's Spearman there must carry real signal."""
    recs, inputs, vecs = heldout
    scores = [p.score for p in model.predict(inputs, vecs)]
    rho = spearman(scores, [r["target_percentile"] for r in recs])
    assert rho > 0.3, rho
    # Text alone (no venue, authors or field) still ranks papers.
    bare = [ImpactInput(id=x.id, title=x.title, abstract=x.abstract) for x in inputs]
    assert spearman([p.score for p in model.predict(bare, vecs)], [r["target_percentile"] for r in recs]) > 0.15


def test_venue_and_field_parsing():
    assert venue_named("Accepted to CVPR 2026") == "CVPR"
    assert venue_named("NIPS 2018 camera-ready") == "NeurIPS"
    assert venue_named("8 pages; accepted at corl 2025") == "CoRL"
    assert venue_named("Submitted to ICLR 2026") is None and venue_named("") is None
    assert venue_named("Accepted to KDD 2026") is None  # no training venue: not read as one
    assert (field_of("cs.CL"), field_of("stat.ML"), field_of("math.OC"), field_of("")) == \
        ("cs.CL", "cs.LG", "other", "other")


def test_another_embedder_is_refused_clearly(model, embedder):
    with pytest.raises(ModelMismatchError, match=f"trained on '{DEFAULT_MODEL}'.*uses 'minilm'"):
        model.check_embedder("minilm", 384)
    with pytest.raises(ModelMismatchError, match="uses 'minilm'"):
        pretrained_model("minilm")
    with pytest.raises(ModelMismatchError, match="384 dimensions"):
        model.predict([new_paper()], np.zeros((1, 384)))
    # Same name, other weights: the probe vectors differ.
    probe = embedder.embed(list(PROBE_TEXTS))
    model.check_embedder(embedder.name, embedder.dim, probe)
    with pytest.raises(ModelMismatchError, match="same name, other weights"):
        model.check_embedder(embedder.name, embedder.dim, probe[:, ::-1])


def test_paper_scores_uses_the_pretrained_model_without_citations(embedder):
    papers = [new_paper(id="2605.00001", has_code=True, comment="Accepted to ACL 2026"),
              new_paper(id="2605.00002", title="A note", abstract="We study a thing.", n_authors=1)]
    vecs = embedder.embed([paper_text(p.title, p.abstract) for p in papers])
    feats = [PaperFeatures(arxiv_id=p.id, year=2026, category="cs.CL", embedding=v, has_code=p.has_code,
                           comment=p.comment, n_authors=p.n_authors, title=p.title, abstract=p.abstract,
                           abstract_len=len(p.abstract), title_len=len(p.title)) for p, v in zip(papers, vecs)]
    feats.append(PaperFeatures(arxiv_id="2605.00003", year=2026, category="cs.CV", title="No vector yet",
                               abstract="An abstract."))
    rep = paper_scores(feats, {}, novelty={}, author_h={}, embedder=DEFAULT_MODEL)
    assert rep.method == "pretrained" and rep.reason.startswith("pretrained impact model v1: held-out Spearman")
    assert rep.reason.endswith("0 of 3 papers have citation counts; the local model needs at least 200")
    for f in feats:
        inp = rep.inputs[f.arxiv_id]
        assert rep.scores[f.arxiv_id] == pytest.approx(min(100, max(0, inp["base"] + sum(inp["contributions"].values()))))
        ex = rep.explain(f.arxiv_id)
        assert HEADLINE.match(ex.headline) and ex.model == "pretrained impact model v1"
        assert len(ex.top_inputs) == 3 and "None" not in ex.text() and "held-out Spearman" in ex.text()
    assert rep.explain("2605.00003").headline.endswith("cs.CV papers of 2026")
    assert rep.inputs["2605.00003"]["assumed"] == ["text (embedding)"]
    # Vectors of another embedder: the formula, as a last resort that says why.
    fallback = paper_scores(feats[:2], {}, novelty={}, author_h={}, embedder="minilm")
    assert fallback.method == "formula" and "pretrained impact model cannot run" in fallback.reason
    assert fallback.explain("2605.00001").model == "formula (last resort)"
    assert "not a predicted citation percentile" in fallback.explain("2605.00001").headline
    # A paper with a citation count carries its actual percentile and cohort beside its score, for authors.
    cited = paper_scores(feats, {"2605.00001": 12, "2605.00002": 0}, novelty={}, author_h={}, embedder=DEFAULT_MODEL)
    assert cited.inputs["2605.00001"]["actual"] == {"percentile": 100.0, "citations": 12,
                                                    "cohort": "cs.CL papers of 2026", "cohort_size": 2}
    assert "actual" not in cited.inputs["2605.00003"]
    assert isinstance(cited.inputs["2605.00003"]["held_out_spearman"], float)


def test_actual_percentile_beats_the_prediction_when_its_cohort_is_large_enough():
    big = MIN_ACTUAL_COHORT
    assert PaperEvidence("a", predicted=80.0, actual=20.0, cohort_size=big).percentile() == (20.0, "actual")
    # A rank among a handful of cited papers says little: the prediction stands.
    assert PaperEvidence("b", predicted=80.0, actual=20.0, cohort_size=big - 1).percentile() == (80.0, "predicted")
    assert PaperEvidence("c", predicted=None, actual=35.0, cohort_size=big).percentile() == (35.0, "actual")
    assert PaperEvidence("d", predicted=None, actual=35.0, cohort_size=2).percentile() is None
    assert PaperEvidence("e").percentile() is None


def test_author_impact_score_is_the_mean_of_the_best_five_with_its_inputs_shown():
    big = MIN_ACTUAL_COHORT
    papers = [PaperEvidence("p1", 90.0, 10.0, "cs.CL papers of 2022", big),  # cited: 10 replaces 90
              PaperEvidence("p2", 70.0), PaperEvidence("p3", 60.0), PaperEvidence("p4", 50.0),
              PaperEvidence("p5", 40.0, 95.0, "cs.CL papers of 2021", big + 5),  # cited: 95 replaces 40
              PaperEvidence("p6", 30.0), PaperEvidence("p7", 20.0, 99.0, "cs.LG papers of 2023", 3),  # cohort too small
              PaperEvidence("p8")]  # neither figure: left out
    fig = author_impact_score(papers, total_papers=9, quality="pretrained impact model v1, held-out Spearman 0.45")
    # best five of 10, 70, 60, 50, 95, 30, 20: 95, 70, 60, 50, 30
    assert fig.label == "Score" and fig.value == round((95 + 70 + 60 + 50 + 30) / 5) == 61
    assert isinstance(fig.value, int)
    assert fig.source == ("AI Score 61 — from 7 of their 9 papers (2 with citations, 5 predicted): mean of the best 5"
                          " · predictions: pretrained impact model v1, held-out Spearman 0.45")
    assert fig.inputs["summary"] == "from 7 of their 9 papers (2 with citations, 5 predicted)"
    assert fig.inputs["best"] == ["p5", "p2", "p3", "p4", "p6"] and fig.inputs["rule"] == AUTHOR_PAPER_TEXT
    by_id = {r["id"]: r for r in fig.inputs["per_paper"]}
    assert by_id["p1"]["from"] == "actual" and by_id["p1"]["percentile"] == 10.0 and by_id["p1"]["predicted"] == 90.0
    assert by_id["p7"]["from"] == "predicted" and "p8" not in by_id
    assert "mean of their best 5" in AUTHOR_PAPER_TEXT


def test_author_impact_score_with_few_or_no_papers():
    one = author_impact_score([PaperEvidence("x", 42.4)])
    assert one.value == 42 and one.source == "AI Score 42 — from 1 paper (0 with citations, 1 predicted): mean of the best 1"
    none = author_impact_score([PaperEvidence("x")], total_papers=3)
    assert none.value is None and none.source.startswith("no AI Score yet") and "None" not in none.source


def test_actual_percentiles_name_their_cohort():
    rows = [(f"a{i}", 2022, "cs.CL", i) for i in range(11)] + [("b", 2022, "cs.CV", 5), ("c", 2023, "cs.CL", None)]
    act = actual_percentiles(rows)
    assert act["a10"] == {"percentile": 100.0, "citations": 10, "cohort": "cs.CL papers of 2022", "cohort_size": 11}
    assert act["b"]["cohort_size"] == 1 and act["b"]["percentile"] == 50.0 and "c" not in act
