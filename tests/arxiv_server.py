"""A local, scriptable arXiv for tests: a real HTTP server on 127.0.0.1 (port 0) in a thread.

Each request is answered by the next scripted `Reply` if any are queued (`server.script(...)`), else by the
server's responder (a callable taking the `Request`). A `Reply` sets the status, headers and body, and can
also sleep before answering (`delay`, to make a client time out) or drop the connection (`drop="before"`
with no answer at all, `drop="mid-body"` after part of the body). Every request is recorded with its
query, headers and the reading of `clock` when it arrived.

`ApiEmulator` answers /api/query the way export.arxiv.org does, in its current Atom format, paging over
real recorded entries (`load_entries`) by start/max_results, or picking them by id_list. `api_page`
writes one such page; `api_error_feed` the API's error feed.

    from arxiv_server import ApiEmulator, ArxivServer, load_entries

    with ArxivServer(ApiEmulator(load_entries(FIXTURES / "atom" / "api_25_real_records_newest_first.xml"))) as server:
        client = PoliteClient(server.url + "/api/query", ...)

The `arxiv_server` pytest fixture gives a started server with no responder (404 unless scripted).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import pytest

from paperscope.models import is_arxiv_id, split_arxiv_id


@dataclass
class Reply:
    """What one request gets."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (the server's close cuts it short)
    # "before": close without answering; "mid-body": headers (with the full Content-Length) and half the body,
    # then close; "truncate": a 200 without Content-Length whose body stops half way (it looks complete to
    # HTTP; only the XML tells); "reset": close with a TCP reset instead of an answer.
    drop: str = ""
    content_type: str = "application/atom+xml; charset=utf-8"


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]  # first value of each parameter
    headers: dict[str, str]
    at: float  # the server clock's reading on arrival


Responder = Callable[[Request], Reply]


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it: pass `clock` and `sleep` to a Pacer
    (and `sleep` to the PoliteClient), and the server's `clock`, so nothing really waits."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _not_scripted(req: Request) -> Reply:
    return Reply(404, f"no reply scripted for {req.path}".encode(), content_type="text/plain")


class ArxivServer:
    """A ThreadingHTTPServer on a free local port; `url` is its base, `requests` what it was asked."""

    def __init__(self, responder: Responder | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.responder = responder or _not_scripted
        self.clock = clock
        self.requests: list[Request] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the stdlib's method names
                outer._answer(self)

            def do_POST(self) -> None:
                outer._answer(self)

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a handler still sleeping out a `delay` must not hold up close()
        # A short poll interval: shutdown() waits for the serve loop's next poll, on every test's teardown.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="arxiv-test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order, ahead of the responder."""
        with self._lock:
            self._script.extend(replies)

    def start(self) -> ArxivServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ArxivServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        req = Request(
            method=h.command,
            path=unquote(parts.path),
            query={k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={k: v for k, v in h.headers.items()},
            at=self.clock(),
        )
        if h.command == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            h.rfile.read(length)
        with self._lock:
            self.requests.append(req)
            reply = self._script.pop(0) if self._script else None
        if reply is None:
            reply = self.responder(req)
        if reply.delay and self._closing.wait(reply.delay):
            return
        if reply.drop == "before":
            h.close_connection = True
            return
        if reply.drop == "reset":
            # SO_LINGER with a zero timeout makes close() send RST: the client sees "connection reset".
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            return
        try:
            h.send_response(reply.status)
            h.send_header("Content-Type", reply.content_type)
            if reply.drop == "truncate":
                h.send_header("Connection", "close")
                h.end_headers()
                h.wfile.write(reply.body[: len(reply.body) // 2])
                h.wfile.flush()
                h.close_connection = True
                return
            h.send_header("Content-Length", str(len(reply.body)))
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.end_headers()
            if reply.drop == "mid-body":
                h.wfile.write(reply.body[: len(reply.body) // 2])
                h.wfile.flush()
                h.close_connection = True
                return
            h.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first (a timeout test)
            pass


@pytest.fixture
def arxiv_server() -> Iterator[ArxivServer]:
    """A started local server that answers 404 unless replies are scripted or a responder is set."""
    with ArxivServer() as server:
        yield server


class Router:
    """Send each request to the responder of the longest matching path prefix."""

    def __init__(self, routes: Mapping[str, Responder]) -> None:
        self.routes = sorted(routes.items(), key=lambda kv: -len(kv[0]))

    def __call__(self, req: Request) -> Reply:
        for prefix, responder in self.routes:
            if req.path.startswith(prefix):
                return responder(req)
        return _not_scripted(req)


# --------------------------------------------------------------------------------------- the API's format

_ENTRY = re.compile(rb"  <entry>\n.*?\n  </entry>\n", re.DOTALL)
_ENTRY_ID = re.compile(rb"<id>([^<]+)</id>")


def load_entries(path: Path) -> list[bytes]:
    """The <entry> blocks of a recorded (current-format) API response, byte for byte."""
    return _ENTRY.findall(path.read_bytes())


def entry_id(entry: bytes) -> str:
    """The unversioned arXiv id of an entry block."""
    m = _ENTRY_ID.search(entry)
    if m is None:
        raise ValueError("entry without <id>")
    return split_arxiv_id(m.group(1).decode())[0]


def api_page(entries: Sequence[bytes], *, total: int, start: int = 0, per_page: int | None = None,
             search_query: str = "", id_list: str = "") -> bytes:
    """One export.arxiv.org/api/query response in its current format (as the recorded 2026 files)."""
    per_page = len(entries) if per_page is None else per_page
    q = escape(f"search_query={search_query}&id_list={id_list}&start={start}&max_results={per_page}")
    head = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>https://arxiv.org/api/localTestServer</id>\n"
        f"  <title>arXiv Query: {q}</title>\n"
        "  <updated>2026-04-12T22:09:27Z</updated>\n"
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
    )
    return head.encode() + b"".join(entries) + b"</feed>\n"


def api_error_feed(message: str, anchor: str) -> bytes:
    """The API's error feed (a single entry titled Error), as recorded for id_list=abc."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n"
        "  <updated>2026-04-12T22:59:06Z</updated>\n"
        "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        "  <entry>\n"
        f"    <id>https://arxiv.org/api/errors#{escape(anchor)}</id>\n"
        "    <title>Error</title>\n    <updated>2026-04-12T22:59:06Z</updated>\n"
        f"    <summary>{escape(message)}</summary>\n"
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        "  </entry>\n</feed>\n"
    ).encode()


class ApiEmulator:
    """Answers /api/query like export.arxiv.org over a fixed list of entries.

    A search (any search_query) pages over `entries` in order by start/max_results and reports `total`
    (default: how many entries there are). id_list picks entries by id, in the order asked; an id that is not
    an arXiv id gets HTTP 400 with the API's error feed, as the real API answers.
    """

    def __init__(self, entries: Sequence[bytes], *, total: int | None = None) -> None:
        self.entries = list(entries)
        self.total = len(self.entries) if total is None else total
        self.by_id = {entry_id(e): e for e in self.entries}

    def __call__(self, req: Request) -> Reply:
        q = req.query
        start = int(q.get("start") or 0)
        max_results = int(q.get("max_results") or 10)
        id_list = q.get("id_list", "")
        if id_list:
            wanted = [i.strip() for i in id_list.split(",") if i.strip()]
            for i in wanted:
                if not is_arxiv_id(split_arxiv_id(i)[0]):
                    anchor = "incorrect_id_format_for_" + i
                    return Reply(400, api_error_feed(f"incorrect id format for {i}", anchor))
            found = [self.by_id[split_arxiv_id(i)[0]] for i in wanted if split_arxiv_id(i)[0] in self.by_id]
            page = found[start:start + max_results]
            return Reply(body=api_page(page, total=len(found), start=start, per_page=max_results, id_list=id_list))
        page = self.entries[start:min(start + max_results, self.total)]
        return Reply(body=api_page(page, total=self.total, start=start, per_page=max_results,
                                   search_query=q.get("search_query", "")))
