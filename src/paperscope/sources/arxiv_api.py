"""Client for the arXiv API (export.arxiv.org/api/query): searches paged lazily, lookups by id.

It keeps the API's rules (https://info.arxiv.org/help/api/user-manual.html):
- one request every 3 seconds from the whole process: the PoliteClient's shared Pacer carries the pace;
- at most 2,000 results a page, and no query paged past 30,000 results: a search stops there and warns;
- a page that comes back empty although totalResults promises more (a known API flake) is asked again
  with backoff, then raises UnexpectedEmptyPageError;
- an error answer (an Atom feed with one entry titled "Error", often with HTTP 400) raises ArxivAPIError
  carrying the API's own message.

Everything is lazy: `search` fetches a page only when the caller has used up the previous one, so a caller
that stops reading (say, once papers get older than its last run) stops the fetching too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import httpx

from paperscope.errors import ArxivAPIError, ParseError, UnexpectedEmptyPageError
from paperscope.models import Paper
from paperscope.sources.atom import AtomFeed, parse_feed
from paperscope.sources.http import PoliteClient, check_status

log = logging.getLogger(__name__)

SORT_BY = ("lastUpdatedDate", "submittedDate", "relevance")
SORT_ORDER = ("descending", "ascending")
MAX_PAGE = 2000  # the API's largest page
MAX_RESULTS = 30_000  # the API pages no query past this many results


def _read_page(resp: httpx.Response) -> AtomFeed:
    url = str(resp.request.url)
    if resp.status_code >= 400:
        # A bad query gets HTTP 400 *with* an error feed: the API's message says what is wrong.
        try:
            parse_feed(resp.content, url)
        except ArxivAPIError:
            raise
        except ParseError:
            pass
        check_status(resp)
    return parse_feed(resp.content, url)


class ArxivAPI:
    """The arXiv query API over a PoliteClient whose base URL is the endpoint (…/api/query)."""

    def __init__(self, client: PoliteClient, page_size: int = 200, *,
                 warn: Callable[[str], None] | None = None) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}, got {page_size}")
        self.client = client
        self.page_size = page_size
        self.warn = warn or log.warning

    # ------------------------------------------------------------------------------------------ one page

    def fetch_page(self, *, search_query: str = "", id_list: Sequence[str] = (), start: int = 0,
                   max_results: int | None = None, sort_by: str | None = None,
                   sort_order: str | None = None) -> AtomFeed:
        """One request, one parsed page, as the API answered it (no empty-page retry)."""
        params: dict[str, Any] = {"search_query": search_query, "id_list": ",".join(id_list)}
        if sort_by:
            params["sortBy"] = sort_by
            params["sortOrder"] = sort_order or "descending"
        params["start"] = start
        params["max_results"] = self.page_size if max_results is None else max_results
        return self.client.get_parsed("", _read_page, params=params)

    def _page(self, *, start: int, **kw: Any) -> AtomFeed:
        """fetch_page, asking again (with backoff) while a page is empty although results are promised."""
        attempt = 0
        while True:
            feed = self.fetch_page(start=start, **kw)
            total = feed.total_results
            if feed.count or total is None or start >= total:
                return feed
            if not self.client.retry_empty(attempt):
                raise UnexpectedEmptyPageError(
                    f"the page at start={start} came back empty {attempt + 1} times although "
                    f"totalResults is {total}", feed.url)
            attempt += 1
            log.info("empty page at start=%d (totalResults %d); asking again", start, total)

    # ------------------------------------------------------------------------------------------ searches

    def pages(self, search_query: str, *, sort_by: str = "lastUpdatedDate", sort_order: str = "descending",
              max_results: int | None = None, start: int = 0) -> Iterator[AtomFeed]:
        """Pages of a search, fetched one at a time as the caller asks for them."""
        if sort_by not in SORT_BY:
            raise ValueError(f"sort_by must be one of {', '.join(SORT_BY)}, got {sort_by!r}")
        if sort_order not in SORT_ORDER:
            raise ValueError(f"sort_order must be one of {', '.join(SORT_ORDER)}, got {sort_order!r}")
        pos, taken = start, 0
        total: int | None = None
        while max_results is None or taken < max_results:
            if pos >= MAX_RESULTS:
                more = f"{total - pos:,} more match" if total is not None else "more may match"
                self.warn(f"arXiv API search {search_query!r} stopped at {MAX_RESULTS:,} results, the most the "
                          f"API pages one query; {more}: narrow the query (a date range, fewer categories)")
                return
            n = self.page_size if max_results is None else min(self.page_size, max_results - taken)
            n = min(n, MAX_RESULTS - pos)
            feed = self._page(search_query=search_query, start=pos, max_results=n, sort_by=sort_by,
                              sort_order=sort_order)
            yield feed
            total = feed.total_results
            if not feed.count:
                return
            pos += feed.count
            taken += feed.count
            if total is not None and pos >= total:
                return

    def search_pages(self, search_query: str, *, sort_by: str = "lastUpdatedDate",
                     sort_order: str = "descending", max_results: int | None = None,
                     start: int = 0) -> Iterator[list[Paper]]:
        """The papers of a search one page at a time, each page's list handed over before the next is asked.

        A caller that stores every page as it arrives keeps the finished pages when a later one fails
        (the exception comes out of the iteration after them). Papers already seen on an earlier page
        are left out: sorting by a date that moves while we page can shift a paper onto the next page.
        """
        seen: set[str] = set()
        for feed in self.pages(search_query, sort_by=sort_by, sort_order=sort_order, max_results=max_results,
                               start=start):
            batch = []
            for paper in feed.entries:
                if paper.id not in seen:
                    seen.add(paper.id)
                    batch.append(paper)
            yield batch

    def search(self, search_query: str, *, sort_by: str = "lastUpdatedDate", sort_order: str = "descending",
               max_results: int | None = None, start: int = 0) -> Iterator[Paper]:
        """Papers matching an API query ('cat:cs.CL AND abs:retrieval'), lazily, page by page."""
        for batch in self.search_pages(search_query, sort_by=sort_by, sort_order=sort_order,
                                       max_results=max_results, start=start):
            yield from batch

    def total(self, search_query: str) -> int:
        """How many papers the API says match the query."""
        feed = self.fetch_page(search_query=search_query, start=0, max_results=1)
        return feed.total_results or 0

    # ------------------------------------------------------------------------------------------ by id

    def by_ids(self, ids: Iterable[str], batch_size: int = 100) -> Iterator[Paper]:
        """The papers with these ids ('2502.20780', 'hep-th/9901001', versioned or not), batch by batch."""
        if not 1 <= batch_size <= MAX_PAGE:
            raise ValueError(f"batch_size must be between 1 and {MAX_PAGE}, got {batch_size}")
        wanted = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
        for b in range(0, len(wanted), batch_size):
            batch = wanted[b:b + batch_size]
            pos = 0
            while True:
                feed = self._page(id_list=batch, start=pos, max_results=len(batch))
                yield from feed.entries
                pos += feed.count
                if not feed.count or feed.total_results is None or pos >= feed.total_results:
                    break
