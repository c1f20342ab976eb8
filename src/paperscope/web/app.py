"""The FastAPI application: `create_app(library)` wires the pages, the JSON API, feeds and static files.

Handlers are `async def` on purpose: each is one short service call on SQLite, and running them on the event
loop (rather than a thread pool) keeps them off each other's connection and saves the hand-off per request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

from paperscope.errors import PaperscopeError
from paperscope.web import _compat as svc
from paperscope.web.security import HEADERS, Guard
from paperscope.web.views import Views

HERE = Path(__file__).parent


class PageCache:
    """Rendered GET responses kept for `seconds` (per process): a page read by a whole lab is built once,
    and a running import shows up within that many seconds. Writes through this server clear it."""

    def __init__(self, seconds: float, size: int = 2048) -> None:
        self.seconds = seconds
        self.size = size
        self._items: OrderedDict[str, tuple[float, Response]] = OrderedDict()

    def get(self, key: str) -> Response | None:
        if self.seconds <= 0:
            return None
        hit = self._items.get(key)
        if hit is None or time.monotonic() - hit[0] > self.seconds:
            return None
        return hit[1]

    def put(self, key: str, response: Response) -> None:
        if self.seconds <= 0:
            return
        self._items[key] = (time.monotonic(), response)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


def create_app(library: Any, *, token: str | None = None, public_reads: bool | None = None,
               cache_seconds: float | None = None, writer: Any | Callable[[], Any] | None = None) -> FastAPI:
    """The web app over one open library.

    token: needed for every change (default: the `web_token` setting or $PAPERSCOPE_WEB_TOKEN; None: read-only).
    public_reads: serve pages without the token (default: the `web_public_reads` setting).
    writer: the library writes go to (or a callable opening it on first use) when `library` is read-only.
    """
    if token is None:
        token = svc.setting(library, "web_token", "") or None
    if public_reads is None:
        public_reads = bool(svc.setting(library, "web_public_reads", True))
    if cache_seconds is None:
        cache_seconds = float(svc.setting(library, "web_cache_seconds", 2.0))
    guard = Guard(token, public_reads)
    app = FastAPI(title="paperscope", version=_version(), docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="The paperscope library as JSON. Reads are public unless the server says otherwise; "
                              "changes need `Authorization: Bearer <token>`.")
    cache = PageCache(cache_seconds)
    views = Views(library, guard, cache, writer)
    app.state.views = views
    app.state.guard = guard

    @app.middleware("http")
    async def headers_and_cache(request: Request, call_next: Any) -> Response:
        cacheable = request.method == "GET" and not request.url.path.startswith("/static/")
        key = ""
        if cacheable:
            key = f"{int(guard.cookie_ok(request) or guard.bearer_ok(request))}|{request.url.path}?{request.url.query}"
            hit = cache.get(key)
            if hit is not None:
                return hit
        if not request.url.path.startswith(("/static/", "/login")) and not guard.may_read(request):
            response: Response = views.refuse_read(request)
        else:
            response = await call_next(request)
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        if cacheable and response.status_code == 200 and "set-cookie" not in response.headers:
            body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
            response = Response(body, status_code=200, headers=dict(response.headers),
                                media_type=response.media_type)
            cache.put(key, response)
        return response

    @app.exception_handler(PaperscopeError)
    async def paperscope_error(request: Request, exc: PaperscopeError) -> Response:
        return views.error(request, exc)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return views.error(request, svc.NotFound(f"nothing at {request.url.path}"))

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    from paperscope.web import api, pages

    app.include_router(pages.router)
    app.include_router(api.router, prefix="/api")
    return app


def _version() -> str:
    import paperscope

    return getattr(paperscope, "__version__", "0")


def json_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def html_response(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status)
