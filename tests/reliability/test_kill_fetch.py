"""kill -9 of a `paperscope fetch` mid-run (a local fake arXiv without faults, slowed per answer so the kill
lands between requests and writes): the database and its full-text index pass their integrity checks after a
rerun, and the library equals an uninterrupted fetch's."""

from __future__ import annotations

import os

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from arxiv_server import Reply, Request  # noqa: E402
from fake_arxiv import FakeArxiv  # noqa: E402
from killing import cli, delays, integrity, killed, snapshot  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

TOPICS = (("Everything", 25), ("Newest", 10), ("Few", 3), ("Some", 17))  # the fake search ignores the query


class SlowArxiv(FakeArxiv):
    """A FakeArxiv without faults whose every answer comes `delay` seconds late."""

    def __init__(self, delay: float) -> None:
        super().__init__(None)
        self.delay = delay

    def _respond(self, req: Request) -> Reply:
        return dataclasses.replace(super()._respond(req), delay=self.delay)


def write_config(path: Path, arxiv: FakeArxiv) -> Path:
    topics = "".join(f'\n[[topics]]\nname = "{n}"\nquery = "learning OR graph"\nmax_papers = {m}\n'
                     for n, m in TOPICS)
    path.write_text(f'arxiv_api_url = "{arxiv.api_url}"\narxiv_feed_url = "{arxiv.feed_url}"\n'
                    f'arxiv_pace = 0.05\nhttp_retries = 2\nhttp_timeout = 5\n'
                    f'feed_categories = ["cs.CL", "cs.LG"]\n{topics}', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def arxiv() -> Iterator[FakeArxiv]:
    with SlowArxiv(delay=0.4) as server:
        yield server


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, arxiv: FakeArxiv) -> Path:
    return write_config(tmp_path_factory.mktemp("cfg") / "config.toml", arxiv)


def _fetch(config: Path) -> list[str]:
    return ["--config", str(config), "fetch", "--no-embed"]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, config: Path) -> dict[str, object]:
    db = tmp_path_factory.mktemp("clean") / "lib.db"
    done = cli(db, *_fetch(config))
    assert done.returncode == 0, done.stderr
    want = snapshot(db)
    assert len(want["papers"]) >= 30  # type: ignore[arg-type]
    return want


@pytest.mark.parametrize("delay", delays(seed=20, n=20 if os.environ.get("PAPERSCOPE_LONG") else 3, longest=2.5))
def test_killed_fetch_converges_on_rerun(tmp_path: Path, config: Path, clean: dict[str, object],
                                         delay: float) -> None:
    db = tmp_path / "lib.db"
    # 6 answers 0.4 s late each: a fetch takes over 2.4 s after start-up, so every seeded kill lands mid-run
    assert killed(db, _fetch(config), delay)
    if db.exists():
        integrity(db, index=False)
    rerun = cli(db, *_fetch(config))
    assert rerun.returncode == 0, rerun.stderr
    integrity(db)  # PRAGMA integrity_check and FTS5's integrity-check with rank=1
    assert snapshot(db) == clean
