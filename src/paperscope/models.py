"""Plain data: papers, authors, versions, topics. No I/O, imports nothing of ours."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

UTC = timezone.utc

_VERSIONED = re.compile(r"^(?P<id>.+?)v(?P<v>\d+)$")
_NEW_ID = re.compile(r"^\d{4}\.\d{4,5}$")
_OLD_ID = re.compile(r"^[a-z][a-z\-]*(\.[A-Z]{2})?/\d{7}$")


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Split '2502.20780v3' or 'http://arxiv.org/abs/hep-th/9901001v1' into (id, version)."""
    s = raw.strip()
    for prefix in ("https://", "http://"):
        if s.startswith(prefix):
            s = s[len(prefix):]
            s = s.split("/abs/", 1)[-1] if "/abs/" in s else s.split("/", 1)[-1]
            break
    if s.lower().startswith("arxiv:"):
        s = s[6:]
    m = _VERSIONED.match(s)
    if m and (_NEW_ID.match(m["id"]) or _OLD_ID.match(m["id"])):
        return m["id"], int(m["v"])
    return s, None


def is_arxiv_id(s: str) -> bool:
    """True for a bare arXiv id without version, new ('2502.20780') or old style ('hep-th/9901001')."""
    return bool(_NEW_ID.match(s) or _OLD_ID.match(s))


@dataclass(slots=True)
class Version:
    """One version of a paper as arXiv lists it: v1 is the first submission."""

    version: int
    created: datetime | None = None


@dataclass(slots=True)
class Author:
    """An author as written on the paper, in order, with affiliations when the source gives them."""

    name: str
    affiliations: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Paper:
    """One arXiv paper, keyed by its id without version.

    `published` is the first-submitted (v1) time, `updated` the time of the latest version.
    Both are timezone-aware UTC datetimes; `updated` is always set.
    """

    id: str
    title: str
    abstract: str
    updated: datetime
    version: int = 1
    authors: list[Author] = field(default_factory=list)
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""
    license: str = ""
    report_no: str = ""
    submitter: str = ""
    primary_category: str = ""
    categories: list[str] = field(default_factory=list)
    published: datetime | None = None
    versions: list[Version] = field(default_factory=list)
    code_url: str = ""  # derived by the store from abstract and comment

    @property
    def has_code(self) -> bool:
        return bool(self.code_url)

    @property
    def abs_url(self) -> str:
        return f"http://arxiv.org/abs/{self.id}v{self.version}"

    @property
    def author_names(self) -> list[str]:
        return [a.name for a in self.authors]

    @property
    def first_submitted(self) -> datetime:
        return self.published or self.updated


@dataclass(slots=True)
class Topic:
    """A followed topic: a query in paperscope's syntax, optional arXiv categories, how many papers to keep."""

    name: str
    query: str
    categories: list[str] = field(default_factory=list)
    max_papers: int = 100
    order: str = "date"  # date (newest first), novelty (most novel first) or fit (closest to your library)


@dataclass(slots=True)
class UpsertStats:
    """What a write did to the library."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    new_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged

    def add(self, other: "UpsertStats") -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.new_ids.extend(other.new_ids)
        self.updated_ids.extend(other.updated_ids)


def utc(dt: datetime | date) -> datetime:
    """Make any date/datetime a timezone-aware UTC datetime."""
    if not isinstance(dt, datetime):
        return datetime(dt.year, dt.month, dt.day, tzinfo=UTC)
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


@dataclass(slots=True)
class Figure:
    """One number shown to a researcher, with where it came from ("library", "OpenAlex, 2026-11-20", ...).

    `value` None means unknown and renders as an em dash; `inputs` lists what the figure was computed from.
    """

    label: str
    value: int | float | str | None
    source: str
    inputs: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class PaperCard:
    """A paper as shown on an author's profile: category code, date label, authors and affiliation tags."""

    paper: Paper
    category_code: str
    date_label: str
    authors_label: str
    affiliation_tags: list[str] = field(default_factory=list)
    citations: int | None = None
    novelty: float | None = None  # percentile 0-100 within category and year, when known
    score: float | None = None  # AI Score 0-100, when known


@dataclass(slots=True)
class AuthorProfile:
    """Everything an author page shows. Header figures first, then the details, then one card per paper."""

    name: str
    key: str
    generated: date
    h_index: Figure
    papers: Figure
    citations: Figure
    novelty: Figure
    score: Figure
    names: list[str] = field(default_factory=list)
    openalex_id: str | None = None
    orcid: str | None = None
    figures: list[Figure] = field(default_factory=list)
    citations_per_year: dict[int, int] = field(default_factory=dict)
    categories: list[tuple[str, float]] = field(default_factory=list)
    coauthors: list[tuple[str, int]] = field(default_factory=list)
    affiliations: list[tuple[str, str]] = field(default_factory=list)  # (tag, institution name)
    cards: list[PaperCard] = field(default_factory=list)
    order: str = "citations"
    followed: bool = False
