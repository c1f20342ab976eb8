"""`paperscope export`: every paper with its figures, in formats other tools read back."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import dt, make_library, make_paper

from paperscope.cli import main
from paperscope.libraryfile import read_library
from paperscope.service.export import export
from paperscope.sources.citations import PaperCitations
from paperscope.store.sqlite import SQLiteStore

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.fixture
def filled(store: SQLiteStore) -> SQLiteStore:
    store.upsert_papers([
        make_paper("2501.00001", title="Graphs {and} 100% of $x_1$ & co", authors=["Jürgen Schmidhuber", "A. B"],
                   abstract="Code at https://github.com/a/b", updated=dt(2025, 1, 3), doi="10.1/xyz",
                   journal_ref="J. Foo 1 (2025)"),
        make_paper("2501.00002", title="Second paper", authors=["Ada Lovelace"], updated=dt(2025, 1, 4)),
        make_paper("2501.00003", title="Second paper", authors=["Ada Lovelace"], updated=dt(2025, 1, 5)),
    ])
    store.save_citations([PaperCitations("2501.00001", "openalex", NOW, 12, {2025: 12}, None, [], None, None)])
    store.set_active_model("m")
    store.save_novelty("m", 10, [("2501.00001", 0.42, 81.0, "", [])], NOW)
    store.save_scores([("2501.00001", 64.0, "model", {})], NOW)
    return store


def test_jsonl_has_every_figure(filled: SQLiteStore) -> None:
    buf = io.StringIO()
    r = export(make_library(filled), "jsonl", stream=buf)
    rows = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert r.papers == 3 and [x["id"] for x in rows] == ["2501.00001", "2501.00002", "2501.00003"]
    first = rows[0]
    assert (first["citations"], first["citations_source"], first["citations_date"]) == (12, "openalex", "2026-11-20")
    assert first["code_url"] == "https://github.com/a/b" and first["doi"] == "10.1/xyz"
    assert first["ai_score"] == 64.0 and first["ai_score_text"].startswith("AI Score 64 — predicted citation percentile")
    assert (first["novelty"], first["novelty_percentile"]) == (0.42, 81.0)
    assert rows[1]["ai_score"] is None and rows[1]["citations"] is None and rows[1]["novelty"] is None


def test_csv_reads_back(filled: SQLiteStore, tmp_path: Path) -> None:
    out = tmp_path / "papers.csv"
    export(make_library(filled), "csv", out=out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 3 and rows[0]["authors"] == "Jürgen Schmidhuber; A. B" and rows[0]["novelty_percentile"] == "81.0"
    assert not (tmp_path / "papers.csv.part").exists()


def test_bibtex_and_ris_read_back_as_a_library_file(filled: SQLiteStore, tmp_path: Path) -> None:
    bib = tmp_path / "papers.bib"
    export(make_library(filled), "bibtex", out=bib)
    text = bib.read_text(encoding="utf-8")
    assert text.count("@") == 3 and r"100\% of \$x\_1\$ \& co" in text and "@article{" in text
    keys = [line.split("{", 1)[1].rstrip(",") for line in text.splitlines() if line.startswith("@")]
    assert len(set(keys)) == 3  # two papers with one title and author get distinct keys
    parsed = read_library(bib)
    assert sorted(it.arxiv_id for it in parsed.items if it.arxiv_id) == ["2501.00001", "2501.00002", "2501.00003"]
    ris = tmp_path / "papers.ris"
    export(make_library(filled), "ris", out=ris)
    records = ris.read_text(encoding="utf-8").split("ER  - ")
    assert sum(1 for r in records if "TY  - ELEC" in r) == 3 and "AN  - arXiv:2501.00002" in records[1]


def test_cli_export_and_bad_format(filled: SQLiteStore, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["--db", filled.path, "export", "--format", "jsonl"])
    assert res.exit_code == 0 and len(res.output.strip().splitlines()) == 3
    res = CliRunner().invoke(main, ["--db", filled.path, "export", "--format", "xml"])
    assert res.exit_code == 2
