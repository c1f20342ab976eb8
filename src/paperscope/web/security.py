"""Who may read and who may write: the token, the session cookie, CSRF, and the security headers.

Writes (ratings, follows, not-interested) always need the token: either as `Authorization: Bearer <token>`
(API clients; a browser never adds it on its own, so it is CSRF-safe by itself) or as the session cookie set by
/login *plus* a CSRF value in a form field or the X-CSRF-Token header, and an Origin/Referer naming this server.
The cookie holds an HMAC of the token, never the token; the CSRF value is another HMAC of it, written only into
pages served to a logged-in browser. Reads are public unless `public_reads` is off.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

SESSION_COOKIE = "paperscope_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

# No inline script, no inline style sheet, nothing from elsewhere. KaTeX sets sizes through the CSSOM
# (element.style), which style-src does not govern, so math renders under this policy.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def new_token() -> str:
    """A random token for a server started without one configured (printed once, like Jupyter's)."""
    return secrets.token_urlsafe(24)


def _mac(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Guard:
    """The server's access rules. `token` None means nothing can be changed through the web."""

    token: str | None = None
    public_reads: bool = True

    @property
    def session_value(self) -> str | None:
        return _mac(self.token, "session") if self.token else None

    @property
    def csrf_value(self) -> str | None:
        return _mac(self.token, "csrf") if self.token else None

    def bearer_ok(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if not self.token or not auth.lower().startswith("bearer "):
            return False
        return hmac.compare_digest(auth[7:].strip().encode(), self.token.encode())

    def cookie_ok(self, request: Request) -> bool:
        got = request.cookies.get(SESSION_COOKIE)
        want = self.session_value
        return bool(got and want and hmac.compare_digest(got.encode(), want.encode()))

    def token_ok(self, given: str) -> bool:
        return bool(self.token and hmac.compare_digest(given.strip().encode(), self.token.encode()))

    def may_read(self, request: Request) -> bool:
        return self.public_reads or self.bearer_ok(request) or self.cookie_ok(request)

    def write_refusal(self, request: Request, form_csrf: str | None = None) -> str | None:
        """Why this state-changing request is refused, or None when it may go ahead."""
        if not self.token:
            return "this server has no token configured, so nothing can be changed through it"
        if self.bearer_ok(request):
            return None
        if not self.cookie_ok(request):
            return "changing the library needs the token: log in at /login or send Authorization: Bearer <token>"
        given = request.headers.get(CSRF_HEADER) or form_csrf or ""
        want = self.csrf_value or ""
        if not hmac.compare_digest(given.encode(), want.encode()):
            return "missing or wrong CSRF value: reload the page and try again"
        if not same_origin(request):
            return "the request came from another site"
        return None


def same_origin(request: Request) -> bool:
    """True when Origin (or, lacking it, Referer) names the host this request was sent to."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True  # not a browser form post from elsewhere: browsers send Origin on cross-site POSTs
    host = request.headers.get("host", "")
    return urlsplit(source).netloc == host


def check_bind(host: str, token: str | None) -> None:
    """Listening beyond this machine is allowed only with a token configured."""
    from paperscope.errors import ConfigError

    if host not in LOCAL_HOSTS and not token:
        raise ConfigError(f"refusing to listen on {host}: set web_token in the config (or $PAPERSCOPE_WEB_TOKEN) "
                          "before serving beyond 127.0.0.1")
