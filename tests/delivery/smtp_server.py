"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd in a thread): plain, STARTTLS or implicit TLS, with an
optional login; every message it accepts is kept, parsed back with the email package."""

from __future__ import annotations

import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Inbox:
    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg, raw))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.messages if address in r.rcpt_tos]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (openssl), so TLS is tested for real."""
    import shutil

    import pytest

    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


class SMTPServer:
    """`mode` is "plain", "starttls" or "ssl"; `login` (user, password) makes AUTH required."""

    def __init__(self, mode: str = "plain", *, certs: tuple[Path, Path] | None = None,
                 login: tuple[str, str] | None = None) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.mode = mode
        self.login = login
        kw: dict[str, Any] = {}
        if mode != "plain":
            assert certs
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*certs)
            kw["ssl_context" if mode == "ssl" else "tls_context"] = ctx
            if mode == "starttls":
                kw["require_starttls"] = True
        if login:
            kw["authenticator"] = self._auth
            kw["auth_require_tls"] = mode != "plain"
            kw["auth_required"] = True
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kw)

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.login is not None and \
            (auth_data.login.decode(), auth_data.password.decode()) == self.login
        return AuthResult(success=ok, handled=False)

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
