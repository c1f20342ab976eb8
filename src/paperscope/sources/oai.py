"""arXiv's OAI-PMH interface: ListRecords pages in the `arXiv` or `arXivRaw` metadata formats, and a harvest
loop that remembers where it stopped.

`arXivRaw` gives every version with its date and the author list as arXiv stores it (free text);
`arXiv` gives authors already split (keyname/forenames/suffix/affiliation) but only the created/updated days
and no version numbers. A page's records become `Paper`s; deleted records are listed by id.

Errors: an OAI `<error>` becomes `OAIError` (a SourceError carrying `.code`), except `noRecordsMatch`, which
is an empty result. Throttling (HTTP 503 + Retry-After, which arXiv sends under load) is the client's job.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Protocol

import httpx

from paperscope.errors import MalformedError, ParseError, SourceError
from paperscope.models import Author, Paper, Version, split_arxiv_id
from paperscope.sources.http import PoliteClient, check_status
from paperscope.sources.snapshot import clean_affiliations, parse_day, parse_rfc2822, split_authors, squash
from paperscope.sources.validate import check_id, check_paper

OAI_URL = "https://oaipmh.arxiv.org/oai"
LEGACY_OAI_URL = "https://export.arxiv.org/oai2"  # the historical address; same protocol
PREFIXES = ("arXiv", "arXivRaw")

_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_ARXIV = "{http://arxiv.org/OAI/arXiv/}"
_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
UTC = timezone.utc


class OAIError(SourceError):
    """An `<error code="...">` answer from an OAI-PMH endpoint (badResumptionToken, badArgument, ...)."""

    def __init__(self, code: str, message: str, url: str = "") -> None:
        super().__init__(f"OAI-PMH error {code}: {message}" if message else f"OAI-PMH error {code}", url)
        self.code = code


@dataclass(slots=True)
class OAIPage:
    """One ListRecords response: its papers, deleted ids and where the list goes on."""

    papers: list[Paper] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    resumption_token: str | None = None
    complete_list_size: int | None = None
    cursor: int | None = None
    response_date: datetime | None = None
    skipped: list[str] = field(default_factory=list)  # "<identifier>: <what was wrong>" per unreadable record
    stopped: str = ""  # read_page_file only: where a damaged file broke off, and why


# ------------------------------------------------------------------------------------------- parsing


def parse_page(data: bytes, *, url: str = "") -> OAIPage:
    """Parse one OAI-PMH response (ListRecords or GetRecord, arXiv or arXivRaw records) into an OAIPage."""
    root = _root(data, url)
    page = OAIPage()
    rd = root.findtext(_OAI + "responseDate")
    if rd:
        page.response_date = _iso_datetime(rd)
    err = root.find(_OAI + "error")
    if err is not None:
        code = err.get("code", "unknown")
        if code == "noRecordsMatch":
            return page
        raise OAIError(code, " ".join((err.text or "").split()), url)
    body = root.find(_OAI + "ListRecords")
    if body is None:
        body = root.find(_OAI + "GetRecord")
    if body is None:
        raise ParseError("OAI-PMH response has neither ListRecords, GetRecord nor error", url)
    for rec in body.iterfind(_OAI + "record"):
        _read_record(rec, page)
    tok = body.find(_OAI + "resumptionToken")
    if tok is not None:
        page.resumption_token = (tok.text or "").strip() or None
        page.complete_list_size = _int_or_none(tok.get("completeListSize"))
        page.cursor = _int_or_none(tok.get("cursor"))
    return page


def read_page_file(data: bytes, name: str = "") -> OAIPage:
    """Parse a saved OAI-PMH file; one that breaks off (cut short, damaged) still gives every record that
    ended before the damage, with `stopped` saying where it broke."""
    try:
        return parse_page(data, url=name)
    except MalformedError:
        pass
    page = OAIPage()
    parser = ET.XMLPullParser(events=("end",))
    record = _OAI + "record"

    def drain() -> None:
        for _, el in parser.read_events():
            if el.tag == record:
                _read_record(el, page)
                el.clear()

    step = 1 << 16
    try:
        for i in range(0, len(data), step):
            parser.feed(data[i:i + step])
            drain()
        parser.close()
    except ET.ParseError as e:
        drain()
        n = len(page.papers) + len(page.deleted) + len(page.skipped)
        page.stopped = (f"the file breaks off at line {e.position[0]} ({e}); the {n} records before it "
                        "were read, any after it are missing")
    except (LookupError, ValueError) as e:
        raise ParseError(f"OAI-PMH file declares an encoding that cannot be read: {e}", name) from None
    return page


def _root(data: bytes, url: str) -> ET.Element:
    # arXiv never sends a DTD; refusing one closes the door on entity-expansion tricks from a spoofed server.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ParseError("OAI-PMH response declares a DOCTYPE/ENTITY, refused", url)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise MalformedError(f"OAI-PMH response is not well-formed XML: {e}", url) from None
    except (LookupError, ValueError) as e:  # an encoding="..." Python does not know, or one expat cannot read
        raise ParseError(f"OAI-PMH response declares an encoding that cannot be read: {e}", url) from None
    if root.tag != _OAI + "OAI-PMH":
        raise ParseError(f"expected an <OAI-PMH> document, got <{_local(root.tag)}>", url)
    return root


def _read_record(rec: ET.Element, page: OAIPage) -> None:
    header = rec.find(_OAI + "header")
    ident = (header.findtext(_OAI + "identifier") if header is not None else None) or ""
    ident = ident.strip()
    if header is not None and header.get("status") == "deleted":
        gone = oai_identifier_to_id(ident)
        problem = check_id(gone)
        if problem:
            page.skipped.append(f"{ident[:60] or '(no identifier)'}: deleted record: {problem}")
        else:
            page.deleted.append(gone)
        return
    meta = rec.find(_OAI + "metadata")
    body = meta[0] if meta is not None and len(meta) else None
    try:
        if body is None:
            raise ValueError("record has no metadata")
        if body.tag == _ARXIV + "arXiv":
            paper = _from_arxiv(body, ident)
        elif body.tag == _RAW + "arXivRaw":
            paper = _from_arxiv_raw(body, ident)
        else:
            raise ValueError(f"unsupported metadata format <{_local(body.tag)}>")
    except ValueError as e:
        page.skipped.append(f"{ident[:60] or '(no identifier)'}: {e}")
        return
    problem = check_paper(paper)
    if problem:
        page.skipped.append(f"{ident[:60] or '(no identifier)'}: {problem}")
        return
    page.papers.append(paper)


def oai_identifier_to_id(identifier: str) -> str:
    """'oai:arXiv.org:hep-th/9901001' -> 'hep-th/9901001' (a version suffix, if any, is dropped)."""
    s = identifier.strip()
    if s.startswith("oai:"):
        s = s.split(":", 2)[-1]
    return split_arxiv_id(s)[0]


def _common(el: ET.Element, ns: str, ident: str) -> dict[str, Any]:
    """The fields both formats share, checked for the two a Paper cannot do without."""
    t = el.findtext
    raw_id = (t(ns + "id") or "").strip() or (oai_identifier_to_id(ident) if ident else "")
    if not raw_id:
        raise ValueError("id: missing")
    title = squash(t(ns + "title") or "")
    if not title:
        raise ValueError("title: missing")
    cats = (t(ns + "categories") or "").split()
    return {
        "id": split_arxiv_id(raw_id)[0],
        "title": title,
        "abstract": squash(t(ns + "abstract") or ""),
        "comment": squash(t(ns + "comments") or ""),
        "journal_ref": squash(t(ns + "journal-ref") or ""),
        "doi": (t(ns + "doi") or "").strip(),
        "license": (t(ns + "license") or "").strip(),
        "report_no": squash(t(ns + "report-no") or ""),
        "categories": cats,
        "primary_category": cats[0] if cats else "",
    }


def _from_arxiv(el: ET.Element, ident: str) -> Paper:
    """`arXiv` format: parsed authors with affiliations; only created/updated days, no version numbers."""
    f = _common(el, _ARXIV, ident)
    created_s = (el.findtext(_ARXIV + "created") or "").strip()
    updated_s = (el.findtext(_ARXIV + "updated") or "").strip()
    try:
        created = parse_day(created_s) if created_s else None
        updated = parse_day(updated_s) if updated_s else None
    except ValueError:
        raise ValueError(f"created/updated: not YYYY-MM-DD dates: {created_s!r}, {updated_s!r}") from None
    if created is None and updated is None:
        raise ValueError("created: missing")
    authors = []
    for a in el.iterfind(f"{_ARXIV}authors/{_ARXIV}author"):
        parts = [squash(a.findtext(_ARXIV + k) or "") for k in ("forenames", "keyname", "suffix")]
        name = " ".join(p for p in parts if p)
        if name:
            affs = clean_affiliations([x.text or "" for x in a.iterfind(_ARXIV + "affiliation")])
            authors.append(Author(name, affs))
    # The format says a later version exists (updated) but not which one: 2 is the least it can be.
    version = 2 if updated is not None and updated != created else 1
    first = created or updated
    return Paper(
        updated=updated or first,  # type: ignore[arg-type]
        version=version,
        authors=authors,
        published=first,
        versions=[Version(1, created)] if created is not None else [],
        **f,
    )


def _from_arxiv_raw(el: ET.Element, ident: str) -> Paper:
    """`arXivRaw` format: every version with its date; authors as one free-text list."""
    f = _common(el, _RAW, ident)
    versions = []
    for v in el.iterfind(_RAW + "version"):
        tag = (v.get("version") or "").strip()
        when = (v.findtext(_RAW + "date") or "").strip()
        if not tag.lstrip("v").isdigit():
            raise ValueError(f"version: expected 'vN', got {tag!r}")
        try:
            versions.append(Version(int(tag.lstrip("v")), parse_rfc2822(when)))
        except ValueError:
            raise ValueError(f"version {tag} date: not an RFC 2822 date: {when!r}") from None
    if not versions:
        raise ValueError("version: none listed")
    versions.sort(key=lambda x: x.version)
    return Paper(
        updated=versions[-1].created,  # type: ignore[arg-type]
        version=versions[-1].version,
        authors=split_authors(el.findtext(_RAW + "authors") or ""),
        submitter=squash(el.findtext(_RAW + "submitter") or ""),
        published=versions[0].created,
        versions=versions,
        **f,
    )


def _iso_datetime(s: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _int_or_none(s: str | None) -> int | None:
    try:
        return int(s) if s not in (None, "") else None
    except ValueError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# ------------------------------------------------------------------------------------------ requests


class OAIHarvester:
    """ListRecords over a PoliteClient whose base URL is the OAI-PMH endpoint (e.g. OAI_URL)."""

    def __init__(self, client: PoliteClient) -> None:
        self.client = client

    def list_records(
        self,
        *,
        metadata_prefix: str = "arXiv",
        from_: date | None = None,
        until: date | None = None,
        set_: str | None = None,
        resumption_token: str | None = None,
    ) -> Iterator[OAIPage]:
        """Yield ListRecords pages, following resumption tokens to the end of the list."""
        if resumption_token:
            # OAI-PMH: a resumptionToken is an exclusive argument; the server remembers the rest.
            params: dict[str, str] = {"verb": "ListRecords", "resumptionToken": resumption_token}
        else:
            if metadata_prefix not in PREFIXES:
                raise ValueError(f"metadata_prefix must be one of {PREFIXES}, not {metadata_prefix!r}")
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
            if from_ is not None:
                params["from"] = from_.isoformat()
            if until is not None:
                params["until"] = until.isoformat()
            if set_:
                params["set"] = set_
        while True:
            page = self._fetch(params)
            yield page
            if not page.resumption_token:
                return
            params = {"verb": "ListRecords", "resumptionToken": page.resumption_token}

    def get_record(self, arxiv_id: str, *, metadata_prefix: str = "arXivRaw") -> Paper | None:
        """One paper by id (None when arXiv does not know it or it was deleted)."""
        params = {"verb": "GetRecord", "identifier": f"oai:arXiv.org:{arxiv_id}", "metadataPrefix": metadata_prefix}
        try:
            page = self._fetch(params)
        except OAIError as e:
            if e.code == "idDoesNotExist":
                return None
            raise
        return page.papers[0] if page.papers else None

    def _fetch(self, params: Mapping[str, str]) -> OAIPage:
        return self.client.get_parsed("", _read_page, params=params)


def _read_page(resp: httpx.Response) -> OAIPage:
    url = str(resp.request.url)
    if resp.status_code >= 400 and not _looks_like_oai(resp):
        check_status(resp)  # raises HTTPError naming URL and status
    return parse_page(resp.content, url=url)


def _looks_like_oai(resp: httpx.Response) -> bool:
    # Some OAI servers answer protocol errors with a 4xx status but a proper <OAI-PMH><error> body.
    return b"<OAI-PMH" in resp.content[:2048]


# ------------------------------------------------------------------------------------------- harvest


class HarvestState(Protocol):
    """Where a harvest keeps its small JSON-able state between runs (the store provides one)."""

    def get(self) -> Mapping[str, Any] | None: ...

    def set(self, state: Mapping[str, Any]) -> None: ...


@dataclass(slots=True)
class CallbackState:
    """A HarvestState from two callables, e.g. lambda: store.get_meta(key) and a setter."""

    getter: Callable[[], Mapping[str, Any] | None]
    setter: Callable[[Mapping[str, Any]], None]

    def get(self) -> Mapping[str, Any] | None:
        return self.getter()

    def set(self, state: Mapping[str, Any]) -> None:
        self.setter(state)


@dataclass(slots=True)
class MemoryState:
    """A HarvestState held in memory (tests, one-off runs)."""

    state: dict[str, Any] | None = None

    def get(self) -> Mapping[str, Any] | None:
        return self.state

    def set(self, state: Mapping[str, Any]) -> None:
        self.state = dict(state)


@dataclass(slots=True)
class HarvestResult:
    """What one harvest() call did."""

    pages: int = 0
    papers: int = 0
    deleted: int = 0
    resumed: bool = False
    complete: bool = False
    next_from: date | None = None


def state_key(prefix: str, set_: str | None) -> str:
    """A name to keep one harvest's state under: one per metadata format and set."""
    return f"oai:{prefix}:{set_ or '*'}"


def harvest(
    harvester: OAIHarvester,
    store_state: HarvestState,
    *,
    prefix: str = "arXiv",
    set_: str | None = None,
    from_: date | None = None,
    until: date | None = None,
    on_page: Callable[[OAIPage], None],
) -> HarvestResult:
    """Harvest ListRecords into on_page, saving the resumption point after every page.

    An interrupted harvest resumes from its saved token (pages already handed to on_page are not fetched
    again). A finished one records where the next incremental harvest starts (`until`, else the date of the
    first response), and a later call without `from_` starts there. on_page runs before the state is saved,
    so a page whose handling failed is fetched again on the next run.
    """
    saved = dict(store_state.get() or {})
    if saved and (saved.get("prefix"), saved.get("set")) != (prefix, set_):
        saved = {}  # another harvest's state: nothing of it applies here
    token = saved.get("resumption_token")
    result = HarvestResult()
    if token and _same_window(saved, from_, until):
        run_from, run_until = _day(saved.get("from")), _day(saved.get("until"))
        started = saved.get("started")
        result.resumed = True
    else:
        token = None
        run_from = from_ if from_ is not None else _day(saved.get("next_from"))
        run_until = until
        started = None
    state: dict[str, Any] = {
        "prefix": prefix,
        "set": set_,
        "from": run_from.isoformat() if run_from else None,
        "until": run_until.isoformat() if run_until else None,
        "next_from": saved.get("next_from"),
        "started": started,
        "pages": saved.get("pages", 0) if token else 0,
    }
    attempt_token = token
    while True:
        pages = harvester.list_records(
            metadata_prefix=prefix, from_=run_from, until=run_until, set_=set_, resumption_token=attempt_token
        )
        try:
            for page in pages:
                if state["started"] is None:
                    when = page.response_date or datetime.now(UTC)
                    state["started"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
                on_page(page)
                result.pages += 1
                result.papers += len(page.papers)
                result.deleted += len(page.deleted)
                state["pages"] += 1
                state["resumption_token"] = page.resumption_token
                state["cursor"] = page.cursor
                state["complete_list_size"] = page.complete_list_size
                if page.resumption_token is None:
                    end = run_until or _day(state["started"][:10])
                    state["next_from"] = end.isoformat() if end else None
                    state["finished"] = state["started"]
                    result.complete = True
                    result.next_from = end
                store_state.set(dict(state))
        except OAIError as e:
            # Tokens expire (arXiv keeps them for hours, not days). A stale one on resume means starting the
            # same window again: records already stored come back, which the store treats as unchanged.
            if e.code == "badResumptionToken" and attempt_token and result.pages == 0:
                attempt_token = None
                result.resumed = False
                state.update(started=None, pages=0, resumption_token=None)
                continue
            raise
        return result


def _same_window(saved: Mapping[str, Any], from_: date | None, until: date | None) -> bool:
    """A saved token applies unless the caller now asks for a different date window."""
    if from_ is not None and saved.get("from") != from_.isoformat():
        return False
    if until is not None and saved.get("until") != until.isoformat():
        return False
    return True


def _day(s: Any) -> date | None:
    if not s:
        return None
    try:
        return date.fromisoformat(str(s)[:10])
    except ValueError:
        return None
