"""The digest by e-mail over SMTP: an HTML part mail clients render (inline styles only) and a plain-text part.

The SMTP password is read from $PAPERSCOPE_SMTP_PASSWORD or the file `smtp_password_file` names, kept out of
every repr, log line and error message. A digest bigger than `email_max_bytes` is sent compact (titles and
links, no TL;DRs), then cut per section with a link to `digest_url`, so no mail client clips it.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

from paperscope.delivery.base import DigestMessage, SendResult, count_papers, view
from paperscope.delivery.recipients import _ADDRESS
from paperscope.errors import ConfigError, PaperscopeError

PASSWORD_ENV = "PAPERSCOPE_SMTP_PASSWORD"
SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORT = {"starttls": 587, "ssl": 465, "none": 25}


class DeliveryError(PaperscopeError):
    """A message could not be handed to the server (the text never contains credentials)."""


@dataclass(frozen=True, slots=True)
class SMTPConfig:
    host: str
    port: int
    security: str
    sender: str
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0


def smtp_config(settings: Any, env: Mapping[str, str] | None = None) -> SMTPConfig | None:
    """The SMTP settings checked (None when `smtp_host` is empty): one ConfigError naming the bad setting."""
    env = os.environ if env is None else env
    host = (getattr(settings, "smtp_host", "") or "").strip()
    if not host:
        return None
    security = getattr(settings, "smtp_security", "starttls")
    if security not in SECURITY:
        raise ConfigError(f"smtp_security must be \"starttls\", \"ssl\" or \"none\", got {security!r}")
    port = getattr(settings, "smtp_port", 0) or DEFAULT_PORT[security]
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"smtp_port must be a port number 1-65535, got {port!r}")
    username = (getattr(settings, "smtp_username", "") or "").strip()
    password = env.get(PASSWORD_ENV, "")
    pw_file = (getattr(settings, "smtp_password_file", "") or "").strip()
    if pw_file and not password:
        path = Path(pw_file).expanduser()
        try:
            password = path.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"smtp_password_file: cannot read {path} ({e.strerror or e})") from None
    if username and not password:
        raise ConfigError(f"smtp_username is set but no password: set ${PASSWORD_ENV} or smtp_password_file")
    sender = (getattr(settings, "smtp_from", "") or "").strip() or username or getattr(settings, "contact", "")
    if not sender or not _ADDRESS.fullmatch(sender):
        raise ConfigError(f"smtp_from must be the sender's address like \"digest@example.org\", got {sender!r}")
    timeout = float(getattr(settings, "http_timeout", 30.0) or 30.0)
    return SMTPConfig(host, port, security, sender, username, password, timeout)


class Transport(Protocol):
    """Hands a finished message to a mail server."""

    def send(self, msg: EmailMessage) -> None: ...


class SMTPTransport:
    """smtplib, one connection per message (a digest goes to a handful of people once a day)."""

    def __init__(self, cfg: SMTPConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.cfg = cfg
        self.ssl_context = ssl_context or ssl.create_default_context()

    def send(self, msg: EmailMessage) -> None:
        c = self.cfg
        where = f"{c.host}:{c.port}"
        try:
            if c.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=self.ssl_context)
            else:
                conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            with conn:
                conn.ehlo()
                if c.security == "starttls":
                    conn.starttls(context=self.ssl_context)
                    conn.ehlo()
                if c.username:
                    conn.login(c.username, c.password)
                conn.send_message(msg)
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(f"SMTP {where}: login as {c.username!r} refused ({e.smtp_code})") from None
        except smtplib.SMTPNotSupportedError as e:
            raise DeliveryError(f"SMTP {where}: {e} (check smtp_security)") from None
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(f"SMTP {where}: recipient refused: {', '.join(e.recipients)}") from None
        except smtplib.SMTPException as e:
            raise DeliveryError(f"SMTP {where}: {type(e).__name__}: {e}") from None
        except ssl.SSLError as e:
            raise DeliveryError(f"SMTP {where}: TLS failed ({e.reason}); check smtp_security and smtp_port") from None
        except OSError as e:
            raise DeliveryError(f"SMTP {where}: cannot connect ({e.strerror or e})") from None


def _environment() -> Any:
    try:
        import jinja2
    except ImportError:
        raise ConfigError("e-mail digests need Jinja2: pip install 'paperscope[email]'") from None

    return jinja2.Environment(
        loader=jinja2.PackageLoader("paperscope.delivery", "templates"),
        autoescape=lambda name: (name or "").endswith(".html.j2"),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def subject(message: DigestMessage) -> str:
    n = count_papers(message)
    if message.notice and not n:
        return f"{message.digest.title} {message.date:%Y-%m-%d}: {message.notice}"
    return f"{message.digest.title} {message.date:%Y-%m-%d}: {n} paper{'s' if n != 1 else ''}"


def build_message(message: DigestMessage, sender: str, *, max_bytes: int = 100_000,
                  env: Any = None) -> EmailMessage:
    """The multipart/alternative e-mail, fitted under `max_bytes`: full, else compact, else cut per section."""
    env = env or _environment()
    html_t, text_t = env.get_template("email.html.j2"), env.get_template("email.txt.j2")
    attempts: list[tuple[int | None, bool]] = [(None, True), (None, False)]
    attempts += [(n, False) for n in (50, 20, 10, 5, 3, 1) if n < max((len(s.papers) for s in
                                                                       message.digest.sections), default=0)]
    msg = EmailMessage()
    for per_section, tldr in attempts:
        data = view(message, per_section=per_section, tldr=tldr)
        msg = _assemble(message, sender, text_t.render(**data), html_t.render(**data))
        if len(msg.as_bytes()) <= max_bytes:
            break
    return msg


def _assemble(message: DigestMessage, sender: str, text: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(message)
    msg["From"] = formataddr(("paperscope", sender))
    msg["To"] = formataddr((message.name, message.to)) if message.name else message.to
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[-1])
    msg["X-Paperscope-Digest"] = message.date.isoformat()
    msg.set_content(text)  # text/plain first: clients show the last part they can render
    msg.add_alternative(html, subtype="html")
    return msg


class EmailChannel:
    """Delivers digests as e-mails through an injected transport (SMTPTransport in use, a fake in tests)."""

    name = "email"

    def __init__(self, transport: Transport, sender: str, *, max_bytes: int = 100_000,
                 keep: Callable[[DigestMessage, EmailMessage], None] | None = None) -> None:
        self.transport = transport
        self.sender = sender
        self.max_bytes = max_bytes
        self.keep = keep  # called with each built message before sending: the outbox `send` re-sends from

    def send(self, message: DigestMessage) -> SendResult:
        if not message.to:
            raise DeliveryError("an e-mail digest needs a recipient address")
        msg = build_message(message, self.sender, max_bytes=self.max_bytes)
        if self.keep:
            self.keep(message, msg)
        self.transport.send(msg)
        return SendResult("email", message.to, True, msg["Subject"], len(msg.as_bytes()))


def resend(transport: Transport, path: Path) -> SendResult:
    """Send a kept message (.eml) again, byte for byte but with a fresh Date."""
    from email import policy
    from email.parser import BytesParser

    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    del msg["Date"]
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    transport.send(msg)  # type: ignore[arg-type]
    return SendResult("email", str(msg["To"]), True, f"re-sent {path.name}", len(msg.as_bytes()))
