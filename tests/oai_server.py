"""A local OAI-PMH endpoint for tests: a real HTTP server on 127.0.0.1 (port 0) in a thread.

It serves canned pages in order, following resumption tokens the way arXiv's does: the first request
(metadataPrefix=...) gets page 1, a request carrying the token printed at the end of page N gets page N+1.
Every request's query is recorded, so tests can see what was fetched and with which arguments.

    with OAIServer(PagedOAI([page1, page2, page3])) as server:
        client = PoliteClient(server.url, ...)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, dict[str, str], bytes]
Responder = Callable[[dict[str, str]], Reply]

_TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


def oai_error(code: str, message: str = "") -> bytes:
    """A minimal OAI-PMH error document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n'
        "<responseDate>2026-08-21T08:00:00Z</responseDate>\n"
        '<request verb="ListRecords">http://127.0.0.1/oai2</request>\n'
        f'<error code="{code}">{message}</error>\n</OAI-PMH>\n'
    ).encode()


class PagedOAI:
    """Serves `pages` in order; `fail_on` (1-based page numbers) answer HTTP 500 instead, while it is set."""

    def __init__(self, pages: list[bytes], *, fail_on: set[int] | None = None) -> None:
        self.pages = pages
        self.fail_on = set(fail_on or ())
        self.by_token: dict[str, int] = {}
        for i, body in enumerate(pages):
            m = _TOKEN.search(body)
            if m:
                self.by_token[m.group(1).decode()] = i + 1  # this token asks for the next page
        self.served: list[int] = []  # page numbers answered with 200, in order

    def __call__(self, query: dict[str, str]) -> Reply:
        if query.get("verb") != "ListRecords":
            return 200, {}, oai_error("badVerb", "only ListRecords here")
        if "resumptionToken" in query:
            if len(query) != 2:
                return 200, {}, oai_error("badArgument", "resumptionToken is an exclusive argument")
            index = self.by_token.get(query["resumptionToken"])
            if index is None:
                return 200, {}, oai_error("badResumptionToken", "unknown or expired token")
        elif "metadataPrefix" not in query:
            return 200, {}, oai_error("badArgument", "metadataPrefix is required")
        else:
            index = 0
        number = index + 1
        if number in self.fail_on:
            return 500, {}, b"Internal Server Error"
        self.served.append(number)
        return 200, {}, self.pages[index]


class OAIServer:
    """Runs a responder behind a real HTTP server; `requests` holds each request's query, in order."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server dispatches GET to
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                outer.requests.append(query)
                status, headers, body = outer.responder(query)
                self.send_response(status)
                self.send_header("Content-Type", headers.pop("Content-Type", "text/xml; charset=utf-8"))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll keeps shutdown() quick; the default half second adds up over a test run.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/oai2"

    def __enter__(self) -> OAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
