"""Code links of a big snapshot found by a second process that reads the same file ahead of the writer.

Finding code links is the largest pure-Python cost of a first import (about 40 us per paper, on the writer's
core), while the full-text index is built by its own process. So a snapshot of many papers is read twice: this
process decodes each record's id, abstract and comment (no Paper: `iter_code_texts`) and finds its link exactly as
the store would (`stored_code_url_of_text` with the same finder), and the writer takes them by id as it writes.
When the reader falls behind or dies the writer waits for it or, once it is gone, finds the missing links itself:
the links stored are the same either way.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

    from paperscope.store.api import CodeLinkFinder

AHEAD_FROM = 64 * 1024 * 1024  # bytes of snapshot from which the second reader pays for its start (~1 s)
CHUNK = 2000
QUEUE_CHUNKS = 64  # how far (in chunks) the reader may run ahead
KEEP = 20_000  # papers' links kept behind the newest pulled (the writer asks 2,000 at a time, then writes them)


def _find(path: str, out: Any, chunk: int) -> None:
    """The reader process: (ids, links) per chunk of the file, in file order, then None."""
    from paperscope.scoring.codelinks import primary_code_url
    from paperscope.sources.snapshot import iter_code_texts
    from paperscope.store.codec import no_nul
    from paperscope.store.records import stored_code_url_of_text

    ids: list[str] = []
    links: list[str] = []
    # The three texts of each record, not whole Papers: a record read this way costs half (2.9M: a minute of CPU).
    for pid, abstract, comment in iter_code_texts(path):
        ids.append(no_nul(pid))
        links.append(stored_code_url_of_text(abstract, comment, primary_code_url))
        if len(ids) >= chunk:
            out.put((ids, links))
            ids, links = [], []
    if ids:
        out.put((ids, links))
    out.put(None)


class CodeLinksAhead(Mapping[str, str]):
    """Links found ahead by the reader process, by paper id ('' for none); `cover(ids)` waits for them. An id the
    file lists twice close together is not among them (the writer finds its link from the text it keeps)."""

    def __init__(self, path: str | Path) -> None:
        from multiprocessing import get_context

        ctx = get_context("spawn")  # not fork: the writer holds an open SQLite connection
        self._q: Any = ctx.Queue(maxsize=QUEUE_CHUNKS)
        self._proc: SpawnProcess = ctx.Process(target=_find, args=(str(path), self._q, CHUNK), daemon=True,
                                               name="paperscope-codelinks")
        self._proc.start()
        # None: listed more than once among the chunks held, so which copy's link is wanted depends on which
        # copy the store keeps; the writer finds those itself. `_twice` counts the extra listings held.
        self._found: dict[str, str | None] = {}
        self._twice: dict[str, int] = {}
        self._chunks: deque[list[str]] = deque()
        self._ended = False

    def cover(self, ids: list[str]) -> None:
        """Wait until the reader has passed these papers (or has ended); forget what lies far behind."""
        while not self._ended and not all(i in self._found for i in ids):
            self._pull()
        while len(self._chunks) > 1 and len(self._found) - len(self._chunks[0]) >= KEEP:
            for i in self._chunks.popleft():
                more = self._twice.get(i, 0)
                if more > 1:
                    self._twice[i] = more - 1
                elif more:
                    del self._twice[i]
                else:
                    self._found.pop(i, None)

    def _pull(self) -> None:
        try:
            item = self._q.get(timeout=1.0)
        except queue.Empty:
            if not self._proc.is_alive():
                self._ended = True  # died: the writer finds what is missing itself
            return
        if item is None:
            self._ended = True
            return
        ids, links = item
        found = self._found
        for i, link in zip(ids, links):
            if i in found:
                found[i] = None
                self._twice[i] = self._twice.get(i, 0) + 1
            else:
                found[i] = link
        self._chunks.append(ids)

    def close(self) -> None:
        self._ended = True
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(5)
        self._q.close()

    def __getitem__(self, key: str) -> str:
        link = self._found[key]
        if link is None:
            raise KeyError(key)
        return link

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._found.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (i for i, link in self._found.items() if link is not None)

    def __len__(self) -> int:
        return sum(1 for link in self._found.values() if link is not None)


def worth_reading_ahead(path: str | Path, finder: CodeLinkFinder | None) -> bool:
    """A big snapshot going into a store that finds links with the standard finder."""
    from paperscope.scoring.codelinks import primary_code_url
    from paperscope.sources.detect import detect_format

    p = Path(path)
    return (finder is primary_code_url and p.is_file() and p.stat().st_size >= AHEAD_FROM
            and detect_format(p) == "snapshot")
