"""The store contract: small protocols composed into one `Store`, and the records that go in and come out.

Every layer above the store is typed against `Store`, never against a backend class. A backend compiles
`PaperQuery` (the parsed query AST plus categories) in its own syntax: FTS5 for SQLite (`store/fts5.py`),
tsquery for PostgreSQL. `tests/store_contract.py` is the suite every backend must pass unchanged.

Dates in records are ISO text in UTC ('YYYY-MM-DDTHH:MM:SSZ'), as stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypedDict, runtime_checkable

import numpy as np

from paperscope.models import Paper, UpsertStats
from paperscope.query import Query

if TYPE_CHECKING:  # records of the citation sources, only named in signatures
    from paperscope.sources.citations import AuthorStats, PaperCitations

Progress = Callable[[int], None]
# A paper's code link from its abstract and comment ('' or None for none): the store is given one, it computes none.
CodeLinkFinder = Callable[[str, str], str | None]
# An author string -> its author-index keys (scoring.names.author_index_keys; the store computes none itself).
AuthorKeyer = Callable[[str], Sequence[str]]
JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]
JSONDict = dict[str, JSONValue]


@dataclass(frozen=True, slots=True)
class PaperQuery:
    """What a search selects: a parsed query, categories (any of them), words that must all be in the title, the
    span of last updates (`since` and `until` inclusive, aware datetimes; None: unbounded), and whether the paper
    has a code link (None: either)."""

    query: Query | None = None
    categories: tuple[str, ...] = ()
    title_words: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    has_code: bool | None = None

    @property
    def bounded(self) -> bool:
        """Whether it selects by more than text and categories (dates or code), which the ranking lists cannot."""
        return self.since is not None or self.until is not None or self.has_code is not None


# ---------------------------------------------------------------------------------------------- records
class CitationRecord(TypedDict):
    source: str
    fetched: str
    cited_by_count: int | None
    influential: int | None
    counts_by_year: dict[int, int]
    work_id: str | None
    doi: str | None


class AuthorshipRecord(TypedDict):
    position: int
    name: str
    openalex_id: str | None
    orcid: str | None
    s2_id: str | None
    institutions: list[JSONDict]
    source: str


class AuthorStatsRecord(TypedDict):
    author_id: str
    source: str
    fetched: str
    name: str | None
    orcid: str | None
    h_index: int | None
    i10_index: int | None
    two_year_mean: float | None
    works_count: int | None
    cited_by_count: int | None
    counts_by_year: dict[int, int]
    institutions: list[JSONDict]


class NoveltyRecord(TypedDict):
    k: int
    value: float | None
    percentile: float | None
    reason: str
    neighbours: list[tuple[str, float]]
    computed: str


class ScoreRecord(TypedDict):
    value: float
    method: str
    inputs: JSONDict
    computed: str


class FollowRecord(TypedDict):
    key: str
    name: str
    since: str


class EmbeddingMatrix(NamedTuple):
    """Every embedded paper of one model: paper keys, ids, vectors (rows), (first-submitted date, category)."""

    keys: np.ndarray
    ids: list[str]
    vectors: np.ndarray
    meta: list[tuple[str, str]]


class EmbeddingBatch(NamedTuple):
    """Embeddings written after a point (embeddings rowid), oldest first: a copy elsewhere catches up with these."""

    last: int  # the highest embeddings rowid in the batch (pass it back for the next batch)
    keys: np.ndarray  # paper keys (int64)
    ids: list[str]
    vectors: np.ndarray  # (n, dim) float32
    days: np.ndarray  # first-submitted day, days since 1970-01-01 (int32)
    categories: list[str]  # primary category


class CohortRow(NamedTuple):
    """A stored novelty of one paper, as the cohort re-ranking reads it."""

    id: str
    cohort: str
    value: float | None
    percentile: float | None
    reason: str


ToEmbed = tuple[str, int, str, str]  # (id, version, title, abstract)
EmbeddingRow = tuple[str, int, np.ndarray]  # (id, version, vector)
NoveltyRow = tuple[str, float | None, float | None, str, list[tuple[str, float]]]  # id, value, pct, reason, nbrs
ScoreRow = tuple[str, float, str, JSONDict]  # id, value, method, inputs


# ---------------------------------------------------------------------------------------------- protocols
@runtime_checkable
class PaperStore(Protocol):
    """Papers, their versions and the full-text index."""

    path: str
    readonly: bool

    def upsert_papers(self, papers: Iterable[Paper], *, progress: Progress | None = None,
                      detect_code: bool = True, code_urls: Mapping[str, str] | None = None) -> UpsertStats:
        """Add or update papers: a newer version replaces the text and joins the history; an older or equal
        one never overwrites (it may only fill empty fields). `code_urls`: code links already found, by id."""
        ...
    def bulk(self) -> AbstractContextManager[None]:
        """A context for one big import (upserts inside it may defer index work to its end)."""
        ...
    def finish_import(self, *, progress: Progress | None = None) -> int:
        """After imports: bring the full-text index in step and fill code links; returns papers checked."""
        ...
    def get_paper(self, arxiv_id: str) -> Paper | None: ...
    def get_papers(self, arxiv_ids: Sequence[str]) -> list[Paper]: ...
    def titles_and_authors(self, keys: Sequence[int]) -> dict[int, tuple[str, list[str]]]:
        """(title, author names in order) by paper key (the index's keys, `keys_for_ids`) of the papers among these
        keys that are in the library: what telling near-duplicates apart reads, without the cost of whole `Paper`s
        (and read by key, not id: one B-tree instead of two, 2.3x as fast for the 93,000 of a chunk)."""
        ...
    def iter_papers(self, *, batch: int = 5000) -> Iterator[Paper]: ...
    def count(self) -> int: ...
    def newest_matching(self, q: PaperQuery, limit: int, *, within: Sequence[str] | None = None) -> list[Paper]:
        """The newest `limit` papers matching `q` by (last update, id) descending; `within` restricts to ids."""
        ...
    def count_matching(self, q: PaperQuery, *, at_most: int | None = None) -> int:
        """How many papers match `q`; counting stops at `at_most` (a page's "10,000+" costs no more than that)."""
        ...
    def search(self, q: PaperQuery, *, order: str = "relevance", limit: int = 50) -> list[Paper]: ...
    def recent_ids(self, since_iso: str, *, limit: int = 50_000) -> list[str]: ...
    def ids_by_doi(self, dois: Sequence[str]) -> dict[str, str]: ...
    def ids_for_keys(self, keys: Sequence[int]) -> dict[int, str]: ...
    def author_candidates(self, surname_tokens: Sequence[str], *,
                          limit: int = 200_000) -> list[tuple[str, list[str]]]: ...
    def author_index(self, keys: Sequence[str], prefixes: Sequence[str] = (),
                     keep: Callable[[str], bool] | None = None, *,
                     names: Sequence[str] | None = None) -> list[tuple[str, int, str]] | None:
        """(arxiv_id, author position, author string) under the author-index keys (or key prefixes) whose
        string `keep` accepts (and, given `names`, is one of them), oldest update first; None while the index is
        not filled (use `author_candidates`)."""
        ...
    def author_name_counts(self, keys: Sequence[str], prefixes: Sequence[str] = ()) -> list[tuple[str, int]] | None:
        """Each distinct author string under the author-index keys (or key prefixes) with its number of rows there
        (a string under two of the keys counts under each); None while the index is not filled."""
        ...
    def integrity_check(self) -> None:
        """Raise StoreError when the stored data or its full-text index is damaged."""
        ...
    def cache_path(self, suffix: str) -> Path | None:
        """A file beside the library for caches derived from it (None for a library in memory)."""
        ...


ChangeRow = tuple[int, int, str]  # (seq, paper key, arxiv id)


@runtime_checkable
class ChangeLog(Protocol):
    """Which papers are new or moved to a newer version, in the order they were written: what later stages
    (code links, embeddings, novelty, scores) read to work on only what changed since they last looked."""

    def change_seq(self) -> int:
        """The newest change's number (0 when nothing was ever written); numbers only grow."""
        ...
    def changed_since(self, seq: int, *, limit: int | None = None) -> list[ChangeRow]:
        """Changes numbered above `seq`, oldest first (a paper changed twice appears twice)."""
        ...
    def prune_changes(self, upto: int) -> int:
        """Forget changes numbered `upto` and below (never ones the store itself has yet to read); returns how
        many were removed."""
        ...


@runtime_checkable
class StateStore(Protocol):
    """Small JSON values by key: checkpoints of fetches and harvests, the active model, run records."""

    def get_state(self, key: str, default: JSONValue = None) -> JSONValue: ...
    def set_state(self, key: str, value: JSONValue) -> None: ...


@runtime_checkable
class CitationStore(Protocol):
    """Citation figures per paper (with source and date), authorships, and author figures."""

    def save_citations(self, results: Iterable[PaperCitations]) -> int: ...
    def count_with_citations(self) -> int: ...
    def citations_for(self, arxiv_ids: Sequence[str]) -> dict[str, CitationRecord]: ...
    def authorships_for(self, arxiv_ids: Sequence[str]) -> dict[str, list[AuthorshipRecord]]: ...
    def ids_needing_citations(self, older_than: datetime, *, limit: int | None = None) -> list[str]: ...
    def save_author_stats(self, stats: Iterable[AuthorStats]) -> None: ...
    def author_stats(self, author_id: str) -> AuthorStatsRecord | None: ...


@runtime_checkable
class VectorStore(Protocol):
    """Embeddings per (paper, model), the active model, novelty evidence and AI Scores."""

    def active_model(self) -> str | None: ...
    def set_active_model(self, name: str, *, replace: bool = False) -> None: ...
    def papers_to_embed(self, model: str, *, batch: int = 2000, keys: Sequence[int] | None = None
                        ) -> Iterator[list[ToEmbed]]: ...
    def count_to_embed(self, model: str) -> int: ...
    def count_embedded(self, model: str) -> int: ...
    def save_embeddings(self, model: str, rows: Iterable[EmbeddingRow]) -> int: ...
    def embedding_matrix(self, model: str) -> EmbeddingMatrix: ...
    def embeddings_version(self) -> int:
        """A number that changes whenever embeddings are added or replaced."""
        ...
    def embeddings_since(self, model: str, after: int, *, limit: int = 100_000) -> EmbeddingBatch:
        """Up to `limit` embeddings of `model` written after rowid `after` (a replaced one counts as written anew)."""
        ...
    def embeddings_sample(self, model: str, n: int, *, seed: int = 0) -> EmbeddingBatch: ...
    def embeddings_epoch(self) -> int:
        """A number that changes when embeddings are removed: copies must then be rebuilt, not extended."""
        ...
    def embedding_of(self, model: str, arxiv_id: str) -> np.ndarray | None: ...
    def embeddings_of(self, model: str, arxiv_ids: Sequence[str]) -> dict[str, np.ndarray]: ...
    def keys_for_ids(self, arxiv_ids: Sequence[str]) -> dict[str, int]: ...
    def key_id_table(self) -> tuple[np.ndarray, list[str]]: ...
    def save_novelty(self, model: str, k: int, results: Iterable[NoveltyRow], computed: datetime, *,
                     cohorts: Mapping[str, str] | None = None) -> None: ...
    def novelty_for(self, ids: Sequence[str], model: str | None = None) -> dict[str, NoveltyRecord]: ...
    def novelty_cohort_sizes(self, model: str) -> dict[str, int]:
        """Scored papers per novelty cohort ('category|year')."""
        ...
    def novelty_in_cohorts(self, model: str, cohorts: Sequence[str]) -> list[CohortRow]: ...
    def novelty_values(self, model: str, cohorts: Sequence[str] | None = None) -> np.ndarray:
        """The raw novelty values (no None) of the papers in these cohorts, or of every paper, in no order."""
        ...
    def set_percentiles(self, model: str, rows: Iterable[tuple[str, float | None, str]]) -> int:
        """Store new (id, percentile, reason) for papers already scored; returns how many rows changed."""
        ...
    def save_scores(self, rows: Iterable[ScoreRow], computed: datetime) -> None: ...
    def scores_for(self, ids: Sequence[str]) -> dict[str, ScoreRecord]: ...


@runtime_checkable
class FollowStore(Protocol):
    """Authors a researcher follows."""

    def follow(self, key: str, name: str, since: datetime) -> bool: ...
    def unfollow(self, key: str) -> bool: ...
    def following(self) -> list[FollowRecord]: ...


@runtime_checkable
class RatingStore(Protocol):
    """A researcher's feedback on papers: 👍 (up), 👎 (down) and not-interested."""

    def rate(self, arxiv_id: str, rating: str, when: datetime) -> None: ...
    def ratings(self) -> dict[str, str]: ...
    def mark_not_interested(self, ids: Sequence[str], when: datetime) -> None: ...
    def not_interested(self) -> set[str]: ...


class VectorProblems(NamedTuple):
    orphans: int  # embeddings of papers no longer in the library
    stale: int  # embeddings made from an older version of their paper


@runtime_checkable
class MaintenanceStore(Protocol):
    """Checks and repairs (`paperscope check`)."""

    def database_problems(self) -> list[str]:
        """What the backend's own consistency check reports (empty when sound)."""
        ...
    def index_problem(self) -> str | None:
        """Why the full-text index disagrees with the papers, or None."""
        ...
    def repair_index(self) -> list[str]:
        """Rebuild a damaged full-text index and remove its scratch files; returns what was done."""
        ...
    def rebuild_index(self) -> None: ...
    def vector_problems(self, model: str) -> VectorProblems: ...
    def drop_orphan_embeddings(self) -> int: ...
    def scratch_files(self) -> list[Path]:
        """Files a killed process left beside the library (never ones a running process is using)."""
        ...


@runtime_checkable
class Store(PaperStore, ChangeLog, StateStore, CitationStore, VectorStore, FollowStore, RatingStore, MaintenanceStore,
            Protocol):
    """Everything a library backend provides."""

    def close(self) -> None: ...
