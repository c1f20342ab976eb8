"""Progress bars for long work, shown only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def bar(desc: str, *, quiet: bool = False, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr when it is a terminal (and not `quiet`); yields the function that advances it."""
    if quiet or not sys.stderr.isatty():
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="paper", desc=desc, leave=False) as t:
        yield t.update
