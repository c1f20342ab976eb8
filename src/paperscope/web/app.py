"""The FastAPI application: `create_app(library)` wires the pages, the JSON API, feeds and static files.

Page and API reads are plain `def` handlers, so FastAPI runs them in its thread pool: a slow build (a prolific
author's profile) never stalls the event loop, which answers cached pages straight from the middleware.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
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
    """Rendered GET answers kept per process. Fresh for `seconds`, or ten times as long as the page took to
    build when that is longer (a page costing 2 s is rebuilt at most every 20 s); after that the next request
    rebuilds the page while the others keep getting the stale one (for up to `stale` seconds), and concurrent
    requests for a page being built wait for that one build instead of each building it. So a page read by a whole lab is
    built once, a running import shows up within seconds, and a slow page (a prolific author) never stalls
    the answers that are ready. Changes made through this server clear it."""

    def __init__(self, seconds: float, size: int = 2048) -> None:
        self.seconds = seconds
        self.stale = max(30.0, 10 * seconds)
        self.size = size
        self._items: OrderedDict[str, tuple[float, float, Response]] = OrderedDict()
        self._building: dict[str, asyncio.Future[Response | None]] = {}

    def get(self, key: str) -> tuple[Response, bool] | None:
        """(response, fresh) when one is kept and not too old."""
        hit = self._items.get(key)
        if hit is None:
            return None
        born, fresh_for, response = hit
        age = time.monotonic() - born
        if age > fresh_for + self.stale:
            return None
        return response, age <= fresh_for

    def put(self, key: str, response: Response, cost: float = 0.0) -> None:
        self._items[key] = (time.monotonic(), max(self.seconds, 10 * cost), response)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    async def serve(self, key: str, build: Callable[[], Awaitable[Response]]) -> Response:
        if self.seconds <= 0:
            return await build()
        hit = self.get(key)
        if hit and hit[1]:
            return hit[0]
        pending = self._building.get(key)
        if pending is not None:
            if hit:
                return hit[0]  # stale while another request rebuilds it
            shared = await asyncio.shield(pending)
            if shared is not None:
                return shared
            return await build()
        fut: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()
        self._building[key] = fut
        response: Response | None = None
        try:
            started = time.monotonic()
            response = await build()
            if response.status_code == 200 and "set-cookie" not in response.headers:
                self.put(key, response, time.monotonic() - started)
            return response
        finally:
            del self._building[key]
            fut.set_result(response)


async def materialise(response: Response) -> Response:
    """A response whose body is in memory, so it can be kept and sent again."""
    if hasattr(response, "body_iterator"):
        body = b"".join([chunk async for chunk in response.body_iterator])
        return Response(body, status_code=response.status_code, headers=dict(response.headers),
                        media_type=response.media_type)
    return response


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
    async def guard_headers_cache(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if not path.startswith(("/static/", "/login")) and not guard.may_read(request):
            return _secure(views.refuse_read(request))

        async def build() -> Response:
            return _secure(await materialise(await call_next(request)))

        if request.method != "GET" or path.startswith("/static/"):
            return _secure(await call_next(request))
        authed = guard.cookie_ok(request) or guard.bearer_ok(request)
        return await cache.serve(f"{int(authed)}|{path}?{request.url.query}", build)

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


def _secure(response: Response) -> Response:
    for k, v in HEADERS.items():
        response.headers.setdefault(k, v)
    return response


def _version() -> str:
    import paperscope

    return getattr(paperscope, "__version__", "0")
