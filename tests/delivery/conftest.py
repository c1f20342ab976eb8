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
