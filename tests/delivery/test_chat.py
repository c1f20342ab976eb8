"""Chat and push delivery through apprise, against a local HTTP endpoint (apprise's json:// and ntfy:// forms)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from http_endpoint import Endpoint
from samples import digest

from paperscope.delivery.base import DigestMessage
from paperscope.delivery.chat import ChatChannel, ChatError, chat_targets, render_chat, target_key
from paperscope.errors import ConfigError

DAY = date(2025, 10, 13)


def test_json_webhook_gets_the_summary() -> None:
    with Endpoint() as hook:
        [target] = chat_targets(SimpleNamespace(chat_config=""), env={"PAPERSCOPE_CHAT_URLS": f"json://127.0.0.1:{hook.port}/hook"})
        channel = ChatChannel(target)
        result = channel.send(DigestMessage(digest(8), DAY, digest_url="https://example.org/d/",
                                            tldr={"2510.00000": "Zero in a line."}))
        assert result.ok
        [hit] = hook.hits
    body = hit.json()
    assert hit.path == "/hook"
    assert body["title"] == "Daily Papers 2025-10-13: 16 papers"
    msg = body["message"]
    assert "**Topic 0** (8)" in msg and "[Paper number 0 <b>bold</b> & co](http://arxiv.org/abs/2510.00000v1)" in msg
    assert "Zero in a line." in msg and "… and 3 more" in msg and "Full digest: https://example.org/d/" in msg


def test_ntfy_through_apprise_and_a_config_file(tmp_path: Path) -> None:
    with Endpoint() as ntfy:
        conf = tmp_path / "apprise.txt"
        conf.write_text(f"ntfy://127.0.0.1:{ntfy.port}/papers\n")
        targets = chat_targets(SimpleNamespace(chat_config=str(conf)), env={})
        assert len(targets) == 1
        ChatChannel(targets[0]).send(DigestMessage(digest(1), DAY, notice="arXiv announced nothing today (weekend)."))
        [hit] = ntfy.hits
    assert "papers" in hit.path or hit.json().get("topic") == "papers"
    assert b"arXiv announced nothing today" in hit.body


def test_a_failing_service_is_an_error_naming_the_target_without_its_secret() -> None:
    with Endpoint(lambda hit: (500, {"error": "down"})) as hook:
        [target] = chat_targets(SimpleNamespace(chat_config=""),
                                env={"PAPERSCOPE_CHAT_URLS": f"json://user:topsecret@127.0.0.1:{hook.port}/"})
        with pytest.raises(ChatError) as e:
            ChatChannel(target).send(DigestMessage(digest(1), DAY))
    assert "topsecret" not in str(e.value) and "127.0.0.1" in str(e.value)
    assert "topsecret" not in target_key(target)


def test_bad_chat_settings_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PAPERSCOPE_CHAT_URLS"):
        chat_targets(SimpleNamespace(chat_config=""), env={"PAPERSCOPE_CHAT_URLS": "nosuchservice://x"})
    with pytest.raises(ConfigError, match="chat_config"):
        chat_targets(SimpleNamespace(chat_config=str(tmp_path / "missing.yml")), env={})
    assert chat_targets(SimpleNamespace(chat_config=""), env={}) == []


def test_render_says_the_note_of_an_empty_section() -> None:
    d = digest(0, sections=1)
    d.sections[0].note = "arXiv announced nothing today (holiday: Thanksgiving)."
    title, body = render_chat(DigestMessage(d, DAY))
    assert title.endswith("0 papers") and "holiday: Thanksgiving" in body
