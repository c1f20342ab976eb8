"""A local HTTP endpoint that records every request (path, headers, JSON body) and answers with a handler."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Hit], tuple[int, Any]]  # -> (status, JSON-able body)


class Endpoint:
    def __init__(self, handler: Handler | None = None) -> None:
        self.hits: list[Hit] = []
        self.handler = handler or (lambda hit: (200, {"ok": True}))
        outer = self

        class H(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                hit = Hit(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                outer.hits.append(hit)
                status, body = outer.handler(hit)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Endpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def fake_llm(hit: Hit) -> tuple[int, Any]:
    """Answers like an OpenAI-compatible server: one TL;DR per id in the prompt, wrapped in a code fence."""
    body = hit.json()
    assert body["messages"][0]["role"] == "system"
    ids = re.findall(r"^id: (\S+)$", body["messages"][1]["content"], re.MULTILINE)
    answer = "```json\n" + json.dumps({i: f"TL;DR of {i}." for i in ids}) + "\n```"
    return 200, {"choices": [{"message": {"role": "assistant", "content": answer}}]}
