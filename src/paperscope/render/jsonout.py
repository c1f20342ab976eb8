"""The digest as JSON: stable keys in a fixed order, ISO dates, every paper field kept as it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from paperscope.render.model import Digest, DigestSection, abs_url, pdf_url, rfc3339, section_slugs
from paperscope.errors import InputError
from paperscope.models import Author, Paper, Topic, Version


def _iso(dt: datetime | None) -> str | None:
    return rfc3339(dt) if dt is not None else None


def paper_to_dict(paper: Paper) -> dict[str, Any]:
    """Every field of a paper as JSON-ready values (UTC timestamps as `...Z`), plus its abs and PDF URLs."""
    return {
        "id": paper.id,
        "version": paper.version,
        "url": abs_url(paper),
        "pdf_url": pdf_url(paper),
        "title": paper.title,
        "authors": [{"name": a.name, "affiliations": list(a.affiliations)} for a in paper.authors],
        "abstract": paper.abstract,
        "comment": paper.comment,
        "primary_category": paper.primary_category,
        "categories": list(paper.categories),
        "published": _iso(paper.published),
        "updated": rfc3339(paper.updated),
        "versions": [{"version": v.version, "created": _iso(v.created)} for v in paper.versions],
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "license": paper.license,
        "report_no": paper.report_no,
        "submitter": paper.submitter,
        "code_url": paper.code_url,
    }


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def paper_from_dict(data: dict[str, Any]) -> Paper:
    """Inverse of `paper_to_dict` (the URL keys are derived, so they are ignored)."""
    updated = _dt(data.get("updated"))
    if updated is None:
        raise InputError(f"paper {data.get('id', '?')}: field 'updated' is missing")
    return Paper(
        id=data["id"],
        title=data["title"],
        abstract=data["abstract"],
        updated=updated,
        version=data["version"],
        authors=[Author(a["name"], list(a.get("affiliations", []))) for a in data.get("authors", [])],
        comment=data.get("comment", ""),
        journal_ref=data.get("journal_ref", ""),
        doi=data.get("doi", ""),
        license=data.get("license", ""),
        report_no=data.get("report_no", ""),
        submitter=data.get("submitter", ""),
        primary_category=data.get("primary_category", ""),
        categories=list(data.get("categories", [])),
        published=_dt(data.get("published")),
        versions=[Version(v["version"], _dt(v.get("created"))) for v in data.get("versions", [])],
        code_url=data.get("code_url", ""),
    )


def _topic(topic: Topic | None) -> dict[str, Any] | None:
    if topic is None:
        return None
    return {
        "name": topic.name,
        "query": topic.query,
        "categories": list(topic.categories),
        "max_papers": topic.max_papers,
    }


def _section(section: DigestSection, slug: str) -> dict[str, Any]:
    return {
        "title": section.title,
        "slug": slug,
        "note": section.note,
        "topic": _topic(section.topic),
        "count": len(section.papers),
        "papers": [{**paper_to_dict(p), "label": section.labels.get(p.id, "")} for p in section.papers],
    }


def digest_to_dict(digest: Digest) -> dict[str, Any]:
    """The digest as plain dicts and lists; sections and papers keep their order."""
    slugs = section_slugs(digest)
    return {
        "title": digest.title,
        "generated": digest.generated.isoformat(),
        "sections": [_section(s, slug) for s, slug in zip(digest.sections, slugs)],
    }


def render_json(digest: Digest) -> str:
    """The digest as indented JSON text (UTF-8, keys in a fixed order), ending with a newline."""
    return orjson.dumps(digest_to_dict(digest), option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
