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

from paperscope.errors import NotFound, PaperscopeError
from paperscope.library import Library
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


class Front:
    """The outermost ASGI layer: read access, the security headers, and the page cache for GETs.

    Plain ASGI rather than a Starlette `@middleware`: a cached page is sent from here without building a
    Request/Response pair through the stack, which is most of what a busy server does."""

    def __init__(self, app: Any, views: Views, guard: Guard, cache: PageCache) -> None:
        self.app, self.views, self.guard, self.cache = app, views, guard, cache

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        request = Request(scope)
        if not path.startswith(("/static/", "/login")) and not self.guard.may_read(request):
            return await _secure(self.views.refuse_read(request))(scope, receive, send)
        if scope["method"] != "GET" or path.startswith("/static/"):
            return await self.app(scope, receive, _with_headers(send))
        authed = self.guard.cookie_ok(request) or self.guard.bearer_ok(request)
        key = f"{int(authed)}|{path}?{scope.get('query_string', b'').decode('latin-1')}"

        async def build() -> Response:
            return await _capture(self.app, scope, receive)

        response = await self.cache.serve(key, build)
        await response(scope, receive, send)


_RAW_HEADERS = [(k.encode(), v.encode()) for k, v in HEADERS.items()]


def _with_headers(send: Any) -> Any:
    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start":
            have = {k.lower() for k, _ in message.get("headers", [])}
            message["headers"] = list(message.get("headers", [])) + [h for h in _RAW_HEADERS if h[0] not in have]
        await send(message)

    return wrapped


async def _capture(app: Any, scope: Any, receive: Any) -> Response:
    """Run the app for one request and keep its answer in memory, security headers added."""
    start: dict[str, Any] = {}
    body: list[bytes] = []

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    response = Response(b"".join(body), status_code=start.get("status", 500))
    response.raw_headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    response.raw_headers.append((b"content-length", str(len(response.body)).encode()))
    return _secure(response)


def create_app(library: Library, *, token: str | None = None, public_reads: bool | None = None,
               cache_seconds: float | None = None, writer: Any | Callable[[], Any] | None = None) -> FastAPI:
    """The web app over one open library.

    token: needed for every change (default: the `web_token` setting or $PAPERSCOPE_WEB_TOKEN; None: read-only).
    public_reads: serve pages without the token (default: the `web_public_reads` setting).
    writer: the library writes go to (or a callable opening it on first use) when `library` is read-only.
    """
    settings = library.settings
    if token is None:
        token = settings.web_token or None
    if public_reads is None:
        public_reads = bool(settings.web_public_reads)
    if cache_seconds is None:
        cache_seconds = float(settings.web_cache_seconds)
    guard = Guard(token, public_reads)
    app = FastAPI(title="paperscope", version=_version(), docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="The paperscope library as JSON. Reads are public unless the server says otherwise; "
                              "changes need `Authorization: Bearer <token>`.")
    cache = PageCache(cache_seconds)
    views = Views(library, guard, cache, writer)
    app.state.views = views
    app.state.guard = guard

    @app.exception_handler(PaperscopeError)
    async def paperscope_error(request: Request, exc: PaperscopeError) -> Response:
        return views.error(request, exc)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return views.error(request, NotFound(f"nothing at {request.url.path}", kind="page"))

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    from paperscope.web import api, pages

    app.include_router(pages.router)
    app.include_router(api.router, prefix="/api")
    app.add_middleware(Front, views=views, guard=guard, cache=cache)  # type: ignore[arg-type]
    return app


def _secure(response: Response) -> Response:
    for k, v in HEADERS.items():
        response.headers.setdefault(k, v)
    return response


def _version() -> str:
    import paperscope

    return getattr(paperscope, "__version__", "0")
