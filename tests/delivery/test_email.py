"""E-mail delivery against a real SMTP server on loopback: the message parsed back and checked part by part."""

from __future__ import annotations

import ssl
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from samples import digest
from smtp_server import SMTPServer, self_signed

from paperscope.delivery.base import DigestMessage
from paperscope.delivery.email import DeliveryError, EmailChannel, SMTPTransport, build_message, smtp_config
from paperscope.errors import ConfigError


def settings(**kw: object) -> SimpleNamespace:
    base = dict(smtp_host="127.0.0.1", smtp_port=0, smtp_security="none", smtp_username="", smtp_password_file="",
                smtp_from="digest@example.org", contact="", http_timeout=5.0)
    base.update(kw)
    return SimpleNamespace(**base)


def test_message_has_inline_styled_html_and_readable_text(smtp: SMTPServer) -> None:
    cfg = smtp_config(settings(smtp_port=smtp.port))
    assert cfg is not None
    channel = EmailChannel(SMTPTransport(cfg), cfg.sender)
    tl = {"2510.00000": "A one-line summary of paper zero."}
    result = channel.send(DigestMessage(digest(), date(2025, 10, 13), to="ada@example.org", name="Ada",
                                        topics=("Topic 0", "Topic 1"), tldr=tl))
    assert result.ok and result.bytes > 0
    [got] = smtp.inbox.messages
    assert got.rcpt_tos == ["ada@example.org"] and got.mail_from == "digest@example.org"
    msg = got.message
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == "Daily Papers 2025-10-13: 6 papers"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    # text: every title, its link, the TL;DR, no markup
    for i in (0, 1, 2, 100, 101, 102):
        assert f"https://arxiv.org/abs/2510.{i:05d}" in text or f"arxiv.org/abs/2510.{i:05d}" in text
    assert "== Topic 0 (3) ==" in text and "TL;DR: A one-line summary of paper zero." in text
    assert "<p" not in text and "Paper number 1 <b>bold</b> & co" in text
    # one thing a line, as a reader's plain-text client shows it (the template's tags once ate the line breaks)
    lines = text.splitlines()
    assert lines[0] == "Daily Papers — 2025-10-13 (for Ada)"
    i = lines.index("* Paper number 0 <b>bold</b> & co")
    assert lines[i - 2:i] == ["== Topic 0 (3) ==", ""]
    assert lines[i + 1:i + 5] == ["  2025-10-13 · http://arxiv.org/abs/2510.00000v1", "  Ada Lovelace, Alan Turing",
                                  "  TL;DR: A one-line summary of paper zero.", ""]
    assert lines[-2:] == ["--", "Sent by paperscope. Your topics: Topic 0, Topic 1."]
    # html: inline styles only, nothing a mail client drops or cannot open, text escaped
    assert "<style" not in html and "<details" not in html and "<script" not in html
    assert html.count('style="') > 20
    assert "Paper number 1 &lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert "A one-line summary of paper zero." in html
    # every tag that shows text carries its own style
    import re

    for tag in re.findall(r"<(?:p|h1|h2|a|td|table)\b[^>]*>", html):
        assert "style=" in tag, tag


def test_size_limit_links_to_the_web_page_instead_of_inlining() -> None:
    big = digest(60, sections=3)
    message = DigestMessage(big, date(2025, 10, 13), to="a@example.org", digest_url="https://example.org/digest/",
                            tldr={p.id: "x" * 200 for s in big.sections for p in s.papers})
    full = build_message(message, "d@example.org", max_bytes=10_000_000)
    small = build_message(message, "d@example.org", max_bytes=30_000)
    assert len(small.as_bytes()) <= 30_000 < len(full.as_bytes())
    html = small.get_body(("html",)).get_content()
    text = small.get_body(("plain",)).get_content()
    assert "more on the web" in html and 'href="https://example.org/digest/"' in html
    assert "more at https://example.org/digest/" in text
    # the subject still counts every paper
    assert small["Subject"].endswith("180 papers")


def test_starttls_with_login(tmp_path: Path) -> None:
    certs = self_signed(tmp_path)
    with SMTPServer("starttls", certs=certs, login=("ada", "s3cret-pw")) as server:
        pw = tmp_path / "pw"
        pw.write_text("s3cret-pw\n")
        cfg = smtp_config(settings(smtp_port=server.port, smtp_security="starttls", smtp_username="ada",
                                   smtp_password_file=str(pw)), env={})
        assert cfg is not None and "s3cret" not in repr(cfg)
        ctx = ssl.create_default_context(cafile=str(certs[0]))
        EmailChannel(SMTPTransport(cfg, ssl_context=ctx), cfg.sender).send(
            DigestMessage(digest(1), date(2025, 10, 13), to="ada@example.org"))
        assert len(server.inbox.messages) == 1
        # a wrong password: one line, and the password is not in it
        bad = smtp_config(settings(smtp_port=server.port, smtp_security="starttls", smtp_username="ada"),
                          env={"PAPERSCOPE_SMTP_PASSWORD": "wrong-pw"})
        with pytest.raises(DeliveryError) as e:
            SMTPTransport(bad, ssl_context=ctx).send(build_message(
                DigestMessage(digest(1), date(2025, 10, 13), to="ada@example.org"), "digest@example.org"))
        assert "refused" in str(e.value) and "wrong-pw" not in str(e.value) and "\n" not in str(e.value)


def test_implicit_tls(tmp_path: Path) -> None:
    certs = self_signed(tmp_path)
    with SMTPServer("ssl", certs=certs) as server:
        cfg = smtp_config(settings(smtp_port=server.port, smtp_security="ssl"))
        ctx = ssl.create_default_context(cafile=str(certs[0]))
        EmailChannel(SMTPTransport(cfg, ssl_context=ctx), cfg.sender).send(  # type: ignore[arg-type]
            DigestMessage(digest(1), date(2025, 10, 13), to="bo@example.org"))
        assert server.inbox.messages[0].rcpt_tos == ["bo@example.org"]


def test_starttls_against_a_plain_server_says_which_setting(smtp: SMTPServer) -> None:
    cfg = smtp_config(settings(smtp_port=smtp.port, smtp_security="starttls"))
    with pytest.raises(DeliveryError, match="smtp_security"):
        SMTPTransport(cfg).send(build_message(DigestMessage(digest(1), date(2025, 10, 13), to="a@example.org"),  # type: ignore[arg-type]
                                              "d@example.org"))


@pytest.mark.parametrize("kw, setting", [
    ({"smtp_security": "tls"}, "smtp_security"),
    ({"smtp_port": 70000}, "smtp_port"),
    ({"smtp_from": "not an address"}, "smtp_from"),
    ({"smtp_username": "ada"}, "smtp_username"),
    ({"smtp_password_file": "/nonexistent/pw"}, "smtp_password_file"),
])
def test_bad_smtp_setting_is_one_line_naming_it(kw: dict[str, object], setting: str) -> None:
    with pytest.raises(ConfigError) as e:
        smtp_config(settings(**kw), env={})
    assert str(e.value).startswith(setting) or setting in str(e.value)
    assert "\n" not in str(e.value)


def test_no_smtp_host_means_no_email() -> None:
    assert smtp_config(settings(smtp_host="")) is None
