"""Novelty against strictly earlier papers: evidence, reasons, percentiles, and a re-worded abstract."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from paperscope.semantic import (
    NOT_ENOUGH_HISTORY,
    compute_novelty,
    load_embedder,
    novelty_percentiles,
    paper_text,
)
from paperscope.semantic.novelty import novelty_arrays, to_days

FIXTURE = Path(__file__).parent / "fixtures" / "semantic" / "papers.jsonl"

ORIGINAL_ID = "2507.13411"  # "Aligning Knowledge Graphs and Language Models for Factual Accuracy"
# The same abstract re-worded by hand: no sentence kept, the claims unchanged.
REWORDED = (
    "Hallucination remains a central weakness of large language models such as GPT-4, Gemini "
    "and Claude, even though they now handle question answering, dialogue and summarisation "
    "well. Feeding knowledge graphs into a model is a promising remedy, because graphs supply "
    "structured, trustworthy, domain-specific and current facts. We present ALIGNed-LLM, a "
    "lightweight way to make language models more factual by injecting knowledge graph "
    "information into their latent space, in the spirit of how LLaVA injects visual features. "
    "Entity embeddings from a pretrained knowledge graph embedding model like TransE are mapped "
    "by a learned projection layer into the space of text embeddings. With entities and text "
    "aligned, the model can tell similar entities apart, which grounds its answers in facts and "
    "cuts hallucinations. Experiments on three well-known question answering benchmarks with "
    "language models of several sizes show large gains, and a deployment for a big European "
    "central bank, where answers must be accurate and precise, shows a clear improvement of the "
    "model's answers."
)


def unit(rng: np.random.Generator, n: int, dim: int = 8) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def reference(vecs: np.ndarray, days: np.ndarray, k: int) -> list[list[int]]:
    """The obvious O(n^2) definition, one paper at a time."""
    out = []
    for i in range(len(vecs)):
        earlier = np.flatnonzero(days < days[i])
        sims = vecs[earlier] @ vecs[i]
        out.append(earlier[np.argsort(-sims, kind="stable")[:k]].tolist())
    return out


def test_neighbours_are_the_k_most_similar_strictly_earlier_papers() -> None:
    rng = np.random.default_rng(0)
    x = unit(rng, 400)
    days = rng.integers(0, 40, size=400)  # many papers share a day
    n_earlier, nb, sims = novelty_arrays(x, days, k=5)
    want = reference(x, days, 5)
    for i in range(len(x)):
        got = [r for r in nb[i].tolist() if r >= 0]
        assert got == want[i]
        assert all(days[r] < days[i] for r in got)  # ties on the same day never count
        assert n_earlier[i] == (days < days[i]).sum()
    np.testing.assert_allclose(sims[0][nb[0] >= 0], [x[0] @ x[r] for r in want[0]], atol=1e-6)


def test_novelty_is_one_minus_mean_similarity_with_evidence() -> None:
    rng = np.random.default_rng(1)
    x = unit(rng, 60)
    keys = list(range(500, 560))
    dates = [date(2025, 1, 1) + timedelta(days=i // 3) for i in range(60)]
    results = compute_novelty(keys, x, dates, k=4, min_history=4)
    for i, r in enumerate(results):
        assert r.key == keys[i]
        if i < 6:  # papers of the first two days have fewer than 4 earlier papers
            assert r.novelty is None and r.reason == NOT_ENOUGH_HISTORY and r.neighbours == []
            continue
        assert r.reason == "" and len(r.neighbours) == 4
        sims = [s for _, s in r.neighbours]
        assert sims == sorted(sims, reverse=True)
        assert r.novelty == pytest.approx(1 - np.mean(sims), abs=1e-6)
        for key, s in r.neighbours:
            assert dates[keys.index(key)] < dates[i]
            assert s == pytest.approx(float(x[i] @ x[keys.index(key)]), abs=1e-5)


def test_min_history_defaults_to_k() -> None:
    rng = np.random.default_rng(2)
    x = unit(rng, 12)
    results = compute_novelty(range(12), x, [date(2024, 1, 1 + i) for i in range(12)], k=10)
    assert [r.novelty is None for r in results] == [True] * 10 + [False] * 2


def test_dates_may_be_datetimes_strings_or_numpy() -> None:
    utc = UTC
    a = to_days([datetime(2025, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))), "2025-03-02"])
    b = to_days(np.array(["2025-03-02", "2025-03-02"], dtype="datetime64[D]"))
    assert a.tolist() == b.tolist()  # 23:30 at UTC-2 is already 2 March in UTC
    assert to_days([datetime(2025, 3, 2, tzinfo=utc)])[0] == b[0]
    with pytest.raises(TypeError, match="date #0"):
        to_days([12345])


def test_deterministic_and_hnsw_path_agrees_with_exact() -> None:
    pytest.importorskip("hnswlib")
    rng = np.random.default_rng(3)
    centres = unit(rng, 30, dim=16)
    x = centres[rng.integers(0, 30, 3000)] + 0.3 * unit(rng, 3000, dim=16)
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    days = rng.integers(0, 300, size=3000)
    exact = novelty_arrays(x, days, k=10)
    for a, b in zip(exact, novelty_arrays(x, days, k=10)):
        np.testing.assert_array_equal(a, b)
    # Force the HNSW path: tiny chunks so the graph grows in many steps.
    ann_a = novelty_arrays(x, days, k=10, exact_below=100)
    ann_b = novelty_arrays(x, days, k=10, exact_below=100)
    for a, b in zip(ann_a, ann_b):
        np.testing.assert_array_equal(a, b)  # one thread: reproducible graph
    nb_e, nb_a = exact[1], ann_a[1]
    scored = exact[0] >= 10
    recall = np.mean([len(set(p) & set(q)) / 10 for p, q in zip(nb_e[scored], nb_a[scored])])
    assert recall >= 0.95
    nov_e = 1 - exact[2][scored].mean(axis=1)
    nov_a = 1 - ann_a[2][scored].mean(axis=1)
    assert np.abs(nov_e - nov_a).max() < 0.02
    assert all(days[r] < days[i] for i in range(3000) for r in nb_a[i] if r >= 0)


def test_percentiles_within_groups() -> None:
    from paperscope.semantic.novelty import NoveltyResult

    rs = [
        NoveltyResult(1, 0.2),
        NoveltyResult(2, 0.4),
        NoveltyResult(3, 0.3),
        NoveltyResult(4, 0.9),
        NoveltyResult(5, None, reason=NOT_ENOUGH_HISTORY),
        NoveltyResult(6, 0.4),
    ]
    groups = [("cs.CL", 2025)] * 3 + [("cs.CV", 2025)] * 2 + [("cs.CL", 2025)]
    pct = novelty_percentiles(rs, groups)
    assert pct == [25.0, 100.0, 50.0, 100.0, None, 100.0]
    with pytest.raises(ValueError, match="6 results but 1 groups"):
        novelty_percentiles(rs, groups[:1])


def test_reworded_abstract_of_an_earlier_paper_is_not_novel() -> None:
    papers = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    original = next(i for i, p in enumerate(papers) if p["id"] == ORIGINAL_ID)
    texts = [paper_text(p["title"], p["abstract"]) for p in papers]
    # The copy comes later, under a new title that keeps the subject.
    texts.append(
        paper_text("Knowledge graph embeddings make language models more factual", REWORDED)
    )
    dates = [p["date"] for p in papers] + ["2026-11-20"]
    vecs = load_embedder().embed(texts)
    keys = list(range(len(texts)))
    results = compute_novelty(keys, vecs, dates)
    copy = results[-1]
    (top_key, top_sim), (_, second_sim) = copy.neighbours[:2]
    assert top_key == original and top_sim > 0.7
    assert top_sim - second_sim > 0.4  # the original stands out as the evidence
    # Without its original in the library the same text would look far more novel.
    alone = compute_novelty(
        keys[:original] + keys[original + 1 :],
        np.delete(vecs, original, axis=0),
        dates[:original] + dates[original + 1 :],
    )[-1]
    assert copy.novelty is not None and alone.novelty is not None
    assert alone.novelty - copy.novelty > 0.04
    pct = novelty_percentiles(results, ["all"] * len(results))
    assert pct[-1] is not None and pct[-1] <= 10.0  # among the least novel tenth
    # Same inputs, same answer, evidence included.
    again = compute_novelty(keys, vecs, dates)
    assert again == results


# ------------------------------------------------------------------------------------------------ near-duplicates
PAIR = Path(__file__).parent / "fixtures" / "novelty" / "different_works_pair.jsonl"


def test_a_different_method_by_other_authors_is_not_a_near_duplicate() -> None:
    from paperscope.semantic.embed import DEFAULT_MODEL
    from paperscope.semantic.novelty import near_duplicate

    new, old = [json.loads(line) for line in PAIR.read_text(encoding="utf-8").splitlines()]
    a, b = load_embedder().embed([paper_text(p["title"], p["abstract"]) for p in (new, old)])
    sim = float(a @ b)
    assert sim >= 0.78  # what the old rule called a near-duplicate
    authors = [x.strip() for x in new["authors"].split(",")]
    earlier = [x.strip() for x in old["authors"].split(",")]
    check = near_duplicate(sim, model=DEFAULT_MODEL, title=new["title"], earlier_title=old["title"],
                           authors=authors, earlier_authors=earlier, earlier_id=old["id"])
    assert not check.duplicate and check.reason == ""
    # Without author lists the titles decide, and these differ.
    assert not near_duplicate(sim, model=DEFAULT_MODEL, title=new["title"], earlier_title=old["title"]).duplicate


def test_a_revised_abstract_by_the_same_author_is_a_near_duplicate() -> None:
    from paperscope.semantic.embed import DEFAULT_MODEL
    from paperscope.semantic.novelty import DUPLICATE_RULES, near_duplicate

    papers = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    original = next(p for p in papers if p["id"] == ORIGINAL_ID)
    # A revised version, as arXiv's v2 of a paper reads: one sentence re-phrased, the ending re-worded, one added.
    revised = (original["abstract"]
               .replace("In this paper, we introduce ALIGNed-LLM, a simple yet effective approach",
                        "We propose ALIGNed-LLM, a simple and effective method")
               .replace("demonstrating a substantial improvement of the LLM answers.",
                        "where the answers of the LLM improve substantially. Our code is publicly available."))
    a, b, c = load_embedder().embed([paper_text(original["title"], original["abstract"]),
                                     paper_text(original["title"], revised), paper_text(original["title"], REWORDED)])
    sim = float(a @ b)
    # Rewritten from scratch (no sentence kept) the cosine falls below v2's calibrated threshold: one of the
    # re-wordings the rule gives up (recall 0.72) to keep its precision at 0.9 on the labelled pairs.
    assert 0.80 <= float(a @ c) < DUPLICATE_RULES[DEFAULT_MODEL][0]
    assert not near_duplicate(float(a @ c), model=DEFAULT_MODEL, authors=["Ada Lovelace"],
                              earlier_authors=["Ada Lovelace"]).duplicate
    same = near_duplicate(sim, model=DEFAULT_MODEL, authors=["M. Curie", "Ada Lovelace"],
                          earlier_authors=["Ada B. Lovelace"], earlier_id=ORIGINAL_ID)
    assert same.duplicate and ORIGINAL_ID in same.reason and "shared author" in same.reason
    other = near_duplicate(sim, model=DEFAULT_MODEL, authors=["M. Curie"], earlier_authors=["Ada Lovelace"])
    assert not other.duplicate
    # Same title, no author lists: the stricter title rule decides.
    titled = near_duplicate(0.97, model=DEFAULT_MODEL, title=original["title"], earlier_title=original["title"])
    assert titled.duplicate and "same title" in titled.reason
    assert not near_duplicate(0.97, model=DEFAULT_MODEL, title="A survey", earlier_title=original["title"]).duplicate


def test_v2_thresholds_are_the_calibrated_ones_and_cut_where_they_say() -> None:
    from paperscope.semantic.embed import DEFAULT_MODEL
    from paperscope.semantic.novelty import DUPLICATE_RULES, near_duplicate

    with_author, title_only = DUPLICATE_RULES[DEFAULT_MODEL]
    # bench/neardup_calibration.py: the highest recall at precision >= 0.9 on the labelled pairs.
    assert (with_author, title_only) == (0.89, 0.90) and title_only >= with_author
    ours, theirs = ["Ada Lovelace", "M. Curie"], ["A. Lovelace", "C. Babbage"]
    above = near_duplicate(0.895, model=DEFAULT_MODEL, authors=ours, earlier_authors=theirs, earlier_id="2401.00001")
    assert above.duplicate and above.reason == "near-duplicate of 2401.00001 (similarity 0.90, shared author)"
    # 0.85 was a duplicate under v1's carried-over 0.80; it is below v2's measured threshold.
    assert not near_duplicate(0.85, model=DEFAULT_MODEL, authors=ours, earlier_authors=theirs).duplicate
    assert not near_duplicate(0.885, model=DEFAULT_MODEL, authors=ours, earlier_authors=theirs).duplicate
    assert not near_duplicate(0.99, model=DEFAULT_MODEL, authors=ours, earlier_authors=["C. Babbage"]).duplicate


def test_title_similarity_ignores_case_punctuation_and_short_words() -> None:
    from paperscope.semantic.novelty import title_similarity

    assert title_similarity("Graph Attention Networks", "graph attention networks.") == 1.0
    assert title_similarity("Graph Attention Networks", "Graph Networks") == pytest.approx(2 / 3)
    assert title_similarity("", "Graph Networks") == 0.0


# ------------------------------------------------------------------------------------------------ cohorts
def test_a_tiny_cohort_falls_back_to_a_wider_one_and_says_so() -> None:
    from paperscope.semantic.novelty import NoveltyResult, cohort_percentiles, standard_cohorts

    rng = np.random.default_rng(5)
    # 40 cs.CL papers of 2025, 3 cs.CL of 2024, and 1 cs.RO of 2025.
    rs = [NoveltyResult(i, float(v)) for i, v in enumerate(rng.random(44))]
    cats = [("cs.CL", 2025)] * 40 + [("cs.CL", 2024)] * 3 + [("cs.RO", 2025)]
    pct = cohort_percentiles(rs, [standard_cohorts(c, y) for c, y in cats], min_size=30)
    assert pct[0].cohort == "cs.CL papers of 2025" and pct[0].size == 40 and not pct[0].small
    assert pct[40].cohort == "cs.CL papers (all years)" and pct[40].size == 43  # 3 of 2024: widened to cs.CL
    assert pct[43].cohort == "papers" and pct[43].size == 44 and not pct[43].small  # cs.RO: widened to all
    vals = sorted(r.novelty for r in rs if r.novelty is not None)
    assert pct[43].value == pytest.approx(100 * (vals.index(rs[43].novelty) + 1) / 44)
    assert pct[0].describe().startswith("percentile ") and "among 40 cs.CL papers of 2025" in pct[0].describe()
    # Even the widest cohort is tiny: the percentile says how few it compares with.
    few = cohort_percentiles(rs[:4], [standard_cohorts("cs.CL", 2025)] * 4, min_size=30)
    top = max(few, key=lambda p: p.value or 0)
    assert top.small and top.size == 4 and top.describe() == "percentile 100 among 4 papers (too few to compare)"
    assert top.to_dict()["text"] == top.describe()


def test_cohort_percentiles_skip_unscored_papers_and_check_lengths() -> None:
    from paperscope.semantic.novelty import NoveltyResult, cohort_percentiles, standard_cohorts

    rs = [NoveltyResult(1, 0.2), NoveltyResult(2, None, reason=NOT_ENOUGH_HISTORY), NoveltyResult(3, 0.4)]
    pct = cohort_percentiles(rs, [standard_cohorts("cs.CL", 2025)] * 3, min_size=1)
    assert [p.value for p in pct] == [50.0, None, 100.0]
    assert pct[1].describe() == "no percentile" and pct[0].size == 2
    with pytest.raises(ValueError, match="3 results but 1 cohort lists"):
        cohort_percentiles(rs, [standard_cohorts("cs.CL", 2025)])


def test_name_keys_are_those_of_the_per_character_rule() -> None:
    import random

    from paperscope.semantic.novelty import _name_keys

    def per_character(authors: list[str]) -> set[str]:  # the first definition, kept here as the reference
        keys = set()
        for a in authors:
            parts = [p for p in "".join(c if c.isalpha() or c.isspace() else " " for c in a.lower()).split() if p]
            if parts:
                keys.add(f"{parts[-1]} {parts[0][0]}")
        return keys

    tricky = ["Ada B. Lovelace", "A. Lovelace", "İlker Öztürk", "O'Brien, J.", "Jean-Luc Picard", "J.R.R. Tolkien",
              "", "  ", "123", "李 小龙", "Ǆemal ǅ", "ß Straße", "x\u00a0y", "a\u2003b", "_a_ b_", "½ Half", "Ⅷ King",
              "e\u0301mile Zola", "\u200bzero", "ΣΑΣ ΟΔΥΣ", "a\tb\nc", "-", "Müller2 A.", "ﬁne ﬂow"]
    for name in tricky:
        assert _name_keys([name]) == per_character([name]), name
    assert _name_keys(tricky) == per_character(tricky)
    rnd = random.Random(0)
    pool = [chr(i) for i in range(0x2400)]
    for _ in range(3000):
        name = "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 12)))
        assert _name_keys([name]) == per_character([name]), repr(name)
