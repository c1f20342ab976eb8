"""Fast parser for the arXiv API's Atom responses (export.arxiv.org/api/query) into `Paper`s.

Both shapes arXiv has served are read: the current one (namespaces declared once on <feed>, https ids) and
the legacy one (a namespace declaration on every arxiv:/opensearch: element, `<title type="html">`); a
namespace-aware parser makes them the same tree.

Speed: the document is parsed in C by lxml when it is installed (the whole parse runs about twice as fast as
with the stdlib's expat tree builder; see bench/bench_atom.py), else by xml.etree; both give the same Element
API, so one code path reads either. Each entry is then read in one
pass over its children, dispatching on the tag string, and `Paper` is built positionally. Whitespace
collapsing, category checks and date parsing take fast paths for the common shapes.

Entries that cannot become a Paper (no id or one that is not an arXiv id, a version out of range, a date
that does not parse or is out of range; see sources/validate.py) are skipped and listed in
`AtomFeed.skipped`, so one bad record does not make a whole page, and every later fetch, fail.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as _ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paperscope.errors import ArxivAPIError, MalformedError, ParseError
from paperscope.models import UTC, Author, Paper, Version, split_arxiv_id
from paperscope.sources.validate import check_date, check_id, check_version

try:  # lxml builds the tree about twice as fast as expat's builder; the stdlib path stays as a fallback
    from lxml import etree as _lxml

    _PARSER: Any = _lxml.XMLParser(
        resolve_entities=False, no_network=True, remove_blank_text=True, collect_ids=False, huge_tree=False
    )
    _SYNTAX_ERRORS: tuple[type[Exception], ...] = (_lxml.XMLSyntaxError,)
except ImportError:  # pragma: no cover - exercised only where lxml is absent
    _lxml = None
    _PARSER = None
    _SYNTAX_ERRORS = ()

log = logging.getLogger(__name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
DC_NS = "http://purl.org/dc/elements/1.1/"

_A = "{" + ATOM_NS + "}"
_X = "{" + ARXIV_NS + "}"
_O = "{" + OPENSEARCH_NS + "}"
FEED = _A + "feed"
ENTRY = _A + "entry"
ID = _A + "id"
TITLE = _A + "title"
SUBTITLE = _A + "subtitle"
SUMMARY = _A + "summary"
UPDATED = _A + "updated"
PUBLISHED = _A + "published"
AUTHOR = _A + "author"
NAME = _A + "name"
CATEGORY = _A + "category"
RIGHTS = _A + "rights"
AFFILIATION = _X + "affiliation"
COMMENT = _X + "comment"
JOURNAL_REF = _X + "journal_ref"
JOURNAL_REFERENCE = _X + "journal_reference"  # the announcement feed's spelling
DOI = _X + "doi"
DOI_UPPER = _X + "DOI"  # the announcement feed's spelling
PRIMARY = _X + "primary_category"
LICENSE = _X + "license"
DC_RIGHTS = "{" + DC_NS + "}rights"
TOTAL = _O + "totalResults"
START = _O + "startIndex"
PER_PAGE = _O + "itemsPerPage"

# arXiv categories ('cs.CL', 'astro-ph', 'cond-mat.mes-hall'); ACM ('I.2.7') and MSC ('68T50') codes, which the
# API also sends as <category>, start with a capital or a digit and fail this.
_CATEGORY = re.compile(r"[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?\Z")
_category_ok: dict[str, bool] = {}  # terms repeat on every page; remember the verdict
_fromiso = datetime.fromisoformat


@dataclass(slots=True)
class AtomFeed:
    """One API response page: its papers and the OpenSearch paging numbers."""

    entries: list[Paper] = field(default_factory=list)
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None
    updated: datetime | None = None
    title: str = ""
    skipped: list[str] = field(default_factory=list)
    url: str = ""  # where it came from, for messages
    stopped: str = ""  # read_feed_file only: where a damaged file broke off, and why

    @property
    def count(self) -> int:
        """Entries the page held, including skipped ones: what paging advances by."""
        return len(self.entries) + len(self.skipped)


def is_arxiv_category(term: str) -> bool:
    """True for an arXiv category ('cs.CL', 'hep-th'); False for ACM/MSC class codes ('I.2.7', '68T50')."""
    ok = _category_ok.get(term)
    if ok is None:
        ok = bool(_CATEGORY.match(term))
        if len(_category_ok) < 50_000:
            _category_ok[term] = ok
    return ok


def squash(s: str) -> str:
    """Collapse whitespace runs to one space and strip (the API folds long titles and abstracts)."""
    t = s.strip()
    if "\n" in t:
        t = t.replace("\n", " ")
    # Folded text is 'word\n  word'; only that, and tabs, need the general split/join.
    if "  " in t or "\t" in t or "\r" in t:
        return " ".join(t.split())
    return t


def parse_time(s: str) -> datetime:
    """Parse an Atom timestamp ('2022-02-24T15:05:19Z', '2016-10-09T00:00:00-04:00') into aware UTC."""
    dt = _fromiso(s.strip())
    tz = dt.tzinfo
    if tz is UTC:
        return dt
    try:
        return dt.replace(tzinfo=UTC) if tz is None else dt.astimezone(UTC)
    except OverflowError:  # '9999-12-31T23:00:00-05:00' is past the last representable UTC instant
        raise ValueError(f"timestamp out of range: {s.strip()[:40]!r}") from None


def parse_xml(data: bytes | str, url: str = "") -> Any:
    """Parse a whole XML document and return its root element; ParseError (naming url and line) if malformed."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or not data.strip():
        raise MalformedError("empty response where an Atom feed was expected", url)
    try:
        if _PARSER is not None:
            return _lxml.fromstring(data, _PARSER)
        return _ET.fromstring(data)
    except _SYNTAX_ERRORS as e:
        line = getattr(e, "lineno", None) or "?"
        raise MalformedError(f"malformed XML at line {line}: {_first_line(str(e))}", url) from None
    except _ET.ParseError as e:
        raise MalformedError(f"malformed XML at line {e.position[0]}: {_first_line(str(e))}", url) from None


def _first_line(msg: str) -> str:
    return msg.strip().splitlines()[0] if msg.strip() else "unknown error"


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text else None
    except ValueError:
        return None


def parse_feed(data: bytes | str, url: str = "") -> AtomFeed:
    """Parse an arXiv API response; ArxivAPIError for the API's error feed, ParseError for bad XML."""
    root = parse_xml(data, url)
    if root.tag != FEED:
        raise ParseError(f"not an Atom feed: the document's root is <{_local(root.tag)}>", url)
    feed = AtomFeed(url=url)
    entries = feed.entries
    for child in root:
        tag = child.tag
        if tag == ENTRY:
            try:
                entries.append(_paper(child))
            except _BadEntry as e:
                feed.skipped.append(str(e))
                log.warning("skipped an entry: %s (%s)", e, url or "feed")
            except _ErrorEntry as e:
                raise ArxivAPIError(f"arXiv API error: {e}", url) from None
        elif tag == TOTAL:
            feed.total_results = _int(child.text)
        elif tag == START:
            feed.start_index = _int(child.text)
        elif tag == PER_PAGE:
            feed.items_per_page = _int(child.text)
        elif tag == UPDATED:
            try:
                feed.updated = parse_time(child.text or "")
            except ValueError:
                pass  # the feed's own timestamp is informational only
        elif tag == TITLE:
            feed.title = squash(child.text or "")
    return feed


def read_feed_file(data: bytes, name: str = "") -> AtomFeed:
    """Parse a saved Atom file; a file that breaks off (cut short, damaged) still gives every entry that
    ended before the damage, with `stopped` saying where it broke. Network pages use parse_feed, where a
    cut-off page is asked again instead."""
    try:
        return parse_feed(data, name)
    except MalformedError:
        pass
    feed = AtomFeed(url=name)
    if _lxml is not None:
        parser: Any = _lxml.XMLPullParser(events=("end",), tag=ENTRY, resolve_entities=False, no_network=True,
                                          huge_tree=False)
        errors: tuple[type[Exception], ...] = (_lxml.XMLSyntaxError,)
    else:  # pragma: no cover - exercised only where lxml is absent
        parser = _ET.XMLPullParser(events=("end",))
        errors = (_ET.ParseError,)

    def drain() -> None:
        for _, el in parser.read_events():
            if el.tag != ENTRY:
                continue
            try:
                feed.entries.append(_paper(el))
            except _BadEntry as e:
                feed.skipped.append(str(e))
            except _ErrorEntry as e:
                raise ArxivAPIError(f"arXiv API error: {e}", name) from None

    step = 1 << 16
    at_end = False
    try:
        for i in range(0, len(data), step):
            parser.feed(data[i:i + step])
            drain()
        at_end = True
        parser.close()
    except errors as e:
        # Damage inside the data: the entries that ended before it are still queued. At the end of the data, every
        # ended entry was read already; what closing queues is an entry the cut left open, which newer libxml2
        # closes itself (lxml 6.2): not a whole entry, so not read.
        if not at_end:
            drain()
        line = getattr(e, "lineno", None) or (e.position[0] if hasattr(e, "position") else "?")
        feed.stopped = (f"the file breaks off at line {line} ({_first_line(str(e))}); the "
                        f"{feed.count} entries before it were read, any after it are missing")
    return feed


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else str(tag)


class _BadEntry(Exception):
    """An entry that cannot become a Paper; the message names the entry and the field."""


class _ErrorEntry(Exception):
    """The API's error entry; the message is its summary."""


def _paper(entry: Any) -> Paper:
    """One <entry> into a Paper, reading its children once."""
    raw_id = title = abstract = published_s = updated_s = comment = jref = doi = primary = lic = ""
    cats: list[str] = []
    authors: list[Author] = []
    for c in entry:
        t = c.tag
        # Ordered by how often each tag occurs in an entry.
        if t == AUTHOR:
            if len(c) == 1:  # the common author: a <name> and nothing else
                only = c[0]
                if only.tag == NAME:
                    authors.append(Author((only.text or "").strip(), []))
                    continue
            name = ""
            affs: list[str] = []
            for a in c:
                at = a.tag
                if at == NAME:
                    name = a.text or ""
                elif at == AFFILIATION:
                    aff = (a.text or "").strip()
                    if aff:
                        affs.append(aff)
            authors.append(Author(name.strip(), affs))
        elif t == CATEGORY:
            term = c.get("term")
            if term and is_arxiv_category(term):
                cats.append(term)
        elif t == ID:
            raw_id = c.text or ""
        elif t == TITLE:
            title = c.text or ""
        elif t == SUMMARY:
            abstract = c.text or ""
        elif t == UPDATED:
            updated_s = c.text or ""
        elif t == PUBLISHED:
            published_s = c.text or ""
        elif t == PRIMARY:
            primary = c.get("term") or ""
        elif t == COMMENT:
            comment = c.text or ""
        elif t == JOURNAL_REF or t == JOURNAL_REFERENCE:
            jref = c.text or ""
        elif t == DOI or t == DOI_UPPER:
            doi = (c.text or "").strip()
        elif t == RIGHTS or t == DC_RIGHTS or t == LICENSE:
            lic = (c.text or "").strip()

    if not raw_id:
        raise _BadEntry(f"entry titled {squash(title)[:60]!r}: no <id>")
    if "/api/errors" in raw_id:
        raise _ErrorEntry(squash(abstract) or raw_id)
    pid, version = split_arxiv_id(raw_id)
    if version is None:
        version = 1
    try:
        updated = parse_time(updated_s or published_s)
        published = parse_time(published_s) if published_s else None
    except ValueError:
        raise _BadEntry(f"entry {pid}: <updated>/<published> not a timestamp: {updated_s!r}") from None

    if primary:
        if not cats or cats[0] != primary:
            cats = [primary] + [x for x in cats if x != primary]
    elif cats:
        primary = cats[0]
    versions = [Version(1, published)] if published is not None else []
    if version > 1:
        versions.append(Version(version, updated))
    problem = check_id(pid) or check_version(version) or check_date(updated, "updated") \
        or check_date(published, "published")
    if problem:
        raise _BadEntry(f"entry {pid[:40]!r}: {problem}")

    # Positional: keyword construction of this 16-field dataclass costs about three times as much.
    # Field order: id, title, abstract, updated, version, authors, comment, journal_ref, doi, license,
    # report_no, submitter, primary_category, categories, published, versions (a test pins it).
    return Paper(
        pid,
        squash(title),
        squash(abstract),
        updated,
        version,
        authors,
        squash(comment) if comment else "",
        squash(jref) if jref else "",
        doi,
        lic,
        "",
        "",
        primary,
        cats,
        published,
        versions,
    )
