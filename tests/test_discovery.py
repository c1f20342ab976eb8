"""Meaning over a real library: embeddings kept per version and model, explained novelty, similar papers,
hybrid search, recommendations from a researcher's own library, and the AI Score."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import make_paper

from paperscope.discovery import (compute_library_novelty, compute_scores, embed_library, explain_novelty,
                                  recommend, semantic_search, similar_papers)
from paperscope.errors import ModelMismatchError, PaperscopeError
from paperscope.models import Topic
from paperscope.service import build_digest, sample_path
from paperscope.sources.citations import PaperCitations
from paperscope.sources.snapshot import record_to_paper
from paperscope.store.sqlite import SQLiteStore

ORIGINAL = "2606.04061"
REWORDED = (  # the original abstract re-worded sentence by sentence, as a resubmission under a new title would
    "Cross-modal retrieval has advanced thanks to large datasets harvested from the web, but these datasets "
    "unavoidably contain noisy correspondence that seriously harms how well models generalize. Current approaches "
    "mainly deal with it by filtering the noise out or looking for a substitute label, but they largely stay within a "
    "Discrete Selection paradigm. We claim that depending on one discrete proxy causes Single-Point Fragility and "
    "Discretization Error. To address this, we introduce Intra-modal Neighbor-aware Noise Rectification, a framework "
    "that moves from searching for a substitute to synthesizing a reliable supervision target. Exploiting the "
    "geometric stability of intra-modal data, it uses a Graph Refiner to reason over neighbors retrieved from a "
    "dynamic Cross-Model Memory and synthesizes a continuous soft prototype reflecting the consensus of the local "
    "semantic neighborhood, which rectifies inter-modal misalignment. Experiments on Flickr30K, MS-COCO and CC152K "
    "show that it clearly outperforms state-of-the-art methods."
)


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    """The bundled sample (real papers), embedded, with novelty computed."""
    path = tmp_path_factory.mktemp("lib") / "library.db"
    store = SQLiteStore(path)
    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()
    store.upsert_papers(record_to_paper(json.loads(line)) for line in lines)
    original = store.get_paper(ORIGINAL)
    assert original is not None
    later = original.first_submitted + timedelta(days=30)
    store.upsert_papers([make_paper("2607.99999", title="Trusting neighbours within one modality to repair noisy "
                                    "image-text pairs", abstract=REWORDED, updated=later, published=later,
                                    categories=["cs.CV"])])
    embed_library(store)
    compute_library_novelty(store, now=datetime(2026, 11, 1, tzinfo=timezone.utc))
    yield store
    store.close()


def test_embeddings_are_incremental_per_version(lib: SQLiteStore) -> None:
    assert embed_library(lib)["embedded"] == 0
    p = lib.get_paper(ORIGINAL)
    assert p is not None
    lib.upsert_papers([make_paper(ORIGINAL, p.version + 1, title=p.title, abstract=p.abstract + " Revised.",
                                  updated=p.updated + timedelta(days=3), categories=p.categories)])
    assert embed_library(lib)["embedded"] == 1


def test_another_model_is_refused_not_mixed(lib: SQLiteStore) -> None:
    model = lib.active_model()
    assert model
    with pytest.raises(ModelMismatchError, match="--replace"):
        lib.set_active_model("some-other-model")
    with pytest.raises(ModelMismatchError):
        lib.check_model("some-other-model")
    assert lib.active_model() == model


def test_reworded_duplicate_is_not_novel_and_cites_its_original(lib: SQLiteStore) -> None:
    dup = explain_novelty(lib, "2607.99999")
    assert dup["neighbours"][0]["id"] == ORIGINAL
    assert dup["neighbours"][0]["similarity"] > 0.5
    original = explain_novelty(lib, ORIGINAL)
    assert dup["novelty"] < original["novelty"]
    assert dup["neighbours"][0]["similarity"] > 0.75
    assert dup["percentile"] == 0.0 and dup["reason"].startswith(f"near-duplicate of {ORIGINAL}")
    assert original["reason"] == "" and original["percentile"] > 50
    # the evidence is only earlier papers
    sub = {p.id: p.first_submitted for p in lib.get_papers([n["id"] for n in dup["neighbours"]])}
    assert all(d.date() < date(2026, 7, 4) for d in sub.values())
    assert similar_papers(lib, "2607.99999", k=1)[0][0].id == ORIGINAL


def test_cold_start_says_so(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "young.db")
    store.upsert_papers([make_paper(f"2501.{i:05d}", title=f"Paper {i} on graphs",
                                    updated=datetime(2025, 1, 1 + i, tzinfo=timezone.utc)) for i in range(5)])
    embed_library(store)
    out = compute_library_novelty(store, now=datetime(2025, 2, 1, tzinfo=timezone.utc))
    assert out["scored"] == 0
    assert explain_novelty(store, "2501.00004")["reason"] == "not enough earlier papers"
    store.close()


def test_novelty_is_deterministic(lib: SQLiteStore) -> None:
    compute_library_novelty(lib, now=datetime(2026, 11, 2, tzinfo=timezone.utc))
    before = explain_novelty(lib, "2607.99999")
    compute_library_novelty(lib, now=datetime(2026, 11, 2, tzinfo=timezone.utc))
    after = explain_novelty(lib, "2607.99999")
    assert (before["novelty"], before["neighbours"]) == (after["novelty"], after["neighbours"])


def test_hybrid_search_shows_both_ranks(lib: SQLiteStore) -> None:
    hits = semantic_search(lib, "noisy correspondence cross-modal retrieval", limit=5)
    assert hits[0]["paper"].id in (ORIGINAL, "2607.99999")
    assert hits[0]["text_rank"] is not None and hits[0]["vector_rank"] is not None
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_recommend_from_a_plain_list(lib: SQLiteStore, tmp_path: Path) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_text(f"# my papers\narXiv:{ORIGINAL}v1\nhttps://arxiv.org/abs/0000.00000\n", encoding="utf-8")
    rep = recommend(lib, mine, days=100_000, limit=5, today=date(2026, 11, 23))
    assert rep.matched == 1 and rep.unmatched == ["0000.00000"]
    assert rep.recommendations[0].paper.id == "2607.99999"
    assert rep.recommendations[0].resembles[0][0] == ORIGINAL
    again = recommend(lib, mine, days=100_000, limit=5, today=date(2026, 11, 23), not_interested=["2607.99999"])
    assert "2607.99999" not in [r.paper.id for r in again.recommendations]
    high = recommend(lib, mine, days=100_000, limit=5, today=date(2026, 11, 23), threshold=0.99)
    assert high.recommendations == []


def test_unknown_library_is_a_clear_error(lib: SQLiteStore, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("0000.00001\n", encoding="utf-8")
    with pytest.raises(PaperscopeError, match="none of its 1 items"):
        recommend(lib, other)


def test_ai_score_pretrained_then_model(lib: SQLiteStore) -> None:
    out = compute_scores(lib, min_train=200)
    assert out["method"] == "pretrained" and "citation" in out["reason"]  # the shipped model, before any citations
    got = lib.scores_for(["2607.99999"])["2607.99999"]
    assert 0 <= got["value"] <= 100 and got["inputs"]
    # give 400 papers citation counts that follow their abstract length: now a model is trained and reported
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    papers = lib.get_papers([r[0] for r in lib.conn.execute("SELECT arxiv_id FROM papers LIMIT 400")])
    lib.save_citations(PaperCitations(p.id, "openalex", now, len(p.abstract) // 40, {}, None, [], None, None)
                       for p in papers)
    out2 = compute_scores(lib, min_train=200)
    assert out2["method"] == "model" and out2["held_out_spearman"] is not None and out2["n_train"] > 0


def test_digest_orders_by_novelty_and_recommends(lib: SQLiteStore, tmp_path: Path) -> None:
    mine = tmp_path / "mine.txt"
    mine.write_text(ORIGINAL + "\n", encoding="utf-8")
    topic = Topic("Noisy correspondence", '"noisy correspondence" OR "image-text"', [], 10, "novelty")
    d = build_digest(lib, [topic], today=date(2026, 8, 1), library=mine, recommend_days=60)
    sec = d.sections[0]
    pct = lib.novelty_for([p.id for p in sec.papers])
    values = [pct[p.id]["percentile"] or -1 for p in sec.papers]
    assert values == sorted(values, reverse=True)
    rec = d.sections[-1]
    assert rec.title == "Recommended for you" and rec.papers[0].id == "2607.99999"
    assert ORIGINAL in rec.labels["2607.99999"]
