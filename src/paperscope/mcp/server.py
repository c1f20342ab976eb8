"""The MCP server: each tool is one service call whose result is its `to_dict()`.

Serve it over stdio (`paperscope mcp`, what desktop assistants launch) or streamable HTTP (`paperscope mcp --http`,
or mounted beside the web app). A paperscope error becomes a tool error with a one-line message; arguments are
checked against the tools' typed schemas by the SDK before paperscope sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal, TypeVar

from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError

from paperscope.errors import Ambiguous, NotFound, NotReady, PaperscopeError
from paperscope.library import Library
from paperscope.service.results import JSONValue

T = TypeVar("T")
JSON = dict[str, JSONValue]

INSTRUCTIONS = (
    "paperscope is the user's local library of arXiv papers. Use `search` (full text with the query syntax: words, "
    '"phrases", AND/OR/NOT, ti:/abs:/au:/cat: fields; semantic=true adds meaning; since/until bound the dates), '
    "`paper` for everything known about one paper (versions, code, citations, novelty with its evidence, AI Score "
    "input by input, BibTeX), `similar` for papers nearest in meaning, `author_profile` for a researcher (with the "
    "authors nearest in meaning), `digest` for the user's topics' newest papers, `recommend` for papers like the "
    "user's own library or the papers they rated up, and `trends` for a topic over time (papers per week, rising "
    "terms)."
)

NEEDS = {"embed": "the library has no embeddings yet: the user can run `paperscope embed`",
         "novelty": "novelty was not computed yet (`paperscope novelty`)",
         "score": "AI Scores were not computed yet (`paperscope score`)",
         "enrich": "citations were not fetched yet (`paperscope enrich`)"}


def _call(fn: Callable[[], T]) -> T:
    """Run a service call; paperscope's own errors become tool errors an assistant can read."""
    try:
        return fn()
    except NotReady as e:
        raise ToolError(f"{e} ({NEEDS.get(e.needs, e.needs)})") from e
    except (NotFound, Ambiguous, PaperscopeError) as e:
        raise ToolError(str(e)) from e


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise ToolError(f"{name} must be a date like 2026-11-30, not {text!r}") from e


def create_server(lib: Library, *, host: str = "127.0.0.1", port: int = 8765) -> FastMCP:
    """An MCP server over `lib` (opened read-only by the CLI: the tools only read)."""
    from paperscope.service import digest as digests
    from paperscope.service import meaning, papers, people

    server = FastMCP("paperscope", instructions=INSTRUCTIONS, host=host, port=port)

    @server.tool()
    def search(query: str, limit: int = 10, semantic: bool = False, categories: list[str] | None = None,
               order: Literal["relevance", "date"] = "relevance", since: str | None = None,
               until: str | None = None, has_code: bool | None = None) -> JSON:
        """Search the library. `query` uses paperscope's syntax (words, "phrases", AND/OR/NOT, parentheses,
        ti:/abs:/au:/co:/cat: prefixes); `semantic` fuses full text with meaning; `categories` like ["cs.CL"];
        `since` / `until` (YYYY-MM-DD, inclusive) bound the papers' last updates; `has_code` true (false) keeps
        papers with (without) a code link."""
        return _call(lambda: papers.search(lib, query, limit=limit, semantic=semantic,
                                           categories=tuple(categories or ()), order=order,
                                           since=_day(since, "since"), until=_day(until, "until"),
                                           has_code=has_code).to_dict())

    @server.tool()
    def paper(paper_id: str) -> JSON:
        """Everything known about one paper (arXiv id like 2606.04061, with or without version): metadata, code
        link, citations with source and date, novelty with the earlier papers behind it, AI Score with its inputs,
        similar papers, BibTeX, and which steps have not run yet."""
        return _call(lambda: papers.paper_detail(lib, paper_id).to_dict())

    @server.tool()
    def similar(paper_id: str, k: int = 10) -> JSON:
        """The k papers of the library nearest in meaning to one paper."""
        if not 1 <= k <= 100:
            raise ToolError("k must be between 1 and 100")
        return _call(lambda: meaning.similar(lib, paper_id, k=k).to_dict())

    @server.tool()
    def author_profile(name: str, author_id: str | None = None,
                       order: Literal["citations", "newest", "novelty"] = "citations") -> JSON:
        """A researcher's profile: h-index, papers, citations, co-authors, affiliations, novelty, AI Score, and one
        card per paper, and the authors nearest in meaning. An ambiguous name lists the candidates; pass
        `author_id` (OpenAlex id or ORCID) to pick."""
        return _call(lambda: people.author_profile(lib, name, author_id=author_id, order=order, similar=5).to_dict())

    @server.tool()
    def digest(topics: list[str] | None = None) -> JSON:
        """The digest of the user's topics (all, or the named ones): each topic's newest papers, followed authors'
        new papers, and recommendations when the user has a library file."""
        return _call(lambda: digests.build_digest(lib, tuple(topics or ())).to_dict())

    @server.tool()
    def recommend(library_file: str | None = None, days: int | None = None, since: str | None = None,
                  until: str | None = None, limit: int = 20) -> JSON:
        """Papers ranked by likeness to the user's own library (their configured library file, or `library_file`;
        without either, the papers they rated up), from the last `days` before the newest paper, or between `since`
        and `until` (YYYY-MM-DD); each says which library paper it is like and the terms they share."""
        if not 1 <= limit <= 200:
            raise ToolError("limit must be between 1 and 200")
        return _call(lambda: meaning.recommend(lib, library_file, days=days, since=_day(since, "since"),
                                               until=_day(until, "until"), limit=limit).to_dict())

    @server.tool()
    def trends(topics: list[str] | None = None, weeks: int = 26) -> JSON:
        """The user's topics (all, or the named ones) over time: papers per week and the terms rising in each."""
        from paperscope.service.trends import trends_of

        if not 1 <= weeks <= 520:
            raise ToolError("weeks must be between 1 and 520")
        return _call(lambda: trends_of(lib, tuple(topics or ()), weeks=weeks).to_dict())

    return server
