"""The author AI Score on a real library: actual percentiles where the library has citations, predictions
elsewhere, and the figure reads as what it is in every profile format."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from conftest import dt, make_library, make_paper

from paperscope.scoring.aiscore import citation_percentiles
from paperscope.service import meaning
from paperscope.service.people import author_profile, render_profile
from paperscope.sources.citations import PaperCitations

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)
TOPICS = ["reward models for preference learning", "hallucination in summarisation", "retrieval for question answering",
          "speech translation", "code generation benchmarks", "multilingual parsing", "dialogue state tracking",
          "machine translation of low-resource languages", "long-context language models", "instruction tuning data",
          "text-to-SQL", "named entity recognition in clinical notes", "argument mining", "grammar error correction"]


def cites(arxiv_id: str, n: int) -> PaperCitations:
    return PaperCitations(arxiv_id=arxiv_id, source="openalex", fetched=NOW, cited_by_count=n,  # type: ignore[arg-type]
                          counts_by_year={}, influential_citations=None, authorships=[], work_id=None, doi=None)


def build(store):  # type: ignore[no-untyped-def]
    # Fourteen cs.CL papers of 2024 (Ada wrote 0, 1 and 2) and one of Ada's from 2026 with no citation count.
    papers = [make_paper(f"2403.{i:05d}", title=f"On {t}", abstract=f"We study {t} and report results on it.",
                         authors=["Ada Lovelace" if i < 3 else f"Other Person{i}", f"Co Author{i}"],
                         updated=dt(2024, 3, 1 + i)) for i, t in enumerate(TOPICS)]
    papers.append(make_paper("2610.00001", title="A new direction in speech recognition",
                             abstract="We propose a new model for streaming speech recognition.",
                             authors=["Ada Lovelace"], updated=dt(2026, 10, 1)))
    store.upsert_papers(papers)
    # Twelve of the 2024 papers have counts (a cohort of 12 >= MIN_ACTUAL_COHORT); Ada's paper 2 has none.
    counts = {p.id: 3 * i for i, p in enumerate(papers[:14]) if i != 2}
    counts["2403.00000"] = 500  # the cohort's most cited paper
    store.save_citations([cites(i, n) for i, n in counts.items()])
    lib = make_library(store)
    meaning.embed(lib)
    meaning.score(lib)  # 13 cited papers: the pretrained model predicts, the actual percentiles ride along
    return lib, counts


def test_author_score_uses_actual_percentiles_where_known_and_says_so(store) -> None:  # type: ignore[no-untyped-def]
    lib, counts = build(store)
    prof = author_profile(lib, "Ada Lovelace").profile
    fig = prof.score
    actual = citation_percentiles([(i, 2024, "cs.CL", n) for i, n in counts.items()])
    assert actual["2403.00000"] == 100.0
    per = {r["id"]: r for r in fig.inputs["per_paper"]}  # type: ignore[union-attr]
    assert per["2403.00000"]["from"] == "actual" and per["2403.00000"]["percentile"] == 100.0
    assert per["2403.00001"]["from"] == "actual" and per["2403.00001"]["percentile"] == round(actual["2403.00001"], 1)
    assert per["2403.00002"]["from"] == per["2610.00001"]["from"] == "predicted"
    scores = lib.store.scores_for(["2403.00002", "2610.00001"])
    assert per["2610.00001"]["percentile"] == round(scores["2610.00001"]["value"], 1)
    expected = round(sum(r["percentile"] for r in per.values()) / 4)  # four papers: all of them are the best five
    assert fig.value == expected and isinstance(fig.value, int)
    assert fig.source.startswith(f"AI Score {expected} — from 4 papers (2 with citations, 2 predicted): mean of "
                                 "the best 4 · predictions: pretrained impact model v1, held-out Spearman 0.")

    summary = "from 4 papers (2 with citations, 2 predicted)"
    md = render_profile(author_profile(lib, "Ada Lovelace"), "markdown")
    assert f"**Score** {expected} — {summary}" in md
    assert f"| Score | {expected} | AI Score {expected} — {summary}: mean of the best 4 · predictions:" in md
    data = json.loads(render_profile(author_profile(lib, "Ada Lovelace"), "json"))
    head = data["header"]["Score"]
    assert head["value"] == expected and head["text"] == fig.source and head["inputs"]["with_citations"] == 2
    html = render_profile(author_profile(lib, "Ada Lovelace"), "html")
    assert f"{expected} — {summary}" in html and "None" not in html


def test_author_score_without_scores_reads_as_not_yet(store) -> None:  # type: ignore[no-untyped-def]
    store.upsert_papers([make_paper("2403.00001", authors=["Ada Lovelace"], updated=dt(2024, 3, 1))])
    lib = make_library(store)
    meaning.embed(lib)  # embedded, never scored
    fig = author_profile(lib, "Ada Lovelace").profile.score
    assert fig.value is None and fig.source == "no AI Score yet: AI Scores not computed for their papers"
    md = render_profile(author_profile(lib, "Ada Lovelace"), "markdown")
    assert "**Score** —" in md and "None" not in md
