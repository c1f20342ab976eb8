"""How a paper is kept in a library's rows, whatever the backend: author and version lists as JSON text, code
links found from the texts, U+0000 removed, and two records of one paper merged. Shared by the SQLite and the
PostgreSQL stores (imports nothing of either)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson

from paperscope.errors import ModelMismatchError
from paperscope.models import Author, Paper, Version
from paperscope.store.api import CodeLinkFinder
from paperscope.store.codec import ISO_JSON, iso, json_date, no_nul, parse_iso as _parse_iso


def _authors_json(authors: list[Author]) -> str:
    return orjson.dumps([[a.name, a.affiliations] if a.affiliations else a.name for a in authors]).decode()


def _authors_from_json(raw: str | bytes) -> list[Author]:
    out = []
    for item in orjson.loads(raw):
        if isinstance(item, str):
            out.append(Author(item))
        else:
            out.append(Author(item[0], list(item[1])))
    return out


def _versions_json(versions: list[Version]) -> str:
    return orjson.dumps([[v.version, json_date(v.created)] for v in versions], option=ISO_JSON).decode()


def _versions_from_json(raw: str | bytes) -> list[Version]:
    return [Version(v, _parse_iso(c)) for v, c in orjson.loads(raw)]


_CODE_HOSTS = ("github", "gitlab", "huggingface", "codeberg", "bitbucket")
_CODE_WORDS = ("code", "implement", "available", "release", "repo", "software", "source", "package", "pypi", "cran",
               "toolkit", "library", "framework")


def _maybe_code(text: str) -> bool:
    t = text.lower()
    if any(h in t for h in _CODE_HOSTS):
        return True
    return ("http" in t or "www." in t) and any(w in t for w in _CODE_WORDS)


def _code_url_text(abstract: str, comment: str, finder: CodeLinkFinder | None) -> str | None:
    """The code link the finder sees in abstract or comment ('' for none; None when there is no finder, so the
    paper stays unchecked). Most abstracts name no link at all: the detector is skipped for them (it matters on
    1M-paper imports)."""
    if finder is None:
        return None
    if not _maybe_code(comment) and not _maybe_code(abstract):
        return ""
    return finder(abstract, comment) or ""


def _has_nul(p: Paper) -> bool:
    # On the hot path of every write: the long texts are searched in C one by one, the short ones joined first.
    if "\x00" in p.abstract or "\x00" in p.title or "\x00" in p.comment:
        return True
    try:
        if "\x00" in "".join((p.id, p.primary_category, p.journal_ref, p.doi, p.license, p.report_no, p.submitter,
                              *p.categories)):
            return True
        for a in p.authors:
            if "\x00" in a.name or (a.affiliations and "\x00" in "".join(a.affiliations)):
                return True
    except TypeError:  # a field left None by a source: look at each text that is there
        texts = (p.id, p.primary_category, p.journal_ref, p.doi, p.license, p.report_no, p.submitter,
                 *p.categories, *(a.name for a in p.authors), *(f for a in p.authors for f in a.affiliations))
        return any("\x00" in t for t in texts if t)
    return False


def _without_nul(p: Paper) -> Paper:
    """`p` with U+0000 removed from every text, so what is stored is what the next import compares with."""
    if not _has_nul(p):
        return p
    return dataclasses.replace(
        p, id=no_nul(p.id), title=no_nul(p.title), abstract=no_nul(p.abstract), comment=no_nul(p.comment),
        primary_category=no_nul(p.primary_category), journal_ref=no_nul(p.journal_ref), doi=no_nul(p.doi),
        license=no_nul(p.license), report_no=no_nul(p.report_no), submitter=no_nul(p.submitter),
        categories=[no_nul(c) for c in p.categories],
        authors=[Author(no_nul(a.name), [no_nul(f) for f in a.affiliations]) for a in p.authors])


def stored_code_url(p: Paper, finder: CodeLinkFinder) -> str:
    """The code link this store keeps for `p` when it finds links with `finder` ('' for none): what a second
    process reading the same file can work out ahead of the writer (`upsert_papers(code_urls=...)`)."""
    return p.code_url or stored_code_url_of_text(p.abstract, p.comment, finder)


def stored_code_url_of_text(abstract: str, comment: str, finder: CodeLinkFinder) -> str:
    """`stored_code_url` of a paper with this abstract and comment and no code link of its own (a snapshot's
    records), from the two texts alone."""
    return _code_url_text(no_nul(abstract), no_nul(comment), finder) or ""


def merge_versions(old: list[Version], new: list[Version]) -> list[Version]:
    """Union of two version histories by number; a known date beats an unknown one, the older record wins ties."""
    by_num: dict[int, Version] = {v.version: v for v in old}
    for v in new:
        have = by_num.get(v.version)
        if have is None or (have.created is None and v.created is not None):
            by_num[v.version] = Version(v.version, v.created)
    return [by_num[k] for k in sorted(by_num)]


def _newer(a: Paper, b: Paper) -> Paper:
    """Of two records of the same paper, the one with the higher version (the first on a tie)."""
    if b.version > a.version:
        b.versions = merge_versions(a.versions, b.versions)
        return b
    a.versions = merge_versions(a.versions, b.versions)
    return a


FILLABLE = ("journal_ref", "doi", "license", "report_no", "submitter")


def fills_from_older(p: Paper, old: Mapping[str, Any], old_versions: list[Version], merged: list[Version]
                     ) -> dict[str, Any]:
    """What a record of an older or equal version may add to the stored paper: the fields still empty there (a DOI
    added later), a first-submitted date, versions it did not know, and, for the same version, the authors'
    affiliations when the stored authors have none. `old` holds the stored columns by name; the result maps columns
    to new values ("authors_json" in it means the paper's author rows change too)."""
    fills: dict[str, Any] = {}
    for col in FILLABLE:
        value = getattr(p, col)
        if value and not old[col]:
            fills[col] = value
    if p.published is not None and old["published"] is None:
        fills["published"] = iso(p.published)
    if merged != old_versions:
        fills["versions_json"] = _versions_json(merged)
    if p.version == old["version"] and any(a.affiliations for a in p.authors):
        old_authors = _authors_from_json(old["authors_json"])
        if not any(a.affiliations for a in old_authors) and len(old_authors) == len(p.authors):
            fills["authors_json"] = _authors_json(p.authors)
    return fills


def model_mismatch(current: str, name: str) -> ModelMismatchError:
    """The error for asking a library whose vectors come from `current` to take `name`'s."""
    return ModelMismatchError(
        f"the library's vectors come from {current!r}, not {name!r}: run `paperscope embed --model {name} "
        "--replace` to re-embed everything with the new model")
