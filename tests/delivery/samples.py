"""Small papers and digests for delivery tests."""

from __future__ import annotations

from datetime import date, datetime, timezone

from paperscope.models import Author, Paper
from paperscope.render.model import Digest, DigestSection


def paper(i: int, *, abstract: str = "We propose a method. It works well on benchmarks.") -> Paper:
    t = datetime(2025, 10, 13, tzinfo=timezone.utc)
    return Paper(id=f"2510.{i:05d}", title=f"Paper number {i} <b>bold</b> & co", abstract=abstract, updated=t,
                 published=t, authors=[Author("Ada Lovelace"), Author("Alan Turing")], categories=["cs.CL"],
                 primary_category="cs.CL")


def digest(n: int = 3, *, sections: int = 2) -> Digest:
    return Digest(date(2025, 10, 13), [DigestSection(f"Topic {s}", [paper(s * 100 + i) for i in range(n)])
                                       for s in range(sections)])
