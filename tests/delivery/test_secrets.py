"""Credentials are never printed: not by `paperscope config`, not in a failed run's output."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from smtp_server import SMTPServer

from paperscope.cli import main


def test_config_and_a_failed_login_do_not_show_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SMTPServer("plain", login=("ada", "right-pw")) as server:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'''
smtp_host = "127.0.0.1"
smtp_port = {server.port}
smtp_security = "none"
smtp_username = "ada"
smtp_from = "digest@example.org"

[[topics]]
name = "T"
query = "anything"

[[recipients]]
email = "ada@example.org"
''', encoding="utf-8")
        monkeypatch.setenv("PAPERSCOPE_SMTP_PASSWORD", "pw-SECRET-1")
        monkeypatch.setenv("PAPERSCOPE_TLDR_API_KEY", "key-SECRET-2")
        monkeypatch.setenv("PAPERSCOPE_CHAT_URLS", "json://user:chat-SECRET-3@127.0.0.1:9/")
        args = ["--db", str(tmp_path / "l.db"), "--config", str(cfg)]
        shown = CliRunner().invoke(main, [*args, "config"])
        assert shown.exit_code == 0, shown.output
        res = CliRunner().invoke(main, [*args, "run", "--step", "digest", "--step", "deliver",
                                        "--now", "2025-10-13T09:00:00+00:00", "--json"])
        assert res.exit_code == 2, res.output
        assert "login as 'ada' refused" in res.output
        for out in (shown.output, res.output):
            assert "SECRET" not in out
        assert server.inbox.messages == []
