"""`paperscope check` and the store's own repairs: an interrupted first import, scratch files, orphan vectors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from conftest import make_paper
from paperscope.cli import main
from paperscope.store.sqlite import SIDE_BUILD_KEY, SQLiteStore


def _library(tmp_path: Path, n: int = 5) -> Path:
    db = tmp_path / "lib.db"
    with SQLiteStore(db) as s:
        s.upsert_papers([make_paper(f"2501.{i:05d}", title=f"paper about graphs {i}") for i in range(n)])
    return db


def _unindex(db: Path, n: int) -> None:
    conn = sqlite3.connect(db)
    conn.execute(f"DELETE FROM papers_fts_docsize WHERE id IN (SELECT id FROM papers_fts_docsize LIMIT {n})")
    conn.commit()
    conn.close()


def test_check_finds_and_repairs_a_damaged_index(tmp_path: Path) -> None:
    db = _library(tmp_path)
    _unindex(db, 2)
    run = CliRunner().invoke(main, ["--db", str(db), "check", "--json"])
    assert run.exit_code == 1
    got = json.loads(run.output)
    assert got["ok"] is False and [f["part"] for f in got["findings"]] == ["index"]
    run = CliRunner().invoke(main, ["--db", str(db), "check", "--repair"])
    assert run.exit_code == 0 and "rebuilt the full-text index" in run.output
    with SQLiteStore(db) as s:
        s.integrity_check()


def test_check_reports_and_removes_scratch_files_and_orphan_vectors(tmp_path: Path) -> None:
    db = _library(tmp_path)
    with SQLiteStore(db) as s:
        s.set_active_model("m1")
        s.save_embeddings("m1", [("2501.00000", 1, np.ones(3)), ("9999.99999", 1, np.ones(3))])
    Path(f"{db}.fts-build").write_bytes(b"scratch")
    run = CliRunner().invoke(main, ["--db", str(db), "check"])
    assert run.exit_code == 1 and "fts-build" in run.output and "1 embeddings of papers not in" in run.output
    run = CliRunner().invoke(main, ["--db", str(db), "check", "--repair"])
    assert run.exit_code == 0, run.output
    assert not Path(f"{db}.fts-build").exists()
    assert CliRunner().invoke(main, ["--db", str(db), "check"]).exit_code == 0


def test_check_of_a_missing_library_is_not_found(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["--db", str(tmp_path / "none.db"), "check"])
    assert run.exit_code == 1 and not (tmp_path / "none.db").exists()


def test_writer_open_repairs_an_interrupted_first_import(tmp_path: Path) -> None:
    db = _library(tmp_path)
    _unindex(db, 5)  # as if the index built aside was never adopted
    with SQLiteStore(db) as s:
        s.set_state(SIDE_BUILD_KEY, {"pid": 1})
    Path(f"{db}.fts-build").write_bytes(b"scratch")
    with SQLiteStore(db) as s:  # a writer open notices and rebuilds
        s.integrity_check()
        assert s.get_state(SIDE_BUILD_KEY) is None
        assert s.count_matching(__import__("conftest").pq("graphs")) == 5
    assert not Path(f"{db}.fts-build").exists()


def test_reopening_writes_nothing(tmp_path: Path) -> None:
    db = _library(tmp_path)
    before = db.stat().st_mtime_ns, Path(f"{db}-wal").stat().st_size if Path(f"{db}-wal").exists() else 0
    SQLiteStore(db).close()
    after = db.stat().st_mtime_ns, Path(f"{db}-wal").stat().st_size if Path(f"{db}-wal").exists() else 0
    assert before == after


def test_nul_reimport_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    with SQLiteStore(db) as s:
        for _ in range(2):
            s.upsert_papers([make_paper("2501.0000\x001", title="N\x00UL")])
        assert s.count() == 1 and s.get_paper("2501.00001") is not None
