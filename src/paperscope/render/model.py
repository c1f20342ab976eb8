"""What a digest is (sections of papers), plus the small text helpers every renderer shares. No I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote, unquote

from paperscope.models import Paper, Topic, utc


@dataclass(slots=True)
class DigestSection:
    """One block of a digest: usually one topic's papers, in the order the store returned them.

    `note` is said when there is nothing to list (e.g. "arXiv announced nothing today");
    `labels` maps a paper id to a short tag shown next to it (e.g. "new" / "revised").
    """

    title: str
    papers: list[Paper]
    topic: Topic | None = None
    note: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Digest:
    """A dated digest made of sections; renderers turn it into Markdown, HTML, Atom or JSON."""

    generated: date
    sections: list[DigestSection]
    title: str = "Daily Papers"


_WS = re.compile(r"\s+")
# Characters XML 1.0 forbids (C0 controls except tab/newline/CR, lone surrogates, U+FFFE/U+FFFF).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def one_line(text: str) -> str:
    """Collapse every run of whitespace (arXiv's line folding included) to one space and strip."""
    return _WS.sub(" ", text).strip()


def xml_text(text: str) -> str:
    """Drop the characters an XML/HTML document cannot carry (they would make the output invalid)."""
    return _XML_ILLEGAL.sub("", text)


def clean_text(text: object) -> str:
    """One line of text any document can carry: whitespace runs collapsed, NUL and other C0 controls dropped."""
    # one_line first turns form feeds and the like into spaces; dropping the rest can leave a double space.
    return one_line(xml_text(one_line(str(text))))


SLUG_MAX = 80


def slugify(text: str) -> str:
    """A stable ASCII anchor/id fragment: 'Graph Neural Networks' -> 'graph-neural-networks'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    # slugs name feed files: 80 characters keep any file system happy (a suffix like -12 may follow)
    return slug[:SLUG_MAX].strip("-") or "section"


def unique_slugs(titles: list[str]) -> list[str]:
    """Slugs for titles, suffixed -2, -3... where two titles would collide: the one slug rule of paperscope.

    Section anchors, digest.json's `slug`, Atom feed ids and feed file names all come from here, so
    "LLM Agents" and "LLM agents" are `llm-agents` and `llm-agents-2` everywhere.
    """
    seen: dict[str, int] = {}
    out = []
    for title in titles:
        base = slugify(title)
        slug = base
        while slug in seen:
            seen[base] += 1
            slug = f"{base}-{seen[base]}"
        seen.setdefault(slug, 1)
        out.append(slug)
    return out


def section_slugs(digest: Digest) -> list[str]:
    """The unique slug of each section of `digest`, in order (anchors, JSON, feed ids, feed file names)."""
    return unique_slugs([s.title for s in digest.sections])


def day(dt: datetime) -> str:
    """The UTC calendar date of a timestamp, YYYY-MM-DD."""
    return utc(dt).date().isoformat()


def rfc3339(dt: datetime) -> str:
    """A UTC timestamp as RFC 3339 / ISO 8601 with a Z suffix."""
    return utc(dt).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Characters an arXiv id may keep as they are in a URL; anything else in an id (it comes from outside) is encoded.
_ID_SAFE = "/.-_~"
_ABS_URL = re.compile(r"^https?://arxiv\.org/abs/(?P<id>.+)v(?P<v>\d+)$")


def abs_url(paper: Paper) -> str:
    """The abstract page of the version shown, the id percent-encoded (equal to `paper.abs_url` for real ids)."""
    return f"http://arxiv.org/abs/{quote(paper.id, safe=_ID_SAFE)}v{paper.version}"


def pdf_url(paper: Paper) -> str:
    """The PDF link of the version shown (id percent-encoded like `abs_url`)."""
    return f"http://arxiv.org/pdf/{quote(paper.id, safe=_ID_SAFE)}v{paper.version}"


def split_abs_url(url: str) -> tuple[str, int] | None:
    """Invert `abs_url`: (id, version), or None when `url` is not an arXiv abstract link."""
    m = _ABS_URL.match(url)
    return (unquote(m["id"]), int(m["v"])) if m else None


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with spaces, quotes, brackets, pipes and parentheses percent-encoded; None for other schemes.

    Code links and DOIs come from untrusted abstract text: `javascript:` and friends are never made links.
    """
    url = clean_text(url or "")
    if not re.match(r"^https?://[^\s/]", url, re.IGNORECASE):
        return None
    return quote(url, safe=":/?#@!$&*+,;=%~-._")
