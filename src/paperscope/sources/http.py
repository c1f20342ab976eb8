"""The polite HTTP client every source uses: one pace per host, retries with backoff, a clear User-Agent.

Everything that varies in tests is passed in: the transport (httpx.MockTransport or a real one pointed at a
local server), the base URL, the pace, the clock and the sleep function.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import orjson

from paperscope import __version__
from paperscope.errors import HTTPError, MalformedError, RateLimitedError, UnreachableError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ARXIV_MIN_PACE = 3.0  # arXiv's terms of use: one request every three seconds
T = TypeVar("T")


def user_agent(contact: str = "") -> str:
    """A distinctive User-Agent naming the tool and, when configured, a contact address."""
    ua = f"paperscope/{__version__} (+https://pypi.org/project/paperscope/)"
    return f"{ua} mailto:{contact}" if contact else ua


class Pacer:
    """Keeps at least `interval` seconds between the starts of any two requests that share it.

    arXiv asks for one request every 3 seconds from the whole process, so the service hands one Pacer
    to every arXiv source (API, announcement feed, OAI-PMH). The gap is counted from when a request was
    really sent (`sent`, which the PoliteClient calls just before the bytes go out), not from when it was
    planned: a request that starts late (a busy CPU, a slow sleep) must not shorten the gap after it.
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (isinstance(interval, (int, float)) and math.isfinite(interval) and interval >= 0):
            raise ValueError(f"pace must be a finite number of seconds >= 0, got {interval!r}")
        self.interval = float(interval)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last = -math.inf  # when the latest request was sent
        self._hold = -math.inf  # no request before this (Retry-After)

    def wait(self, min_interval: float = 0.0) -> None:
        """Block until the next request may start (at least max(interval, min_interval) after the last)."""
        gap = max(self.interval, min_interval)
        with self._lock:
            while True:
                now = self._clock()
                due = max(self._last + gap, self._hold)
                if now >= due:
                    break
                self._sleep(due - now)  # read the clock again after: a sleep may end early or late
            self._last = now

    def sent(self) -> None:
        """Record that a request is going out now; the next gap counts from here."""
        with self._lock:
            self._last = max(self._last, self._clock())

    def defer(self, seconds: float) -> None:
        """Push the next slot back, e.g. after a Retry-After answer."""
        with self._lock:
            self._hold = max(self._hold, self._clock() + seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: attempts after the first, backoff base and cap in seconds, jitter fraction."""

    retries: int = 4
    backoff: float = 2.0
    max_backoff: float = 120.0
    jitter: float = 0.5


def _retry_after(resp: httpx.Response, now: float) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # '-0000' parses naive; HTTP dates are GMT, not local time
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - now)


class _Truncated(Exception):
    """A body shorter than its Content-Length said."""


def _check_length(resp: httpx.Response) -> None:
    declared = resp.headers.get("Content-Length")
    # Only an unencoded body can be measured against the header (httpx hands gzip bodies back decoded).
    if declared and declared.isdigit() and not resp.headers.get("Content-Encoding") \
            and resp.request.method != "HEAD" and resp.status_code not in (204, 304):
        got = len(resp.content)
        if got < int(declared):
            raise _Truncated(f"{got} of {declared} bytes")


def _is_arxiv(url: str) -> bool:
    host = _host(url)
    return host == "arxiv.org" or host.endswith(".arxiv.org")


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except (httpx.InvalidURL, TypeError):
        return url


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:120] if text else ""


def _failed_url(exc: httpx.RequestError, fallback: str) -> str:
    try:
        return str(exc.request.url)
    except RuntimeError:  # an exception raised outside a request carries none
        return fallback


class PoliteClient:
    """GET/POST with pacing and retries on 429, 5xx, timeouts, dropped connections and cut-off bodies.

    A host that cannot be reached at all (DNS failure, connection refused) is not retried for minutes:
    after a few quick tries within `unreachable_budget` seconds it raises UnreachableError, and later
    requests through this client fail at once for `unreachable_memo` seconds, so an offline run ends fast.
    Requests to arxiv.org are never paced under ARXIV_MIN_PACE, whatever the Pacer says.
    """

    def __init__(
        self,
        base_url: str,
        *,
        pacer: Pacer | None = None,
        contact: str = "",
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        unreachable_budget: float = 10.0,
        unreachable_memo: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.pacer = pacer or Pacer(0.0)
        self.retry = retry
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.unreachable_budget = unreachable_budget
        self.unreachable_memo = unreachable_memo
        self._down: tuple[float, str] | None = None  # (when, what failed) after an UnreachableError
        self.min_pace = ARXIV_MIN_PACE if _is_arxiv(self.base_url) else 0.0
        all_headers = {"User-Agent": user_agent(contact)}
        all_headers.update(headers or {})
        self._client = httpx.Client(
            transport=transport, timeout=timeout, headers=all_headers, follow_redirects=True,
            event_hooks={"request": [self._sending]},
        )

    def _sending(self, request: httpx.Request) -> None:
        self.pacer.sent()  # called by httpx just before the request goes out: the pace counts from here

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "PoliteClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    def get(self, path: str = "", params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET with retries; returns the response for any final status below 500 except 429."""
        return self.request("GET", path, params=params)

    def get_parsed(self, path: str, parse: Callable[[httpx.Response], T],
                   params: Mapping[str, Any] | None = None) -> T:
        """GET and parse; a 2xx/3xx body that `parse` rejects with MalformedError (most often one cut short in
        transit) is asked again like a 5xx answer. Returns what `parse` returned."""
        return self.request("GET", path, parse=parse, params=params)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter for the given retry number (0-based)."""
        base = min(self.retry.max_backoff, self.retry.backoff * (2**attempt))
        return base * (1 + self._rng.uniform(0, self.retry.jitter))

    def request(self, method: str, path: str, *, parse: Callable[[httpx.Response], Any] | None = None,
                **kwargs: Any) -> Any:
        url = self.url(path)
        if self._down is not None:
            when, problem = self._down
            if self._clock() - when < self.unreachable_memo:
                raise UnreachableError(f"{method} not sent: {problem} {self._clock() - when:.0f}s ago", url)
            self._down = None
        failed_url = url  # the full URL (query included) of the last request that got no answer
        last_problem = ""
        started = self._clock()
        connect_failures = 0
        for attempt in range(self.retry.retries + 1):
            last = attempt == self.retry.retries
            self.pacer.wait(self.min_pace)
            try:
                resp = self._client.request(method, url, **kwargs)
                _check_length(resp)
            except httpx.ConnectError as e:  # DNS failure, refused: no server is there to answer
                failed_url = _failed_url(e, url)
                last_problem = f"cannot connect ({_first_line(e) or type(e).__name__})"
                connect_failures += 1
                wait = min(float(connect_failures), self.backoff(0))
                if last or self._clock() - started + wait + self.pacer.interval > self.unreachable_budget:
                    self._down = (self._clock(), f"{_host(url)} was unreachable")
                    raise UnreachableError(f"{method} failed: {_host(url)} unreachable after {attempt + 1} "
                                           f"attempts: {last_problem}; check the network", failed_url) from None
                self._sleep(wait)
                continue
            except httpx.TimeoutException as e:
                last_problem = "timed out"
                failed_url = _failed_url(e, url)  # with its query string, so the error names what was asked
                resp = None
            except httpx.TransportError as e:  # reset, dropped mid-body
                last_problem = f"connection failed: {type(e).__name__}"
                failed_url = _failed_url(e, url)
                resp = None
            except (httpx.DecodingError, _Truncated) as e:  # a gzip body or a Content-Length cut short
                last_problem = f"body cut short: {_first_line(e) or type(e).__name__}"
                failed_url = _failed_url(e, url) if isinstance(e, httpx.RequestError) else url
                resp = None
            if resp is not None:
                if resp.status_code not in RETRY_STATUSES:
                    if parse is None:
                        return resp
                    try:
                        return parse(resp)
                    except MalformedError as e:
                        if resp.status_code >= 400:
                            raise
                        # A 200 whose XML stops early is a response cut off in transit: ask again.
                        last_problem = f"unreadable body: {e}"
                        if last:
                            raise MalformedError(f"{method} failed after {attempt + 1} attempts: {last_problem}",
                                             e.url) from None
                        self._sleep(self.backoff(attempt))
                        continue
                last_problem = f"HTTP {resp.status_code}"
                cls = RateLimitedError if resp.status_code in (429, 503) else HTTPError
                if last:
                    raise cls(
                        f"{method} failed after {attempt + 1} attempts: {last_problem}",
                        str(resp.request.url),
                        resp.status_code,
                    )
                wait = _retry_after(resp, time.time())
                if wait is not None:
                    if wait > self.retry.max_backoff:
                        # Honouring an hour-long Retry-After would hang the command silently; say so instead.
                        raise cls(
                            f"{method} refused: {last_problem}, the server asks to wait {wait:.0f}s "
                            f"(over the {self.retry.max_backoff:.0f}s this client waits); try again later",
                            str(resp.request.url),
                            resp.status_code,
                        )
                    self.pacer.defer(wait)
                    continue
            elif last:
                raise HTTPError(f"{method} failed after {attempt + 1} attempts: {last_problem}", failed_url)
            self._sleep(self.backoff(attempt))
        raise HTTPError(f"{method} failed: {last_problem}", url)  # pragma: no cover - loop always returns/raises

    def retry_empty(self, attempt: int) -> bool:
        """Sleep before re-asking for an unexpectedly empty page; False when attempts are used up."""
        if attempt >= self.retry.retries:
            return False
        self._sleep(self.backoff(attempt))
        return True


def require_json(resp: httpx.Response) -> httpx.Response:
    """A `parse` for JSON APIs: MalformedError when a 2xx body is not complete JSON (cut short in transit),
    so the client asks again; the response is returned as it came."""
    if resp.status_code < 300:
        try:
            orjson.loads(resp.content)
        except orjson.JSONDecodeError as e:
            raise MalformedError(f"invalid JSON ({e})", str(resp.request.url)) from None
    return resp


def check_status(resp: httpx.Response) -> httpx.Response:
    """Raise HTTPError for a 4xx answer, naming the URL and status."""
    if resp.status_code >= 400:
        raise HTTPError(f"HTTP {resp.status_code}", str(resp.request.url), resp.status_code)
    return resp


def paced_client(
    base_url: str,
    *,
    pace: float,
    contact: str = "",
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> PoliteClient:
    """A PoliteClient with a Pacer of its own (for an API that is not arXiv's shared pace)."""
    return PoliteClient(
        base_url, pacer=Pacer(pace, sleep=sleep), contact=contact, transport=transport,
        timeout=timeout, retry=retry, sleep=sleep,
    )
