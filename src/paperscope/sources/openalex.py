"""OpenAlex: citation counts, authorships and author figures for arXiv papers.

arXiv papers are looked up by their DataCite DOI `10.48550/arXiv.<id>`, up to 100 per request (OpenAlex's
cap on values OR-ed in one filter, and on `per_page`), with cursor paging. When OpenAlex has merged a
preprint into its published version, the work's `doi` is the journal's and the arXiv copy survives only
as a location (`https://arxiv.org/abs/<id>`): every result is matched back through its doi, its `ids`
and every location, and the ids the DOI pass missed get a second pass on `locations.landing_page_url`.
The API key, when given, goes in the `api_key` query parameter and is masked in every error message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx
import orjson

from paperscope.errors import HTTPError, ParseError, SourceError
from paperscope.models import is_arxiv_id, split_arxiv_id
from paperscope.sources.citations import (
    Authorship,
    AuthorStats,
    Institution,
    PaperCitations,
    Progress,
    SourceName,
    utc_now,
)
from paperscope.sources.http import PoliteClient, RetryPolicy, paced_client, require_json

DEFAULT_URL = "https://api.openalex.org"
MAX_OR_VALUES = 100  # OpenAlex rejects more values than this in one OR filter, and a larger per_page
ARXIV_DOI_PREFIX = "10.48550/arxiv."
WORK_FIELDS = "id,doi,ids,cited_by_count,counts_by_year,authorships,primary_location,locations,best_oa_location"
AUTHOR_FIELDS = (
    "id,display_name,orcid,ids,works_count,cited_by_count,summary_stats,counts_by_year,"
    "last_known_institutions,last_known_institution,affiliations"
)

_DOI_RE = re.compile(r"10\.48550/arxiv\.(?P<id>\S+)$", re.IGNORECASE)
_URL_RE = re.compile(r"arxiv\.org/(?:abs|pdf)/(?P<id>[^?#\s]+)", re.IGNORECASE)

_DEFAULT_RETRY = RetryPolicy()


def openalex_client(
    base_url: str = DEFAULT_URL,
    *,
    contact: str = "",
    pace: float = 0.1,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
    retry: RetryPolicy = _DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> PoliteClient:
    """A PoliteClient for OpenAlex; the default pace keeps well under its 100 requests/second."""
    return paced_client(base_url, pace=pace, contact=contact, transport=transport, timeout=timeout, retry=retry,
                        sleep=sleep)


def short_id(value: str | None) -> str | None:
    """'https://openalex.org/A5043579160' -> 'A5043579160'; also ORCID and ROR URLs to their bare ids."""
    if not value:
        return None
    # rsplit, not removeprefix: real records carry 'https://ror.org/https://ror.org/01ppj9r51'.
    return value.strip().rstrip("/").rsplit("/", 1)[-1] or None


def bare_doi(value: str | None) -> str | None:
    """'https://doi.org/10.1162/X' or 'doi:10.1162/X' -> '10.1162/x' (DOIs compare case-insensitively)."""
    if not value:
        return None
    v = value.strip().lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"):
        if v.startswith(prefix):
            v = v[len(prefix):]
            break
    return v or None


def arxiv_doi(arxiv_id: str) -> str:
    """The DOI arXiv registers for a paper (with DataCite, since 2022)."""
    return f"10.48550/arXiv.{arxiv_id}"


def invert_abstract(inverted_index: Mapping[str, Sequence[int]] | None) -> str:
    """Rebuild the text of an OpenAlex `abstract_inverted_index` (word -> positions)."""
    if not inverted_index:
        return ""
    placed = [(pos, word) for word, positions in inverted_index.items() for pos in positions]
    placed.sort()
    return " ".join(word for _, word in placed)


def arxiv_ids_in(work: Mapping[str, Any]) -> dict[str, bool]:
    """The arXiv ids a work points to, lower-cased and without version -> True when its own DOI says so
    (rather than only a location)."""
    found: dict[str, bool] = {}

    def add(raw: str, by_doi: bool) -> None:
        aid, _ = split_arxiv_id(raw.rstrip("/").removesuffix(".pdf"))
        key = aid.lower()
        found[key] = found.get(key, False) or by_doi

    ids = work.get("ids") or {}
    for doi in (work.get("doi"), ids.get("doi")):
        if isinstance(doi, str) and (m := _DOI_RE.search(doi)):
            add(m["id"], True)
    if isinstance(ids.get("arxiv"), str):
        add(ids["arxiv"], True)
    locations = list(work.get("locations") or [])
    locations += [work.get("primary_location"), work.get("best_oa_location")]
    for loc in locations:
        if not isinstance(loc, Mapping):
            continue
        for key in ("landing_page_url", "pdf_url", "id"):
            value = loc.get(key)
            if not isinstance(value, str):
                continue
            if (m := _URL_RE.search(value)) or (m := _DOI_RE.search(value)):
                add(m["id"], False)
    return found


def _institution(obj: Mapping[str, Any]) -> Institution:
    return Institution(
        name=obj.get("display_name") or "",
        ror=short_id(obj.get("ror")),
        country=obj.get("country_code") or None,
        openalex_id=short_id(obj.get("id")),
    )


def _counts(rows: Any) -> dict[int, int]:
    out: dict[int, int] = {}
    for row in rows or []:
        if isinstance(row, Mapping) and isinstance(row.get("year"), int):
            out[row["year"]] = int(row.get("cited_by_count") or 0)
    return out


def parse_work(work: Mapping[str, Any], arxiv_id: str, fetched: datetime) -> PaperCitations:
    """Turn one OpenAlex work object into PaperCitations for `arxiv_id`."""
    authorships = []
    for n, a in enumerate(work.get("authorships") or []):
        author = a.get("author") or {}
        authorships.append(Authorship(
            position=n,
            name=author.get("display_name") or a.get("raw_author_name") or "",
            openalex_id=short_id(author.get("id")),
            orcid=short_id(author.get("orcid")),
            institutions=[_institution(i) for i in a.get("institutions") or [] if isinstance(i, Mapping)],
        ))
    cited = work.get("cited_by_count")
    return PaperCitations(
        arxiv_id=arxiv_id,
        source="openalex",
        fetched=fetched,
        cited_by_count=cited if isinstance(cited, int) else None,
        counts_by_year=_counts(work.get("counts_by_year")),
        influential_citations=None,
        authorships=authorships,
        work_id=short_id(work.get("id")),
        doi=bare_doi(work.get("doi")),
    )


def parse_author(obj: Mapping[str, Any], fetched: datetime) -> AuthorStats:
    """Turn one OpenAlex author object into AuthorStats."""
    stats = obj.get("summary_stats") or {}
    insts = obj.get("last_known_institutions")
    if not insts and obj.get("last_known_institution"):  # the single-valued field before 2024
        insts = [obj["last_known_institution"]]
    if not insts:  # fall back on the affiliations claimed in the latest year
        affs = [a for a in obj.get("affiliations") or [] if a.get("years") and a.get("institution")]
        latest = max((max(a["years"]) for a in affs), default=None)
        insts = [a["institution"] for a in affs if latest in a["years"]]
    mean = stats.get("2yr_mean_citedness")
    return AuthorStats(
        source="openalex",
        fetched=fetched,
        author_id=short_id(obj.get("id")) or "",
        name=obj.get("display_name") or "",
        orcid=short_id(obj.get("orcid") or (obj.get("ids") or {}).get("orcid")),
        h_index=stats.get("h_index"),
        i10_index=stats.get("i10_index"),
        two_year_mean_citedness=float(mean) if isinstance(mean, (int, float)) else None,
        works_count=obj.get("works_count"),
        cited_by_count=obj.get("cited_by_count"),
        counts_by_year=_counts(obj.get("counts_by_year")),
        institutions=[_institution(i) for i in insts if isinstance(i, Mapping)],
    )


def _batches(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class OpenAlex:
    """OpenAlex works and authors through a PoliteClient (base URL, pace and transport live there)."""

    name: SourceName = "openalex"

    def __init__(
        self,
        client: PoliteClient,
        api_key: str | None = None,
        *,
        per_page: int = MAX_OR_VALUES,
        batch_size: int = MAX_OR_VALUES,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not 1 <= per_page <= MAX_OR_VALUES or not 1 <= batch_size <= MAX_OR_VALUES:
            raise ValueError(f"per_page and batch_size must be 1..{MAX_OR_VALUES}")
        self.client = client
        self.api_key = api_key or None
        self.per_page = per_page
        self.batch_size = batch_size
        self.clock = clock

    # ------------------------------------------------------------------------------------- works

    def fetch(self, arxiv_ids: Sequence[str], progress: Progress | None = None) -> dict[str, PaperCitations]:
        """CitationSource entry point: same as works_for_arxiv."""
        return self.works_for_arxiv(arxiv_ids, progress)

    def works_for_arxiv(
        self, ids: Sequence[str], progress: Progress | None = None
    ) -> dict[str, PaperCitations]:
        """Citations and authorships for arXiv ids, keyed by the ids as given; ids OpenAlex lacks are absent,
        and so are strings that are not arXiv ids (they could only break the filter syntax)."""
        by_key: dict[str, list[str]] = {}  # 'hep-th/9901001' (lower, no version) -> ids as the caller wrote them
        for raw in dict.fromkeys(ids):
            aid, _ = split_arxiv_id(raw)
            if is_arxiv_id(aid):
                by_key.setdefault(aid.lower(), []).append(raw)
        keys = list(by_key)
        # key -> ((matched by DOI, cited_by_count), work); a DOI match beats a location match.
        best: dict[str, tuple[tuple[bool, int], Mapping[str, Any]]] = {}

        def consider(work: Mapping[str, Any]) -> None:
            value = work.get("cited_by_count")
            cited = value if isinstance(value, int) else -1
            for key, by_doi in arxiv_ids_in(work).items():
                if key in by_key:
                    rank = (by_doi, cited)
                    if key not in best or rank > best[key][0]:
                        best[key] = (rank, work)

        done, total = 0, len(keys)
        doi_batches = _batches(keys, self.batch_size)
        for n, batch in enumerate(doi_batches, 1):
            expr = "doi:" + "|".join(arxiv_doi(_canonical(by_key[k][0])) for k in batch)
            for work in self._list("works", expr, WORK_FIELDS, f"works by arXiv DOI, batch {n}/{len(doi_batches)}"):
                consider(work)
            done += len(batch)
            if progress:
                progress(self.name, done, total)
        missing = [k for k in keys if k not in best]
        url_batches = _batches(missing, self.batch_size)
        for n, batch in enumerate(url_batches, 1):
            expr = "locations.landing_page_url:" + "|".join(
                f"https://arxiv.org/abs/{_canonical(by_key[k][0])}" for k in batch
            )
            label = f"works by arXiv landing page, batch {n}/{len(url_batches)}"
            for work in self._list("works", expr, WORK_FIELDS, label):
                consider(work)
        fetched = self.clock()
        out: dict[str, PaperCitations] = {}
        for key, (_, chosen) in best.items():
            for raw in by_key[key]:
                out[raw] = parse_work(chosen, raw, fetched)
        return out

    def work_raw(self, work_id_or_doi: str) -> dict[str, Any] | None:
        """One work as OpenAlex returns it, by OpenAlex id ('W…' or its URL) or DOI; None when unknown."""
        ident = work_id_or_doi.strip()
        if re.match(r"^(https?://openalex\.org/)?W\d+$", ident, re.IGNORECASE):
            path = f"works/{short_id(ident)}"
        else:
            doi = bare_doi(ident)
            if not doi or not doi.startswith("10."):
                raise SourceError(f"not an OpenAlex work id or DOI: {work_id_or_doi!r}")
            path = f"works/doi:{doi}"
        resp = self._get(path, {})
        if resp.status_code == 404:
            return None
        data = self._json(resp)
        if not isinstance(data, dict):
            raise ParseError("OpenAlex answered a work lookup with something other than an object", _url(resp, self))
        return data

    def work(self, work_id_or_doi: str) -> PaperCitations | None:
        """One work parsed; its arxiv_id is the arXiv id the work points to, or '' when it has none."""
        data = self.work_raw(work_id_or_doi)
        if data is None:
            return None
        arxiv = arxiv_ids_in(data)
        aid = next((k for k, by_doi in arxiv.items() if by_doi), next(iter(arxiv), ""))
        return parse_work(data, aid, self.clock())

    # ------------------------------------------------------------------------------------ authors

    def authors(self, ids: Sequence[str], progress: Progress | None = None) -> dict[str, AuthorStats]:
        """Author figures keyed by short OpenAlex id ('A…'); ids OpenAlex does not know are absent."""
        wanted = list(dict.fromkeys(s.upper() for i in ids if (s := short_id(i))))
        bad = [i for i in wanted if not re.fullmatch(r"A\d+", i)]
        if bad:
            raise SourceError(f"not an OpenAlex author id: {bad[0]!r}")
        out: dict[str, AuthorStats] = {}
        batches = _batches(wanted, self.batch_size)
        fetched = self.clock()
        for n, batch in enumerate(batches, 1):
            label = f"authors, batch {n}/{len(batches)}"
            for obj in self._list("authors", "openalex:" + "|".join(batch), AUTHOR_FIELDS, label):
                stats = parse_author(obj, fetched)
                if stats.author_id.upper() in batch:
                    out[stats.author_id.upper()] = stats
            if progress:
                progress(self.name, min(n * self.batch_size, len(wanted)), len(wanted))
        return out

    # -------------------------------------------------------------------------------------- HTTP

    def _list(self, entity: str, filter_expr: str, select: str, label: str) -> Iterator[dict[str, Any]]:
        """Every result of a filtered list, following meta.next_cursor until it runs out."""
        cursor: str | None = "*"
        seen: set[str] = set()
        while cursor:
            seen.add(cursor)
            params = {"filter": filter_expr, "select": select, "per_page": self.per_page, "cursor": cursor}
            try:
                resp = self._get(entity, params, allow_404=False)
                data = self._json(resp)
                results = data.get("results") if isinstance(data, dict) else None
                if not isinstance(results, list):
                    raise ParseError("OpenAlex list answer has no 'results' list", _url(resp, self))
            except SourceError as e:
                raise _relabel(e, f"OpenAlex {label} failed: ") from e
            yield from (r for r in results if isinstance(r, dict))
            cursor = (data.get("meta") or {}).get("next_cursor")
            if not results:
                break
            if cursor in seen:
                raise ParseError(f"OpenAlex {label}: the cursor repeated itself", _url(resp, self))

    def _get(self, path: str, params: dict[str, Any], *, allow_404: bool = True) -> httpx.Response:
        if self.api_key:
            params = {**params, "api_key": self.api_key}
        try:
            resp = self.client.request("GET", path, params=params, parse=require_json)  # cut-off JSON is re-asked
        except SourceError as e:
            raise self._masked(e) from None
        if resp.status_code >= 400 and not (allow_404 and resp.status_code == 404):
            raise self._masked(HTTPError(f"HTTP {resp.status_code}{_reason(resp)}", str(resp.request.url),
                                         resp.status_code))
        return resp

    def _json(self, resp: httpx.Response) -> Any:
        try:
            return orjson.loads(resp.content)
        except orjson.JSONDecodeError as e:
            raise ParseError(f"OpenAlex answered with invalid JSON ({e})", _url(resp, self)) from None

    def _masked(self, e: SourceError) -> SourceError:
        return _relabel(e, "", self.api_key)


def _canonical(raw: str) -> str:
    return split_arxiv_id(raw)[0]


def _url(resp: httpx.Response, oa: OpenAlex) -> str:
    url = str(resp.request.url)
    return url.replace(oa.api_key, "<api-key>") if oa.api_key else url


def _reason(resp: httpx.Response) -> str:
    """OpenAlex explains a 4xx in JSON ({'error': ..., 'message': ...}); keep the first line of it."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(body, dict):
        return ""
    text = " - ".join(str(body[k]) for k in ("error", "message") if body.get(k))
    return f": {text.splitlines()[0][:200]}" if text else ""


def _relabel(e: SourceError, prefix: str, secret: str | None = None) -> SourceError:
    """The same kind of error with a prefix naming the operation, and the API key masked."""
    def clean(s: str) -> str:
        return s.replace(secret, "<api-key>") if secret else s

    text = prefix + clean(str(e))
    if isinstance(e, HTTPError):
        new: SourceError = type(e)(text, "", e.status)
    else:
        new = type(e)(text)
    new.url = clean(e.url)
    return new
