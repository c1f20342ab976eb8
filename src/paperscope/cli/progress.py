"""Progress bars for long work, shown only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def shown(quiet: bool = False) -> bool:
    """Whether progress is drawn: on a terminal only, and not when `quiet` (e.g. under --json)."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def bar(desc: str, *, quiet: bool = False, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr when it is a terminal (and not `quiet`); yields the function that advances it."""
    if not shown(quiet):
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="paper", desc=desc, leave=False) as t:
        yield t.update
