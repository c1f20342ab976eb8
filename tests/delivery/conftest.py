"""Fixtures for delivery tests: a real SMTP server on loopback and a Library on a temporary file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from smtp_server import SMTPServer  # noqa: E402

from paperscope import Library  # noqa: E402
from paperscope.config import Config, load_config  # noqa: E402


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer("plain") as server:
        yield server


def open_library(db: Path, config: Path | None = None, *, now: datetime | None = None) -> Library:
    """A Library on `db` with `config` (none: every default), its clock stopped at `now` when given."""
    from paperscope.store.sqlite import SQLiteStore

    settings = load_config(config) if config else Config(None)
    return Library(settings, SQLiteStore(db), clock=(lambda: now) if now else None)


@pytest.fixture
def make_lib(tmp_path: Path) -> Iterator[object]:
    opened: list[Library] = []

    def make(config_text: str | None = None, *, db: Path | None = None, now: datetime | None = None) -> Library:
        cfg = None
        if config_text is not None:
            cfg = tmp_path / "config.toml"
            cfg.write_text(config_text, encoding="utf-8")
        lib = open_library(db or tmp_path / "library.db", cfg, now=now)
        opened.append(lib)
        return lib

    yield make
    for lib in opened:
        lib.close()
