"""Citation and identity data for arXiv papers, and the two-source lookup that fills it.

Identifiers are kept in their short, comparable forms: OpenAlex ids as `W…`/`A…`/`I…`, ORCID as
`0000-0002-1825-0097`, ROR as `052gg0110`, DOIs bare and lower-case (`10.1162/99608f92.18da72db`).
`fetch_citations` asks the primary source (OpenAlex) first and the fallback (Semantic Scholar) only
for the ids the primary did not find.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, Protocol

SourceName = Literal["openalex", "semanticscholar"]
# progress(source, ids_done, ids_total): called after each batch a source finishes.
Progress = Callable[[str, int, int], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Institution:
    """An institution as a source names it, with its ROR id and ISO country code when known."""

    name: str
    ror: str | None
    country: str | None
    acronym: str | None = None
    openalex_id: str | None = None


@dataclass(slots=True)
class Authorship:
    """One author of one paper, at a 0-based position, with the ids the source linked to them.

    `s2_id` and `h_index` are filled by Semantic Scholar only (OpenAlex gives h-index per author
    through `OpenAlex.authors`, not per paper).
    """

    position: int
    name: str
    openalex_id: str | None
    orcid: str | None
    institutions: list[Institution] = field(default_factory=list)
    s2_id: str | None = None
    h_index: int | None = None


@dataclass(slots=True)
class PaperCitations:
    """What one source knows about one arXiv paper's citations and authors, and when it was asked."""

    arxiv_id: str
    source: SourceName
    fetched: datetime
    cited_by_count: int | None
    counts_by_year: dict[int, int]
    influential_citations: int | None
    authorships: list[Authorship]
    work_id: str | None
    doi: str | None


@dataclass(slots=True)
class AuthorStats:
    """An author's profile figures from one source (OpenAlex): h-index, i10, 2-year citedness, counts."""

    source: SourceName
    fetched: datetime
    author_id: str
    name: str
    orcid: str | None
    h_index: int | None
    i10_index: int | None
    two_year_mean_citedness: float | None
    works_count: int | None
    cited_by_count: int | None
    counts_by_year: dict[int, int]
    institutions: list[Institution]


class CitationSource(Protocol):
    """Anything that maps arXiv ids to PaperCitations; ids it cannot find are simply absent."""

    name: SourceName

    def fetch(self, arxiv_ids: Sequence[str], progress: Progress | None = None) -> dict[str, PaperCitations]:
        ...


def fetch_citations(
    ids: Sequence[str],
    primary: CitationSource,
    fallback: CitationSource | None = None,
    progress: Progress | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, PaperCitations]:
    """Look every id up in `primary`, then the ids it missed in `fallback`; each result says which source
    answered and when (the clock is read once per source, after it answers)."""
    wanted = list(dict.fromkeys(ids))
    found = _stamped(primary.fetch(wanted, progress), primary.name, clock())
    missing = [i for i in wanted if i not in found]
    if fallback is not None and missing:
        found.update(_stamped(fallback.fetch(missing, progress), fallback.name, clock()))
    return {i: found[i] for i in wanted if i in found}


def _stamped(results: dict[str, PaperCitations], source: SourceName, when: datetime) -> dict[str, PaperCitations]:
    return {k: replace(v, source=source, fetched=when) for k, v in results.items()}
