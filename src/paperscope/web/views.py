"""What pages and API routes share: the template environment, the library (and where writes go), errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.requests import Request

from paperscope.errors import Ambiguous, NotFound, NotReady, PaperscopeError
from paperscope.web import svg
from paperscope.web.security import CSRF_FIELD, Guard

HERE = Path(__file__).parent
NEEDS = {  # what a page says (and which command does it) when the library lacks a step
    "embed": ("This library has no embeddings yet", "paperscope embed"),
    "novelty": ("Novelty has not been computed for this paper yet", "paperscope novelty"),
    "score": ("No AI Score yet", "paperscope score"),
    "enrich": ("There are no citation counts yet", "paperscope enrich"),
    "library": ("This needs your own library file", "paperscope config  (set library_file)"),
}


def safe_url(url: str | None) -> str | None:
    """An http(s) link or None: `javascript:` and other schemes never become an href."""
    if not url:
        return None
    u = url.strip()
    return u if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc else None


def author_url(name: str) -> str:
    return "/author/" + quote(name, safe="")


def paper_url(paper_id: str) -> str:
    return "/paper/" + quote(paper_id, safe="/")


def date_label(d: Any, today: date | None = None) -> str:
    """'Nov 20' for this year, 'Nov 20, 2024' otherwise: the year only when it is not this one."""
    if d is None:
        return ""
    dd = d.date() if hasattr(d, "date") else d
    today = today or date.today()
    label = f"{dd:%b} {dd.day}"
    return label if dd.year == today.year else f"{label}, {dd.year}"


def per_year(years: list[int] | dict[int, int]) -> list[tuple[str, int]]:
    """Counts per year with the years between filled in (for the bar plots)."""
    from collections import Counter

    counts = Counter(years) if isinstance(years, list) else Counter(dict(years))
    if not counts:
        return []
    return [(str(y), counts.get(y, 0)) for y in range(min(counts), max(counts) + 1)]


def shares(pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """(name, fraction) pairs as percentages with one decimal."""
    return [(n, round(100 * v, 1)) for n, v in pairs]


def missing_text(step: str) -> str:
    """What a page says for a figure the library lacks a step for."""
    what, command = NEEDS.get(step, (f"This needs the {step} step", f"paperscope {step}"))
    return f"{what} — run `{command}`."


def topic_for_slug(library: Any, slug: str) -> str:
    """The configured topic's name a URL slug stands for (URLs use slugs; the service takes names)."""
    from paperscope.render.model import slugify

    for t in library.topics:
        if slugify(t.name) == slug or t.name == slug:
            return str(t.name)
    raise NotFound(f"no topic {slug!r} in the config", kind="topic", key=slug)


def topic_feed(library: Any, page: Any) -> str:
    """A topic page as its Atom feed, by the render package's Atom renderer."""
    from paperscope.render import Digest, DigestSection, render_atom

    section = DigestSection(title=page.topic.name, papers=page.papers, topic=page.topic, note=page.note)
    return render_atom(section, Digest(generated=library.today(), sections=[section]))


class Views:
    """The library, the access rules, the page cache and the Jinja2 environment of one app."""

    def __init__(self, library: Any, guard: Guard, cache: Any, writer: Any | Callable[[], Any] | None) -> None:
        self.library = library
        self.guard = guard
        self.cache = cache
        self._writer = writer
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                      autoescape=True, trim_blocks=True, lstrip_blocks=True,
                                      undefined=jinja2.StrictUndefined)
        from paperscope.render.model import slugify

        self.env.globals.update(slugify=slugify, missing_text=missing_text, author_url=author_url, paper_url=paper_url, safe_url=safe_url, svg=svg,
                                date_label=lambda d: date_label(d, library.now().date()), per_year=per_year, shares=shares, csrf_field=CSRF_FIELD)
        self.env.filters["zip_counts"] = lambda labels, weeks: list(zip(labels, [w.papers for w in weeks]))
        self.env.filters["zip_shares"] = lambda terms, rising: [(t, r.recent_share, r.before_share)
                                                                for t, r in zip(terms, rising)]
        self.env.filters["search_link"] = lambda term: "/search?" + urlencode({"q": f'"{term}"'})
        self.env.filters["author_url"] = author_url
        self.env.filters["pct"] = lambda v: "—" if v is None else f"{v:.0f}"
        self.env.filters["num"] = lambda v: "—" if v is None else (f"{v:,}" if isinstance(v, int) else f"{v:,.1f}")

    # ------------------------------------------------------------------------------------------ writing
    def writer(self) -> Any:
        """The library changes go to: the served one unless it was opened read-only."""
        if self._writer is None:
            if getattr(self.library.store, "readonly", False):
                raise PaperscopeError("this server serves a read-only library: changes are not possible")
            return self.library
        if callable(self._writer) and not hasattr(self._writer, "store"):
            self._writer = self._writer()
        return self._writer

    def changed(self) -> None:
        self.cache.clear()

    # ------------------------------------------------------------------------------------------ pages
    def page(self, request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        authed = self.guard.cookie_ok(request) or self.guard.bearer_ok(request)
        text = self.env.get_template(template).render(
            request_path=request.url.path, query=request.url.query, authed=authed,
            csrf=self.guard.csrf_value if authed else "", can_write=bool(self.guard.token), qs=_qs(request),
            **ctx)
        return HTMLResponse(text, status_code=status)

    def wants_json(self, request: Request) -> bool:
        return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")

    def error(self, request: Request, exc: Exception) -> Response:
        kind, status = _kind(exc)
        needs = getattr(exc, "needs", "") or ""
        if self.wants_json(request):
            body: dict[str, Any] = {"error": kind, "message": str(exc)}
            if needs:
                body["needs"] = needs
                body["command"] = NEEDS.get(needs, ("", ""))[1]
            if kind == "ambiguous":
                body["candidates"] = _candidates(exc)
            return JSONResponse(body, status_code=status)
        return self.page(request, "error.html", status=status, kind=kind, message=str(exc), needs=needs,
                         needs_text=NEEDS.get(needs), candidates=_candidates(exc), title=_titles[kind])

    def refuse_read(self, request: Request) -> Response:
        if self.wants_json(request):
            return JSONResponse({"error": "unauthorized", "message": "reading this server needs the token"},
                                status_code=401)
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)

    def refuse_write(self, request: Request, why: str) -> Response:
        if self.wants_json(request):
            return JSONResponse({"error": "forbidden", "message": why}, status_code=403)
        return self.page(request, "error.html", status=403, kind="forbidden", message=why, needs="",
                         needs_text=None, candidates=[], title="Not allowed")


_titles = {"not_found": "Not found", "not_ready": "Not ready yet", "ambiguous": "Which one?",
           "bad_request": "Cannot do that", "forbidden": "Not allowed"}


def _kind(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, NotFound):
        return "not_found", 404
    if isinstance(exc, NotReady):
        return "not_ready", 409
    if isinstance(exc, Ambiguous):
        return "ambiguous", 300
    return "bad_request", 400


def _candidates(exc: Exception) -> list[dict[str, Any]]:
    out = []
    for c in getattr(exc, "candidates", []) or []:
        out.append({"name": getattr(c, "name", str(c)), "papers": len(getattr(c, "paper_ids", []) or []),
                    "id": getattr(c, "openalex_id", None) or getattr(c, "orcid", None)})
    return out


def _qs(request: Request) -> Callable[..., str]:
    """qs(order='novelty') -> this page's query string with those parameters replaced."""
    base = dict(request.query_params)

    def build(**changes: Any) -> str:
        merged = {**base, **{k: v for k, v in changes.items()}}
        return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})

    return build
