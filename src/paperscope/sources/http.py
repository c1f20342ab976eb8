"""The polite HTTP client every source uses: one pace per host, retries with backoff, a clear User-Agent.

Everything that varies in tests is passed in: the transport (httpx.MockTransport or a real one pointed at a
local server), the base URL, the pace, the clock and the sleep function.
"""

from __future__ import annotations

import datetime
import email.utils
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from paperscope import __version__
from paperscope.errors import HTTPError, RateLimitedError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def user_agent(contact: str = "") -> str:
    """A distinctive User-Agent naming the tool and, when configured, a contact address."""
    ua = f"paperscope/{__version__} (+https://pypi.org/project/paperscope/)"
    return f"{ua} mailto:{contact}" if contact else ua


class Pacer:
    """Keeps at least `interval` seconds between the starts of any two requests that share it.

    arXiv asks for one request every 3 seconds from the whole process, so the service hands one Pacer
    to every arXiv source (API, announcement feed, OAI-PMH).
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        """Block until the next request may start, and claim that slot."""
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval

    def defer(self, seconds: float) -> None:
        """Push the next slot back, e.g. after a Retry-After answer."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


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


def _failed_url(exc: httpx.TransportError, fallback: str) -> str:
    try:
        return str(exc.request.url)
    except RuntimeError:  # an exception raised outside a request carries none
        return fallback


class PoliteClient:
    """GET/POST with pacing and retries on 429, 5xx, timeouts and dropped connections."""

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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.pacer = pacer or Pacer(0.0)
        self.retry = retry
        self._sleep = sleep
        self._rng = rng or random.Random()
        all_headers = {"User-Agent": user_agent(contact)}
        all_headers.update(headers or {})
        self._client = httpx.Client(
            transport=transport, timeout=timeout, headers=all_headers, follow_redirects=True
        )

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

    def post(self, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None) -> httpx.Response:
        return self.request("POST", path, params=params, json=json)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter for the given retry number (0-based)."""
        base = min(self.retry.max_backoff, self.retry.backoff * (2**attempt))
        return base * (1 + self._rng.uniform(0, self.retry.jitter))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.url(path)
        failed_url = url  # the full URL (query included) of the last request that got no answer
        last_problem = ""
        for attempt in range(self.retry.retries + 1):
            self.pacer.wait()
            try:
                resp = self._client.request(method, url, **kwargs)
            except httpx.TimeoutException as e:
                last_problem = "timed out"
                failed_url = _failed_url(e, url)  # with its query string, so the error names what was asked
                resp = None
            except httpx.TransportError as e:  # refused, reset, dropped mid-body
                last_problem = f"connection failed: {type(e).__name__}"
                failed_url = _failed_url(e, url)
                resp = None
            if resp is not None:
                if resp.status_code not in RETRY_STATUSES:
                    return resp
                last_problem = f"HTTP {resp.status_code}"
                cls = RateLimitedError if resp.status_code in (429, 503) else HTTPError
                if attempt == self.retry.retries:
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
            elif attempt == self.retry.retries:
                raise HTTPError(f"{method} failed after {attempt + 1} attempts: {last_problem}", failed_url)
            self._sleep(self.backoff(attempt))
        raise HTTPError(f"{method} failed: {last_problem}", url)  # pragma: no cover - loop always returns/raises

    def retry_empty(self, attempt: int) -> bool:
        """Sleep before re-asking for an unexpectedly empty page; False when attempts are used up."""
        if attempt >= self.retry.retries:
            return False
        self._sleep(self.backoff(attempt))
        return True


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
