"""One run of every arXiv source against a FakeArxiv, as the service drives them, and what it delivered.

Shared by tests/reliability/test_fake_arxiv_runs.py (a few seeds) and bench/reliability/source_runs.py (many).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import httpx
from fake_arxiv import FakeArxiv

from paperscope.models import Paper
from paperscope.sources.announce import AnnouncementFeed
from paperscope.sources.arxiv_api import ArxivAPI
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy
from paperscope.sources.oai import OAIHarvester

CATEGORIES = ("cs.CL", "cs.LG")
Key = tuple[object, ...]


class RecordingPacer(Pacer):
    """A Pacer that keeps the time of every send it was told about."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(interval, clock=clock)
        self.sends: list[float] = []

    def sent(self) -> None:
        super().sent()
        self.sends.append(self._last)


@dataclass
class Delivered:
    """Papers per source, in the order they came, plus what the run saw of pacing."""

    by_source: dict[str, list[Paper]] = field(default_factory=dict)
    announced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    sends: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def keys(self) -> dict[str, set[Key]]:
        """Each source's papers reduced to what must not change: id, version, texts, authors, versions."""
        return {src: {paper_key(p) for p in papers} for src, papers in self.by_source.items()}

    def duplicates(self) -> int:
        return sum(len(ps) - len({p.id for p in ps}) for ps in self.by_source.values())

    def min_gap(self) -> float:
        return min((b - a for a, b in pairwise(self.sends)), default=float("inf"))


def paper_key(p: Paper) -> Key:
    return (p.id, p.version, p.title, p.abstract, p.comment, tuple(a.name for a in p.authors),
            tuple((v.version, v.created) for v in p.versions), tuple(p.categories))


def deliver(arxiv: FakeArxiv, *, pace: float = 0.05, timeout: float = 0.5, retries: int = 6,
            seed: int = 0) -> Delivered:
    """Announcements, their papers by id, a paged search and an OAI-PMH harvest, through one shared Pacer."""
    pacer = RecordingPacer(pace)
    policy = RetryPolicy(retries=retries, backoff=0.02, max_backoff=2.0, jitter=0.5)
    rng = random.Random(seed)

    def client(url: str) -> PoliteClient:
        return PoliteClient(url, pacer=pacer, timeout=timeout, retry=policy, rng=rng,
                            transport=httpx.HTTPTransport())

    out = Delivered()
    started = time.monotonic()
    with client(arxiv.api_url) as api_c, client(arxiv.feed_url) as feed_c, client(arxiv.oai_url) as oai_c:
        api = ArxivAPI(api_c, page_size=10)
        ann = AnnouncementFeed(feed_c).fetch(CATEGORIES)
        out.announced = ann.ids
        out.by_source["by_ids"] = list(api.by_ids(ann.ids, batch_size=5))
        out.by_source["search"] = [p for batch in api.search_pages("cat:math.CO") for p in batch]
        harvested: list[Paper] = []
        for page in OAIHarvester(oai_c).list_records(metadata_prefix="arXivRaw"):
            harvested.extend(page.papers)
            out.deleted.extend(page.deleted)
        out.by_source["oai"] = harvested
    out.seconds = time.monotonic() - started
    out.sends = pacer.sends
    return out
