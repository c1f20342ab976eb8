"""kill -9 at seeded points of a first import, a re-import, `embed`, `novelty` and `score`: afterwards the
database and its full-text index pass their integrity checks, and a rerun converges to the library and search
results of an uninterrupted run. The long run (≥ 20 points each) is `bench/reliability/kill_suite.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from killing import SAMPLE, cli, delays, integrity, killed, snapshot  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    db = tmp_path_factory.mktemp("clean") / "lib.db"
    assert cli(db, "import", "--no-embed", str(SAMPLE)).returncode == 0
    return snapshot(db)


@pytest.mark.parametrize("delay", delays(seed=10, n=2, longest=1.6))
def test_killed_first_import_converges(tmp_path: Path, clean: dict[str, object], delay: float) -> None:
    db = tmp_path / "lib.db"
    killed(db, ["import", "--no-embed", str(SAMPLE)], delay)
    rerun = cli(db, "import", "--no-embed", str(SAMPLE))
    assert rerun.returncode == 0, rerun.stderr
    integrity(db)
    assert not Path(f"{db}.fts-build").exists()
    assert snapshot(db) == clean


def test_killed_reimport_converges(tmp_path: Path, clean: dict[str, object]) -> None:
    db = tmp_path / "lib.db"
    assert cli(db, "import", "--no-embed", str(SAMPLE)).returncode == 0
    killed(db, ["import", "--no-embed", str(SAMPLE)], 0.8)
    integrity(db)
    assert cli(db, "import", "--no-embed", str(SAMPLE)).returncode == 0
    integrity(db)
    assert snapshot(db) == clean


@pytest.mark.parametrize("verb", ["embed", "novelty", "score"])
def test_killed_meaning_commands_recover(tmp_path: Path, verb: str) -> None:
    db = tmp_path / "lib.db"
    assert cli(db, "import", "--no-embed", str(SAMPLE)).returncode == 0
    before = ["embed"] if verb == "embed" else (["embed"] if verb == "novelty" else ["embed", "novelty"])
    for v in before:
        assert cli(db, v).returncode == 0
    killed(db, [verb], 0.7)
    integrity(db)
    again = cli(db, verb)
    assert again.returncode == 0, again.stderr
    integrity(db)
    check = cli(db, "check")
    assert check.returncode == 0, check.stdout + check.stderr
