"""AI Scores of a big library in worker processes: one per core, each with the library open read-only.

Scoring a paper with the pretrained model is pure Python and numpy over that paper alone (its metadata, vector,
citations and authors' h-index), so a first `score` of a million papers is work for every core. The parent reads
the vectors in chunks, hands each chunk to a worker, and writes the scores back in the chunks' order, so the
progress mark it saves after each write is exact and a killed run resumes where it stopped.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from paperscope.config import Config
    from paperscope.library import Library
    from paperscope.scoring.aiscore import ScoreReport

PARALLEL_FROM = 100_000  # papers to score from which worker processes pay for their start (~2 s each)
CHUNK = 25_000

_LIB: Library | None = None


def _start(db: str, settings: Config) -> None:
    global _LIB
    from paperscope.library import Library
    from paperscope.service.collector import collect_rarely

    collect_rarely()  # a worker's life is one big job (a chunk of 25,000 scores 7.0 -> 6.0 s)
    _LIB = Library.open(db, settings, readonly=True)


def _score(ids: list[str], vectors: np.ndarray, model: str, min_train: int) -> ScoreReport:
    from paperscope.service.meaning import _score_papers

    assert _LIB is not None
    return _score_papers(_LIB, ids, dict(zip(ids, vectors)), model, min_train)


class ScorePool:
    """`workers` processes that score chunks of papers; `submit` returns each chunk's report in a Future."""

    def __init__(self, lib: Library, db: str, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        # spawn, not fork: the parent holds an open SQLite connection a fork would copy mid-use
        self._ex = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start,
                                       initargs=(db, lib.settings))
        self.workers = workers
        self._pending: deque[tuple[int, Future[ScoreReport]]] = deque()

    def submit(self, tag: int, ids: list[str], vectors: np.ndarray, model: str, min_train: int) -> None:
        self._pending.append((tag, self._ex.submit(_score, ids, np.ascontiguousarray(vectors), model, min_train)))

    def full(self) -> bool:
        # A chunk queued behind each running one: a worker that finishes starts the next at once, while the
        # parent writes the scores back.
        return len(self._pending) >= 2 * self.workers

    def __bool__(self) -> bool:
        return bool(self._pending)

    def oldest(self) -> tuple[int, ScoreReport]:
        """The first submitted chunk's tag and report (waiting for it)."""
        tag, fut = self._pending.popleft()
        return tag, fut.result()

    def close(self) -> None:
        self._ex.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ScorePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def library_file(lib: Library) -> str | None:
    """The library's database file when workers can open it themselves (None for in-memory or other stores)."""
    path = getattr(lib.store, "path", None)
    return str(path) if isinstance(path, str) and path != ":memory:" else None
