"""Fixtures for delivery tests: a real SMTP server on loopback and a library holding the bundled sample."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from smtp_server import SMTPServer  # noqa: E402


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer("plain") as server:
        yield server


class Lib:
    """The few parts of a paperscope Library the daily pipeline uses: store, settings, clock."""

    def __init__(self, db: Path, config: Path | None = None, *, now: object = None) -> None:
        from paperscope.config import Config, load_config
        from paperscope.store.sqlite import SQLiteStore

        self.store = SQLiteStore(db)
        self.settings = load_config(config) if config else Config(None)
        self._now = now

    def now(self):  # type: ignore[no-untyped-def]
        from datetime import datetime, timezone

        return self._now or datetime.now(timezone.utc)

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def make_lib(tmp_path: Path) -> Iterator[object]:
    opened: list[Lib] = []

    def make(config_text: str | None = None, *, db: Path | None = None, now: object = None) -> Lib:
        cfg = None
        if config_text is not None:
            cfg = tmp_path / "config.toml"
            cfg.write_text(config_text, encoding="utf-8")
        lib = Lib(db or tmp_path / "library.db", cfg, now=now)
        opened.append(lib)
        return lib

    yield make
    for lib in opened:
        lib.close()
