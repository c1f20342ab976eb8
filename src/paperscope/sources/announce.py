"""The daily announcement feed (rss.arxiv.org/atom/cs.CL+cs.LG): which papers arXiv announced today.

The format, as arXiv documents it (info.arxiv.org/help/atom_specifications.html) and its feed service
writes it: the feed's <updated> is when it was generated (just after midnight US/Eastern); each entry has
<id>oai:arXiv.org:2203.01250v3</id>, <published> (the announcement date, midnight Eastern),
<arxiv:announce_type> new / cross / replace / replace-cross, and <dc:creator> with the author list. On
weekends and holidays the feed has no entries: that is an empty announcement, not an error. A category
arXiv does not know gets HTTP 400 and a feed titled "Feed error for query: …".

A feed holds at most 2,000 entries; when a combined feed hits that, each category is read on its own and
the results merged, so a busy day is not silently cut short. Metadata for the ids comes from the API
(`ArxivAPI.by_ids`): the feed's own text is abridged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx

from paperscope.errors import ArxivAPIError, ConfigError, ParseError
from paperscope.models import split_arxiv_id
from paperscope.sources.atom import (
    ARXIV_NS,
    ENTRY,
    FEED,
    ID,
    PUBLISHED,
    SUBTITLE,
    SUMMARY,
    TITLE,
    UPDATED,
    is_arxiv_category,
    parse_time,
    parse_xml,
    squash,
)
from paperscope.sources.http import PoliteClient, check_status
from paperscope.sources.validate import check_id, check_version

log = logging.getLogger(__name__)

ANNOUNCE_TYPE = "{" + ARXIV_NS + "}announce_type"
FEED_LIMIT = 2000  # rss.arxiv.org returns at most this many entries
_OAI_PREFIX = "oai:arXiv.org:"
_KIND = {"new": "new", "cross": "cross", "replace": "replaced", "replace-cross": "replaced"}
_RANK = {"new": 0, "cross": 1, "replaced": 2}  # a paper listed twice keeps its most telling kind

try:  # arXiv's day runs on US/Eastern time
    from zoneinfo import ZoneInfo

    _EASTERN: Any = ZoneInfo("America/New_York")
except (ImportError, KeyError, ValueError):  # pragma: no cover - no tz database: the feed is generated just after midnight Eastern,
    _EASTERN = None  # which is 04:00/05:00 UTC, so the UTC date is the same day


@dataclass(slots=True)
class Announcement:
    """One day's announcements for some categories: unversioned ids by kind, and whether there were none."""

    date: date | None
    new_ids: list[str] = field(default_factory=list)
    cross_ids: list[str] = field(default_factory=list)
    replaced_ids: list[str] = field(default_factory=list)  # replace and replace-cross
    empty: bool = True
    categories: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)  # id -> the version announced
    entries: int = 0  # entries the feed held

    @property
    def ids(self) -> list[str]:
        """Every announced id, new first, then cross-lists, then replacements."""
        return [*self.new_ids, *self.cross_ids, *self.replaced_ids]


def parse_announcement(data: bytes | str, url: str = "", categories: Sequence[str] = ()) -> Announcement:
    """Read one rss.arxiv.org Atom feed; ArxivAPIError for its error feed, ParseError for bad XML."""
    root = parse_xml(data, url)
    if root.tag != FEED:
        raise ParseError(f"not an Atom feed: the document's root is <{str(root.tag).rsplit('}', 1)[-1]}>", url)
    title = subtitle = updated = published = ""
    kinds: dict[str, str] = {}
    versions: dict[str, int] = {}
    n = 0
    for child in root:
        tag = child.tag
        if tag == ENTRY:
            n += 1
            raw_id = kind_text = summary = ""
            for c in child:
                t = c.tag
                if t == ID:
                    raw_id = (c.text or "").strip()
                elif t == ANNOUNCE_TYPE:
                    kind_text = (c.text or "").strip().lower()
                elif t == SUMMARY:
                    summary = c.text or ""
                elif t == PUBLISHED and not published:
                    published = (c.text or "").strip()
            if not kind_text:
                kind_text = _summary_kind(summary)
            raw_id = raw_id.removeprefix(_OAI_PREFIX)
            pid, version = split_arxiv_id(raw_id)
            kind = _KIND.get(kind_text)
            if check_id(pid) or (version is not None and check_version(version)):
                log.warning("announcement entry with id %r skipped: not an arXiv id (%s)", raw_id[:60], url)
                continue
            if kind is None:
                log.warning("announcement entry %r with announce_type %r skipped (%s)", raw_id, kind_text, url)
                continue
            if pid not in kinds or _RANK[kind] < _RANK[kinds[pid]]:
                kinds[pid] = kind
            if version is not None:
                versions[pid] = max(version, versions.get(pid, 0))
        elif tag == TITLE:
            title = squash(child.text or "")
        elif tag == SUBTITLE:
            subtitle = squash(child.text or "")
        elif tag == UPDATED:
            updated = (child.text or "").strip()
    if title.startswith("Feed error"):
        raise ArxivAPIError(f"arXiv announcement feed error: {subtitle or title}", url)
    ann = Announcement(date=_day(published, updated), empty=not n, categories=list(categories),
                       versions=versions, entries=n)
    for pid, kind in kinds.items():
        (ann.new_ids if kind == "new" else ann.cross_ids if kind == "cross" else ann.replaced_ids).append(pid)
    return ann


def _summary_kind(summary: str) -> str:
    """The type from the summary's 'arXiv:2203.01250v3 Announce Type: replace-cross' line, for entries
    without <arxiv:announce_type> (the summary carries it too, for readers that drop extension elements)."""
    head, sep, rest = summary.partition("Announce Type:")
    return rest.split(None, 1)[0].lower() if sep and rest.strip() else ""


def _day(published: str, updated: str) -> date | None:
    """The announcement day: an entry's <published> as written (Eastern), else the feed's generation day."""
    if published:
        try:
            return datetime.fromisoformat(published).date()
        except ValueError:
            pass
    if updated:
        try:
            when = parse_time(updated)
        except ValueError:
            return None
        return when.astimezone(_EASTERN).date() if _EASTERN is not None else when.date()
    return None


def merge(parts: Sequence[Announcement], categories: Sequence[str]) -> Announcement:
    """One Announcement from several feeds' (one per category); a paper keeps its most telling kind."""
    kinds: dict[str, str] = {}
    versions: dict[str, int] = {}
    for a in parts:
        for kind, ids in (("new", a.new_ids), ("cross", a.cross_ids), ("replaced", a.replaced_ids)):
            for pid in ids:
                if pid not in kinds or _RANK[kind] < _RANK[kinds[pid]]:
                    kinds[pid] = kind
        for pid, v in a.versions.items():
            versions[pid] = max(v, versions.get(pid, 0))
    days = [a.date for a in parts if a.date is not None and not a.empty] or [a.date for a in parts if a.date]
    out = Announcement(date=max(days) if days else None, empty=all(a.empty for a in parts),
                       categories=list(categories), versions=versions, entries=sum(a.entries for a in parts))
    for pid, kind in kinds.items():
        (out.new_ids if kind == "new" else out.cross_ids if kind == "cross" else out.replaced_ids).append(pid)
    return out


class AnnouncementFeed:
    """Reads rss.arxiv.org/atom/<categories> through a PoliteClient whose base URL is …/atom."""

    def __init__(self, client: PoliteClient, *, warn: Callable[[str], None] | None = None,
                 limit: int = FEED_LIMIT) -> None:
        self.client = client
        self.warn = warn or log.warning
        self.limit = limit  # the most entries arXiv puts in one feed

    def fetch(self, categories: Sequence[str]) -> Announcement:
        """Today's announcements for these categories (empty=True on days arXiv announced nothing)."""
        cats = list(dict.fromkeys(c.strip() for c in categories if c and c.strip()))
        if not cats:
            raise ConfigError("no arXiv categories to read announcements for (set feed_categories or topic categories)")
        bad = [c for c in cats if not is_arxiv_category(c)]
        if bad:
            raise ConfigError(f"not an arXiv category: {', '.join(bad)} (expected names like cs.CL or hep-th)")
        ann = self._one(cats)
        if ann.entries >= self.limit:
            if len(cats) == 1:
                self.warn(f"the {cats[0]} announcement feed holds {ann.entries} entries, arXiv's limit: "
                          "some announcements may be missing")
            else:
                # The combined feed was cut at arXiv's limit: read each category on its own and merge.
                parts = [self._one([c]) for c in cats]
                for c, p in zip(cats, parts):
                    if p.entries >= self.limit:
                        self.warn(f"the {c} announcement feed holds {p.entries} entries, arXiv's limit: "
                                  "some announcements may be missing")
                ann = merge(parts, cats)
        return ann

    def _one(self, cats: Sequence[str]) -> Announcement:
        def read(resp: httpx.Response) -> Announcement:
            url = str(resp.request.url)
            if resp.status_code >= 400:
                try:  # a bad category comes back as HTTP 400 with an error feed that says what is wrong
                    parse_announcement(resp.content, url, cats)
                except ArxivAPIError:
                    raise
                except ParseError:
                    pass
                check_status(resp)
            return parse_announcement(resp.content, url, cats)

        return self.client.get_parsed("+".join(cats), read)
