"""An import of the bundled sample and a fetch from a local (slowed) fake arXiv running at the same time on one
library: both finish with exit 0, and every paper of each is in the library afterwards, as after running them
one after the other."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_arxiv import FakeArxiv  # noqa: E402
from killing import SAMPLE, cli, env, integrity  # noqa: E402
from test_kill_fetch import SlowArxiv, write_config  # noqa: E402

IMPORT = ["import", "--no-embed", str(SAMPLE)]


def _fetch(config: Path) -> list[str]:
    return ["--config", str(config), "fetch", "--no-embed"]


def _start(db: Path, args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "paperscope", "--db", str(db), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env())


def papers(db: Path) -> dict[str, tuple[int, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return {r[0]: tuple(r[1:]) for r in conn.execute("SELECT arxiv_id, version, title, abstract FROM papers")}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def arxiv() -> Iterator[FakeArxiv]:
    with SlowArxiv(delay=0.3) as server:
        yield server


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, arxiv: FakeArxiv) -> Path:
    return write_config(tmp_path_factory.mktemp("cfg") / "config.toml", arxiv)


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory, config: Path) -> dict[str, dict[str, tuple[int, str, str]]]:
    """Each job's papers when it runs alone, into its own library."""
    out = {}
    for name, args in (("import", IMPORT), ("fetch", _fetch(config))):
        db = tmp_path_factory.mktemp(name) / "lib.db"
        done = cli(db, *args)
        assert done.returncode == 0, done.stderr
        out[name] = papers(db)
    return out


@pytest.mark.parametrize("fetch_first_by", [0.0, 0.8])
def test_import_and_fetch_at_once_lose_nothing(tmp_path: Path, config: Path, alone: dict[str, dict[str, object]],
                                               fetch_first_by: float) -> None:
    db = tmp_path / "lib.db"
    fetch = _start(db, _fetch(config))
    time.sleep(fetch_first_by)
    imp = _start(db, IMPORT)
    for name, proc in (("fetch", fetch), ("import", imp)):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{name}: {err}"
    integrity(db)
    got = papers(db)
    for name, want in alone.items():
        missing = sorted(set(want) - set(got))
        assert not missing, f"{len(missing)} papers of the {name} missing, e.g. {missing[:3]}"
    # where the two sources share no paper, each one's papers are stored exactly as it brought them
    shared = set(alone["import"]) & set(alone["fetch"])
    for name, want in alone.items():
        assert {i: got[i] for i in want if i not in shared} == {i: v for i, v in want.items() if i not in shared}
    assert len(got) == len(set(alone["import"]) | set(alone["fetch"]))
