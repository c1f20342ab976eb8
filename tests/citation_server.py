"""A local JSON server for the citation sources: records every request, plays scripted replies first, then
answers like OpenAlex or Semantic Scholar from real recorded objects.

    with CitationServer(FakeOpenAlex(works)) as server:
        client = PoliteClient(server.url)
        server.script(Reply(429, {"error": "slow down"}, {"Retry-After": "2"}))
        ...
        server.requests[0].param("filter")

The fakes are deliberately strict where the real services are (unknown query parameters, per_page over
100, more than 100 OR-ed values, more than 500 batch ids), so a client that sends the wrong names fails.
They share no code with paperscope, so a bug in the client's id handling cannot hide in both.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import orjson


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """What to answer: a status, a body (bytes, or anything JSON can encode) and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return orjson.dumps(self.body)


Handler = Callable[[Recorded], Reply]


def _not_found(_: Recorded) -> Reply:
    return Reply(404, {"error": "no handler"})


class CitationServer:
    """HTTP/1.1 server on 127.0.0.1 with a free port, running in a daemon thread."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler or _not_found
        self.requests: list[Recorded] = []
        self._scripted: deque[Reply] = deque()
        self._lock = threading.Lock()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs do
            # Headers and body leave in one buffered write, with Nagle off: otherwise each answer waits
            # on the client's delayed ACK (~40 ms), which would swamp every timing taken against it.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                rec = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = owner._next(rec)
                data = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        # A short poll interval makes shutdown() quick; tests start and stop many servers.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, before the handler gets a turn."""
        with self._lock:
            self._scripted.extend(replies)

    def _next(self, rec: Recorded) -> Reply:
        with self._lock:
            self.requests.append(rec)
            scripted = self._scripted.popleft() if self._scripted else None
        return scripted if scripted is not None else self.handler(rec)

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------------ OpenAlex

OPENALEX_PARAMS = frozenset({"filter", "select", "per_page", "per-page", "cursor", "page", "api_key", "mailto"})


def _last(url: str | None) -> str:
    return (url or "").rstrip("/").rsplit("/", 1)[-1].upper()


def _doi(value: str | None) -> str:
    v = (value or "").lower()
    return v.split("doi.org/", 1)[1] if "doi.org/" in v else v.removeprefix("doi:")


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"error": "Invalid query parameters error.", "message": message})


class FakeOpenAlex:
    """Answers `/works`, `/works/<id>` and `/authors` from real work and author objects."""

    def __init__(self, works: Iterable[dict[str, Any]] = (), authors: Iterable[dict[str, Any]] = (),
                 api_key: str | None = None) -> None:
        self.works = list(works)
        self.authors = list(authors)
        self.api_key = api_key
        self._by_doi: dict[str, list[dict[str, Any]]] = {}
        self._by_landing: dict[str, list[dict[str, Any]]] = {}
        self._by_id: dict[str, dict[str, Any]] = {}
        for w in self.works:
            self._by_id[_last(w["id"])] = w
            for d in {_doi(w.get("doi")), _doi((w.get("ids") or {}).get("doi"))} - {""}:
                self._by_doi.setdefault(d, []).append(w)
            for loc in w.get("locations") or []:
                if loc.get("landing_page_url"):
                    self._by_landing.setdefault(loc["landing_page_url"].lower(), []).append(w)
        self._authors = {_last(a["id"]): a for a in self.authors}

    def __call__(self, req: Recorded) -> Reply:
        unknown = sorted(set(req.query) - OPENALEX_PARAMS)
        if unknown:
            return _error(400, f"{unknown[0]} is not a valid parameter")
        if self.api_key is not None and req.param("api_key") != self.api_key:
            return Reply(401, {"error": "Invalid or missing API key", "message": "Check your api_key"})
        if req.path.startswith("/works/"):
            return self._single(req.path.removeprefix("/works/"))
        if req.path == "/works":
            return self._list(req, self._works_matching)
        if req.path == "/authors":
            return self._list(req, self._authors_matching)
        return Reply(404, {"error": "404 Not Found"})

    def _single(self, ident: str) -> Reply:
        if ident.lower().startswith(("doi:", "https://doi.org/")):
            hits = self._by_doi.get(_doi(ident), [])
            work = hits[0] if hits else None
        else:
            work = self._by_id.get(ident.upper())
        return Reply(200, work) if work else Reply(404, {"error": "404 Not Found"})

    def _works_matching(self, attr: str, values: list[str]) -> list[dict[str, Any]] | None:
        if attr == "doi":
            index, keys = self._by_doi, [_doi(v) for v in values]
        elif attr == "locations.landing_page_url":
            index, keys = self._by_landing, [v.lower() for v in values]
        elif attr in ("openalex", "ids.openalex"):
            return [self._by_id[k] for k in dict.fromkeys(_last(v) for v in values) if k in self._by_id]
        else:
            return None
        seen: dict[int, dict[str, Any]] = {}
        for k in keys:
            for w in index.get(k, []):
                seen[id(w)] = w
        return list(seen.values())

    def _authors_matching(self, attr: str, values: list[str]) -> list[dict[str, Any]] | None:
        if attr not in ("openalex", "ids.openalex"):
            return None
        return [self._authors[k] for k in dict.fromkeys(_last(v) for v in values) if k in self._authors]

    def _list(self, req: Recorded, match: Callable[[str, list[str]], list[dict[str, Any]] | None]) -> Reply:
        per_page = int(req.param("per_page") or req.param("per-page") or 25)
        if not 1 <= per_page <= 100:
            return _error(400, "per_page must be between 1 and 100")
        expr = req.param("filter") or ""
        if "," in expr or ":" not in expr:
            return _error(400, f"this fake understands one filter, got {expr!r}")
        attr, _, value = expr.partition(":")
        values = value.split("|")
        if len(values) > 100:
            return _error(400, "Maximum number of values exceeded for OR filter (100)")
        found = match(attr, values)
        if found is None:
            return _error(400, f"{attr} is not a valid filter")
        cursor = req.param("cursor")
        start = 0 if cursor in (None, "*") else int(base64.b64decode(cursor))
        page = found[start:start + per_page]
        more = start + per_page < len(found) and cursor is not None
        select = [f for f in (req.param("select") or "").split(",") if f]
        if select:
            page = [{k: v for k, v in obj.items() if k in select} for obj in page]
        meta = {
            "count": len(found), "db_response_time_ms": 1, "page": None if cursor else 1, "per_page": per_page,
            "next_cursor": base64.b64encode(str(start + per_page).encode()).decode() if more else None,
            "groups_count": None,
        }
        return Reply(200, {"meta": meta, "results": page, "group_by": []})


# ------------------------------------------------------------------------------------ Semantic Scholar


class FakeSemanticScholar:
    """Answers `POST /paper/batch` from real paper objects keyed by the id asked ('ARXIV:2208.03461')."""

    def __init__(self, papers: Mapping[str, dict[str, Any]] = {}, api_key: str | None = None) -> None:
        self.papers = {k.upper(): v for k, v in papers.items()}
        self.api_key = api_key

    def __call__(self, req: Recorded) -> Reply:
        if req.method != "POST" or not req.path.endswith("/paper/batch"):
            return Reply(404, {"error": "Not found"})
        if self.api_key is not None and req.headers.get("x-api-key") != self.api_key:
            return Reply(403, {"message": "Forbidden"})
        if not req.param("fields"):
            return Reply(400, {"error": "fields is required"})
        ids = req.json().get("ids")
        if not isinstance(ids, list):
            return Reply(400, {"error": "ids must be a list"})
        if len(ids) > 500:
            return Reply(400, {"error": "Cannot process more than 500 ids"})
        return Reply(200, [self.papers.get(str(i).upper()) for i in ids])


# ------------------------------------------------------------------------ building pages from real records


def as_arxiv_preprint(work: dict[str, Any], arxiv_id: str, serial: int) -> dict[str, Any]:
    """A real work re-labelled as the arXiv preprint of `arxiv_id`: new W id, arXiv DOI and locations, the
    way OpenAlex shows an arXiv-only work (see W4365441044 in the fixtures). Authors and counts stay real."""
    w = copy.deepcopy(work)
    doi = f"https://doi.org/10.48550/arxiv.{arxiv_id.lower()}"
    w["id"] = f"https://openalex.org/W9{serial:09d}"
    w["doi"] = doi
    w["ids"] = {"openalex": w["id"], "doi": doi}
    loc = {"is_oa": True, "landing_page_url": f"https://arxiv.org/abs/{arxiv_id}", "pdf_url": None,
           "source": {"id": "https://openalex.org/S4306400194", "display_name": "arXiv (Cornell University)",
                      "type": "repository"},
           "version": "submittedVersion", "is_accepted": False, "is_published": False}
    w["locations"] = [loc]
    w["primary_location"] = loc
    w["best_oa_location"] = loc
    return w


def as_merged(work: dict[str, Any], arxiv_id: str, serial: int) -> dict[str, Any]:
    """A real published work that OpenAlex merged with the preprint `arxiv_id`: the journal DOI stays, the
    arXiv copy is one more location (see W4307407919 in the fixtures)."""
    w = copy.deepcopy(work)
    w["id"] = f"https://openalex.org/W8{serial:09d}"
    w["ids"] = {**(w.get("ids") or {}), "openalex": w["id"]}
    w["locations"] = list(w.get("locations") or []) + [{
        "is_oa": True, "landing_page_url": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}", "version": "submittedVersion",
        "source": {"id": "https://openalex.org/S4306400194", "display_name": "arXiv (Cornell University)"},
    }]
    return w


def as_author(author: dict[str, Any], serial: int) -> dict[str, Any]:
    """The real author object under a new id (for batch tests that need many authors)."""
    a = copy.deepcopy(author)
    a["id"] = f"https://openalex.org/A9{serial:09d}"
    a["ids"] = {**(a.get("ids") or {}), "openalex": a["id"]}
    return a


def as_s2_arxiv(paper: dict[str, Any], arxiv_id: str) -> dict[str, Any]:
    """A real Semantic Scholar paper object that also carries the arXiv id, as arXiv papers do."""
    p = copy.deepcopy(paper)
    p["externalIds"] = {**(p.get("externalIds") or {}), "ArXiv": arxiv_id}
    return p
