"""Web fixtures: a small real library (the bundled sample, embedded, with a hostile paper), an unembedded one,
the app over each, and a live server on 127.0.0.1 for the browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import paperscope
from paperscope.models import Author, Paper, Version

TOKEN = "test-token-7f3a"
ARTIFACTS = Path(__file__).parent / "artifacts"
SAMPLE = Path(paperscope.__file__).parent / "data" / "sample.jsonl.gz"
HOSTILE_ID = "2611.00666"
XSS = {
    "title": 'Attack <script>window.__pwned="title"</script> on $x<y$ & <img src=x onerror="window.__pwned=\'img\'">',
    "abstract": ('We show <img src=x onerror="window.__pwned=\'abs\'"> and <a href="javascript:window.__pwned=1">'
                 'click</a> and javascript:alert(1) and math $\\href{javascript:window.__pwned=2}{link}$ and '
                 '$\\alpha_1 + \\beta^2$ with <b>bold</b>.'),
    "comment": '<script>window.__pwned="comment"</script> 9 pages, code at javascript:alert(1)',
    "authors": ['<img src=x onerror="window.__pwned=\'author\'">', "javascript:alert(1)", "Ada <b>Lovelace</b>"],
}


def hostile_paper() -> Paper:
    when = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    return Paper(id=HOSTILE_ID, version=1, title=XSS["title"], abstract=XSS["abstract"], updated=when,
                 published=when, authors=[Author(a) for a in XSS["authors"]], categories=["cs.CL"],
                 primary_category="cs.CL", comment=XSS["comment"], versions=[Version(1, when)])


def sample_papers(n: int) -> list[Paper]:
    from paperscope.sources.detect import read_file

    out = []
    for p in read_file(SAMPLE):
        out.append(p)
        if len(out) >= n:
            break
    return out


def build_library(path: Path, *, n: int = 600, embed: bool = True) -> Path:
    """A library file of `n` sample papers and the hostile one, with the demo's topics in config.toml beside it;
    embedded, with novelty and AI Scores unless `embed` is off."""
    from paperscope import Library
    from paperscope.service import meaning
    from paperscope.service.pipeline import demo_config

    demo_config(path.parent / "config.toml")
    with Library.open(path, path.parent / "config.toml") as lib:
        lib.store.upsert_papers(sample_papers(n) + [hostile_paper()])
        lib.store.fill_code_urls()
        if embed:
            meaning.embed(lib)
            meaning.novelty(lib)
            meaning.score(lib)
    return path


def open_library(path: Path, *, readonly: bool = False) -> Any:
    from paperscope import Library

    config = path.parent / "config.toml"
    return Library.open(path, config if config.exists() else None, readonly=readonly)


def busiest_author(lib: Any) -> str:
    counts: Counter[str] = Counter()
    for p in lib.store.iter_papers():
        counts.update(a.name for a in p.authors)
    return counts.most_common(1)[0][0]


@pytest.fixture(scope="session")
def library_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_library(tmp_path_factory.mktemp("weblib") / "library.db")


@pytest.fixture(scope="session")
def bare_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_library(tmp_path_factory.mktemp("bare") / "library.db", n=600, embed=False)


@pytest.fixture
def library(library_path: Path, tmp_path: Path) -> Iterator[Any]:
    """A private copy per test, so ratings and follows do not leak between tests."""
    import shutil

    copy = tmp_path / "library.db"
    shutil.copy(library_path, copy)
    shutil.copy(library_path.parent / "config.toml", tmp_path / "config.toml")
    lib = open_library(copy)
    yield lib
    lib.close()


@pytest.fixture
def app(library: Any) -> Any:
    from paperscope.web import create_app

    return create_app(library, token=TOKEN, cache_seconds=0)


@pytest.fixture
def client(app: Any) -> Any:
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live(app: Any) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
