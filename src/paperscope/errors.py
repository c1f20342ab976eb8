"""Every error paperscope raises on purpose.

PaperscopeError
 ├── NotFound             no such paper, author, topic or library (`kind`, `key`)
 ├── NotReady             the library lacks a step (`needs`: "embed", "novelty", "score", "enrich", ...)
 ├── Ambiguous            a name that fits several things (`candidates`)
 ├── ConfigError          bad config file or setting (names file, line, field)
 ├── QueryError           a topic/search query that does not parse
 ├── InputError           a bad input file (names file and line)
 ├── StoreError           the library cannot be read or written
 │    └── ModelMismatchError  vectors of another embedding model asked for (`needs`: "embed --replace")
 └── SourceError          anything that went wrong talking to a remote source
      ├── HTTPError       a non-retryable HTTP status, or retries exhausted
      │    ├── RateLimitedError  429/503 after all retries
      │    └── UnreachableError  no connection at all (DNS failure, refused): stop, do not retry the run
      ├── ArxivAPIError   the arXiv API answered with an error entry
      ├── UnexpectedEmptyPageError  a page came back empty where results were promised
      └── ParseError      a response that is not the format it claims to be
           └── MalformedError  a body that does not parse to its end (most often cut off in transit;
                               the HTTP client asks again, as for a 5xx)
"""

from __future__ import annotations


class PaperscopeError(Exception):
    """Base of every paperscope error; its message is meant for the user, on one line."""


class NotFound(PaperscopeError):
    """Something asked for by name or id is not in the library. Messages never say which command to run:
    each interface words its own hint from `kind`."""

    def __init__(self, message: str, *, kind: str = "", key: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key


class NotReady(PaperscopeError):
    """The library has not had a step yet that this needs; `needs` names the step (embed, novelty, score, ...)."""

    def __init__(self, message: str, *, needs: str) -> None:
        super().__init__(message)
        self.needs = needs


class Ambiguous(PaperscopeError):
    """A name that fits several people (or topics); `candidates` lists them, most likely first."""

    def __init__(self, message: str, *, candidates: list[object]) -> None:
        super().__init__(message)
        self.candidates = candidates


class ConfigError(PaperscopeError):
    pass


class QueryError(PaperscopeError):
    pass


class InputError(PaperscopeError):
    pass


class StoreError(PaperscopeError):
    pass


class ModelMismatchError(StoreError):
    pass


class SourceError(PaperscopeError):
    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.url = url


class HTTPError(SourceError):
    def __init__(self, message: str, url: str = "", status: int | None = None) -> None:
        super().__init__(message, url)
        self.status = status


class RateLimitedError(HTTPError):
    pass


class UnreachableError(HTTPError):
    """The host could not be connected to at all; every later request to it would fail the same way."""


class ArxivAPIError(SourceError):
    pass


class UnexpectedEmptyPageError(SourceError):
    pass


class ParseError(SourceError):
    pass


class MalformedError(ParseError):
    pass
