"""Trends: rising terms are the topical ones whose rise is unlikely by chance; the CLI verb prints them."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from conftest import dt, make_paper
from paperscope.cli import main
from paperscope.cli.library import sparkline
from paperscope.service.trends import MIN_KEYNESS, keyness, rising_terms

FILLER = ("we study contributing factors that leave the main question open and show that our approach leaves "
          "little room for naive baselines").split()
SUBJECTS = ["graph", "kernel", "policy", "sensor", "protein", "market", "speech", "robot", "galaxy", "circuit",
            "weather", "molecule", "traffic", "music", "legal", "medical"]


def _papers(n: int, rng: random.Random, *, start: int, rising: str = "", share: float = 0.0, title_word: str = ""):
    """`n` papers on random subjects; a `share` of them name `rising` in title and abstract."""
    out = []
    for i in range(n):
        a, b = rng.sample(SUBJECTS, 2)
        words = rng.sample(FILLER, 8) + [a, b]
        title = f"{a.title()} {b} analysis"
        if title_word and rng.random() < 0.5:
            title += f" {title_word}"  # a word of titles, in no abstract
        if rising and rng.random() < share:
            title += f" with {rising}"
            words += rising.split()
        out.append(make_paper(f"2601.{start + i:05d}", title=title, abstract=" ".join(words)))
    return out


def test_a_planted_rise_comes_first_and_filler_never_shows() -> None:
    rng = random.Random(7)
    before = _papers(400, rng, start=0, rising="state space", share=0.02)
    recent = _papers(60, rng, start=1000, rising="state space", share=0.30)
    got = rising_terms(recent, before)
    assert got and got[0].term == "state space", [t.term for t in got]
    top = got[0]
    assert top.recent_share > 0.2 and top.before_share < 0.05 and top.keyness > 10.8
    assert top.recent == round(top.recent_share * 60) and top.before == round(top.before_share * 400)
    # the phrase and its own words say the same thing: only the phrase is listed
    assert not {"state", "space"} & {t.term for t in got}
    # abstract filler ("contributing", "leaves", "naive") is in no title: never a candidate, whatever its counts
    assert not set(FILLER) & {w for t in got for w in t.term.split()}


def test_noise_gives_few_terms_and_each_one_clears_the_bar() -> None:
    """Same distribution before and after: what is listed (if anything) clears p < 0.05, and no planted term."""
    rng = random.Random(11)
    before = _papers(400, rng, start=0)
    recent = _papers(60, rng, start=1000)
    got = rising_terms(recent, before)
    assert len(got) <= 3, [(t.term, t.keyness) for t in got]
    assert all(t.keyness >= MIN_KEYNESS and t.recent_share > t.before_share for t in got)


def test_the_topics_own_words_are_no_trend() -> None:
    rng = random.Random(3)
    before = _papers(300, rng, start=0, rising="diffusion models", share=0.05)
    recent = _papers(60, rng, start=1000, rising="diffusion models", share=0.5)
    assert rising_terms(recent, before)[0].term == "diffusion models"
    assert "diffusion models" not in {t.term for t in rising_terms(recent, before, own='"diffusion model" OR DDPM')}


def test_a_term_must_be_used_by_enough_recent_papers() -> None:
    rng = random.Random(5)
    before = _papers(300, rng, start=0)
    recent = _papers(40, rng, start=1000, rising="quantum annealing", share=0.06)  # ~2 papers
    n = sum("quantum annealing" in p.abstract for p in recent)
    got = {t.term for t in rising_terms(recent, before, min_recent=n + 1)}
    assert "quantum annealing" not in got and "annealing" not in got


def test_keyness_is_dunnings_g2() -> None:
    # a hand-worked table: 10 of 50 recent against 20 of 350 before
    import math

    n, k = 400, 30
    cells = [(10, 50 * k / n), (40, 50 * (n - k) / n), (20, 350 * k / n), (330, 350 * (n - k) / n)]
    assert abs(keyness(10, 50, 20, 350) - 2 * sum(o * math.log(o / e) for o, e in cells)) < 1e-9
    assert keyness(5, 50, 35, 350) < 1e-9  # the same share: no evidence of change
    assert keyness(0, 0, 0, 0) == 0.0


def test_sparkline() -> None:
    assert sparkline([0, 4, 8]) == "▁▅█"
    assert sparkline([0, 0]) == "▁▁" and sparkline([]) == ""


def test_trends_verb_prints_each_topic_and_json(tmp_path: Path) -> None:
    from paperscope.store.sqlite import SQLiteStore

    rng = random.Random(9)
    papers = _papers(200, rng, start=0, rising="token merging", share=0.02) + \
        _papers(60, rng, start=1000, rising="token merging", share=0.4)
    base = dt(2026, 1, 5)
    for i, p in enumerate(papers):  # 200 papers over 20 weeks, then 60 in the last 4
        when = base + timedelta(days=(i * 140 // 200) if i < 200 else 140 + (i - 200) * 27 // 60)
        papers[i] = make_paper(p.id, title=p.title, abstract=p.abstract, published=when, updated=when)
    db = tmp_path / "lib.db"
    with SQLiteStore(db) as s:
        s.upsert_papers(papers)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[topics]]\nname = "Analysis"\nquery = "analysis"\n\n[[topics]]\nname = "Robots"\n'
                   'query = "robot"\n', encoding="utf-8")
    args = ["--db", str(db), "--config", str(cfg), "trends"]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "Analysis: 260 papers in 26 weeks" in res.output and "Robots:" in res.output
    assert "token merging" in res.output.split("Robots:")[0]
    res = CliRunner().invoke(main, [*args, "--topic", "analysis", "--weeks", "12", "--json"], catch_exceptions=False)
    data = json.loads(res.output)
    assert [t["topic"] for t in data["topics"]] == ["Analysis"] and len(data["topics"][0]["weeks"]) == 12
    first = data["topics"][0]["rising"][0]
    assert first["term"] == "token merging" and first["keyness"] >= MIN_KEYNESS
    res = CliRunner().invoke(main, [*args, "--topic", "nothing"])
    assert res.exit_code != 0 and "no topic named 'nothing'" in res.output
