"""Several processes on one library: two creators at once, two imports at once, readers during an import.
All finish, readers wait instead of failing, nothing is lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from killing import SAMPLE, cli, env, integrity, snapshot  # noqa: E402


def _start(db: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "paperscope", "--db", str(db), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env())


def test_two_creators_at_once(tmp_path: Path) -> None:
    code = ("import sys; from paperscope.store.sqlite import SQLiteStore; s = SQLiteStore(sys.argv[1]); "
            "s.set_state('who', sys.argv[2]); s.close()")
    for i in range(10):
        db = tmp_path / f"lib{i}.db"
        procs = [subprocess.Popen([sys.executable, "-c", code, str(db), str(n)], stderr=subprocess.PIPE, text=True,
                                  env=env()) for n in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
        integrity(db)


def test_two_imports_at_once(tmp_path: Path) -> None:
    clean = tmp_path / "clean.db"
    assert cli(clean, "import", "--no-embed", str(SAMPLE)).returncode == 0
    db = tmp_path / "lib.db"
    procs = [_start(db, "import", "--no-embed", str(SAMPLE)) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    integrity(db)
    assert snapshot(db) == snapshot(clean)


def test_readers_wait_during_an_import(tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    assert cli(db, "import", "--no-embed", str(SAMPLE)).returncode == 0  # readers need a library to read
    config = tmp_path / "config.toml"
    config.write_text('[[topics]]\nname = "Learning"\nquery = "learning"\n', encoding="utf-8")
    writer = _start(db, "import", "--no-embed", str(SAMPLE))
    failures = []
    reads = 0
    while writer.poll() is None or reads < 4:
        for args in (["search", "learning", "--limit", "5"], ["--config", str(config), "digest", "--format", "json"]):
            r = cli(db, *args)
            reads += 1
            if r.returncode != 0:
                failures.append(r.stderr.strip())
    _, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert failures == []
    integrity(db)
