"""Semantic Scholar Graph API: the fallback for citation counts of arXiv papers OpenAlex does not know.

`POST /paper/batch?fields=…` with `{"ids": ["ARXIV:<id>", …]}`, up to 500 ids a request; the answer is a
list in the order of the ids asked, with `null` where a paper is not found. The API key goes in the
`x-api-key` header. Without a key Semantic Scholar shares one rate limit among all anonymous callers,
so the default client keeps one request a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
import orjson

from paperscope.errors import HTTPError, ParseError, SourceError
from paperscope.models import is_arxiv_id, split_arxiv_id
from paperscope.sources.citations import (
    Authorship,
    PaperCitations,
    Progress,
    SourceName,
    utc_now,
)
from paperscope.sources.http import PoliteClient, RetryPolicy, paced_client, require_json

DEFAULT_URL = "https://api.semanticscholar.org/graph/v1"
MAX_BATCH = 500  # the paper batch endpoint's limit on ids per request
# authors.hIndex asks for each author's h-index inside the paper object; authors.externalIds has ORCID.
PAPER_FIELDS = (
    "externalIds,citationCount,influentialCitationCount,"
    "authors.authorId,authors.name,authors.hIndex,authors.externalIds"
)

_DEFAULT_RETRY = RetryPolicy()


def semanticscholar_client(
    base_url: str = DEFAULT_URL,
    *,
    contact: str = "",
    pace: float = 1.0,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
    retry: RetryPolicy = _DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> PoliteClient:
    """A PoliteClient for Semantic Scholar, one request a second unless told otherwise."""
    return paced_client(base_url, pace=pace, contact=contact, transport=transport, timeout=timeout, retry=retry,
                        sleep=sleep)


def parse_paper(obj: Mapping[str, Any], arxiv_id: str, fetched: datetime) -> PaperCitations:
    """Turn one Semantic Scholar paper object into PaperCitations for `arxiv_id`."""
    authorships = []
    for n, a in enumerate(obj.get("authors") or []):
        if not isinstance(a, Mapping):
            continue
        ext = a.get("externalIds") or {}
        orcid = ext.get("ORCID") if isinstance(ext, Mapping) else None
        h = a.get("hIndex")
        authorships.append(Authorship(
            position=n,
            name=a.get("name") or "",
            openalex_id=None,
            orcid=str(orcid) if orcid else None,
            institutions=[],
            s2_id=str(a["authorId"]) if a.get("authorId") else None,
            h_index=h if isinstance(h, int) else None,
        ))
    ext = obj.get("externalIds") or {}
    doi = ext.get("DOI") if isinstance(ext, Mapping) else None
    cited, influential = obj.get("citationCount"), obj.get("influentialCitationCount")
    return PaperCitations(
        arxiv_id=arxiv_id,
        source="semanticscholar",
        fetched=fetched,
        cited_by_count=cited if isinstance(cited, int) else None,
        counts_by_year={},
        influential_citations=influential if isinstance(influential, int) else None,
        authorships=authorships,
        work_id=obj.get("paperId"),
        doi=doi.lower() if isinstance(doi, str) else None,
    )


class SemanticScholar:
    """Semantic Scholar papers through a PoliteClient (base URL, pace and transport live there)."""

    name: SourceName = "semanticscholar"

    def __init__(
        self,
        client: PoliteClient,
        api_key: str | None = None,
        *,
        batch_size: int = MAX_BATCH,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        self.client = client
        self.api_key = api_key or None
        self.batch_size = batch_size
        self.clock = clock

    def fetch(self, arxiv_ids: Sequence[str], progress: Progress | None = None) -> dict[str, PaperCitations]:
        """CitationSource entry point: same as papers."""
        return self.papers(arxiv_ids, progress)

    def papers(self, arxiv_ids: Sequence[str], progress: Progress | None = None) -> dict[str, PaperCitations]:
        """Citation counts for arXiv ids, keyed by the ids as given; ids Semantic Scholar lacks are absent,
        and so are strings that are not arXiv ids."""
        wanted = [i for i in dict.fromkeys(arxiv_ids) if is_arxiv_id(split_arxiv_id(i)[0])]
        batches = [wanted[i:i + self.batch_size] for i in range(0, len(wanted), self.batch_size)]
        out: dict[str, PaperCitations] = {}
        for n, batch in enumerate(batches, 1):
            try:
                answer = self._batch(batch)
            except SourceError as e:
                raise _relabel(e, f"Semantic Scholar paper batch {n}/{len(batches)} ({len(batch)} ids) failed: ")
            fetched = self.clock()
            for raw, obj in zip(batch, answer):
                if obj is None:  # not found: S2 answers null in that slot rather than failing the batch
                    continue
                out[raw] = parse_paper(obj, raw, fetched)
            if progress:
                progress(self.name, min(n * self.batch_size, len(wanted)), len(wanted))
        return out

    def _batch(self, ids: Sequence[str]) -> list[Mapping[str, Any] | None]:
        body = {"ids": [f"ARXIV:{split_arxiv_id(i)[0]}" for i in ids]}
        headers = {"x-api-key": self.api_key} if self.api_key else None
        resp = self.client.request("POST", "paper/batch", params={"fields": PAPER_FIELDS}, json=body,
                                   headers=headers, parse=require_json)  # a cut-off JSON body is asked again
        url = str(resp.request.url)
        if resp.status_code >= 400:
            raise HTTPError(f"HTTP {resp.status_code}{_reason(resp)}", url, resp.status_code)
        try:
            data = orjson.loads(resp.content)
        except orjson.JSONDecodeError as e:
            raise ParseError(f"invalid JSON ({e})", url) from None
        if not isinstance(data, list) or len(data) != len(ids):
            got = f"a list of {len(data)}" if isinstance(data, list) else type(data).__name__
            raise ParseError(f"expected a list of {len(ids)} papers, got {got}", url)
        if any(x is not None and not isinstance(x, Mapping) for x in data):
            raise ParseError("a batch element is neither a paper object nor null", url)
        return data


def _reason(resp: httpx.Response) -> str:
    """Semantic Scholar explains errors as {'error': ...} or {'message': ...}; keep the first line."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return ""
    text = next((str(body[k]) for k in ("error", "message") if isinstance(body, dict) and body.get(k)), "")
    return f": {text.splitlines()[0][:200]}" if text else ""


def _relabel(e: SourceError, prefix: str) -> SourceError:
    """The same kind of error, its message led by the batch it belongs to."""
    new: SourceError = type(e)(prefix + str(e), "", e.status) if isinstance(e, HTTPError) else type(e)(prefix + str(e))
    new.url = e.url
    return new
