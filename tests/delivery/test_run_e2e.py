"""`paperscope run` end to end: the bundled sample in a temp library, a local arXiv, a real SMTP server on
loopback; two recipients each get their own topics, nothing is sent twice, `paperscope send` re-sends."""

from __future__ import annotations

import gzip
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from arxiv_server import ApiEmulator, ArxivServer, Reply, Request, Router, load_entries
from click.testing import CliRunner

from http_endpoint import Endpoint, fake_llm
from smtp_server import SMTPServer

from paperscope.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"
ATOM = FIXTURES / "atom"
FEED = (FIXTURES / "announce" / "cs.CL+cs.LG_2025-10-13.xml").read_bytes()
MONDAY = "2025-10-13T09:00:00+00:00"  # after Sunday evening's announcement, listed in the feed of 10-13
SAMPLE = Path(__file__).parents[2] / "src" / "paperscope" / "data" / "sample.jsonl.gz"
STEPS = ["--step", "fetch", "--step", "embed", "--step", "novelty", "--step", "score", "--step", "digest",
         "--step", "deliver"]  # enrich asks OpenAlex: its own tests cover it


@pytest.fixture
def arxiv() -> Any:
    search, ids = ApiEmulator(load_entries(ATOM / "api_25_real_records_newest_first.xml")), \
        ApiEmulator(load_entries(ATOM / "api_announced_2025-10-13.xml"))

    def api(req: Request) -> Reply:
        return (ids if req.query.get("id_list") else search)(req)

    with ArxivServer(Router({"/api/query": api, "/atom": lambda req: Reply(body=FEED)})) as server:
        yield server


def small_sample(path: Path, n: int = 600) -> Path:
    """The first n papers of the bundled sample (the whole of it takes longer to embed than a test should)."""
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as src, gzip.open(path, "wt", encoding="utf-8") as dst:
        dst.writelines(itertools.islice(src, n))
    return path


def config(arxiv: ArxivServer, smtp: SMTPServer, recipients: str) -> str:
    return f'''
arxiv_api_url = "{arxiv.url}/api/query"
arxiv_feed_url = "{arxiv.url}/atom"
arxiv_pace = 0.0
http_retries = 0
feed_categories = ["cs.CL", "cs.LG"]
smtp_host = "127.0.0.1"
smtp_port = {smtp.port}
smtp_security = "none"
smtp_from = "digest@example.org"
digest_url = "https://example.org/digest/"

[[topics]]
name = "Reward Model"
query = '"reward model" OR RLHF OR "preference optimization"'
max_papers = 8

[[topics]]
name = "Hallucination"
query = 'hallucination OR hallucinations'
max_papers = 8

[[topics]]
name = "Diffusion Models"
query = '"diffusion model" OR "diffusion models" OR "score-based"'
max_papers = 8
{recipients}'''


TWO = '''
[[recipients]]
name = "Ada"
email = "ada@example.org"
topics = ["Reward Model", "Hallucination"]

[[recipients]]
name = "Bo"
email = "bo@example.org"
topics = ["Diffusion Models"]
'''


def cli(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--db", str(tmp_path / "library.db"), "--config", str(tmp_path / "config.toml"),
                                     *args], catch_exceptions=False)


@pytest.fixture
def chat() -> Any:
    with Endpoint() as hook:
        yield hook


@pytest.fixture
def llm() -> Any:
    with Endpoint(fake_llm) as server:
        yield server


def test_run_delivers_each_recipient_their_topics_once(tmp_path: Path, arxiv: ArxivServer, smtp: SMTPServer,
                                                       chat: Endpoint, llm: Endpoint,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERSCOPE_CHAT_URLS", f"json://127.0.0.1:{chat.port}/papers")
    tldr = f'tldr_url = "{llm.url}/v1"\ntldr_model = "tiny"\n'
    text = config(arxiv, smtp, TWO).replace("digest_url =", tldr + "digest_url =")
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    imported = cli(tmp_path, "import", "--no-embed", str(small_sample(tmp_path / "sample.jsonl.gz")))
    assert imported.exit_code == 0, imported.output

    res = cli(tmp_path, "run", *STEPS, "--now", MONDAY, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["status"] == "ok" and out["quiet"] is None
    assert [s["name"] for s in out["steps"]] == ["fetch", "embed", "novelty", "score", "digest", "deliver"]
    assert out["steps"][0]["data"]["announced"] == 9
    assert (tmp_path / "digest" / "README.md").is_file() and (tmp_path / "digest" / "index.html").is_file()

    assert sorted(r for m in smtp.inbox.messages for r in m.rcpt_tos) == ["ada@example.org", "bo@example.org"]
    [ada] = smtp.inbox.to("ada@example.org")
    [bo] = smtp.inbox.to("bo@example.org")
    ada_html, ada_text = ada.get_body(("html",)).get_content(), ada.get_body(("plain",)).get_content()
    bo_text = bo.get_body(("plain",)).get_content()
    assert "== Reward Model (" in ada_text and "== Hallucination (" in ada_text
    assert "Diffusion Models (" not in ada_text
    assert "== Diffusion Models (" in bo_text and "Reward Model (" not in bo_text
    assert "<style" not in ada_html and "<details" not in ada_html and 'style="' in ada_html
    assert re.search(r"TL;DR: TL;DR of \d{4}\.\d{5}\.", ada_text)  # written by the local endpoint
    assert ada["X-Paperscope-Digest"] == "2025-10-13"
    [posted] = chat.hits
    assert posted.json()["title"].startswith("Daily Papers 2025-10-13: ")
    asked = len(llm.hits)

    # the same day again: the digest is rebuilt, nobody gets it twice
    again = cli(tmp_path, "run", *STEPS, "--now", MONDAY)
    assert again.exit_code == 0, again.output
    assert "3 already sent" in again.output and len(smtp.inbox.messages) == 2
    assert len(chat.hits) == 1 and len(llm.hits) == asked  # nobody left to send to: nothing asked

    # `paperscope send` re-sends the kept messages as they were
    sent = cli(tmp_path, "send", "--to", "bo@example.org", "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.output)["date"] == "2025-10-13"
    assert len(smtp.inbox.to("bo@example.org")) == 2 and len(smtp.inbox.to("ada@example.org")) == 1
    resent = smtp.inbox.to("bo@example.org")[1]
    assert resent.get_body(("plain",)).get_content() == bo_text


def test_a_refused_recipient_is_partial_and_only_they_get_it_next_time(tmp_path: Path, arxiv: ArxivServer,
                                                                        smtp: SMTPServer) -> None:
    (tmp_path / "config.toml").write_text(config(arxiv, smtp, TWO), encoding="utf-8")
    cli(tmp_path, "import", "--no-embed", str(small_sample(tmp_path / "s.jsonl.gz", 200)))
    smtp.inbox.refuse.add("bo@example.org")
    first = cli(tmp_path, "run", "--step", "digest", "--step", "deliver", "--now", MONDAY)
    assert first.exit_code == 2, first.output
    assert "bo@example.org" in first.output and len(smtp.inbox.messages) == 1
    smtp.inbox.refuse.clear()
    second = cli(tmp_path, "run", "--step", "digest", "--step", "deliver", "--now", MONDAY)
    assert second.exit_code == 0, second.output
    assert [m.rcpt_tos for m in smtp.inbox.messages] == [["ada@example.org"], ["bo@example.org"]]


def test_a_quiet_day_says_so_and_sends_nothing(tmp_path: Path, arxiv: ArxivServer, smtp: SMTPServer) -> None:
    (tmp_path / "config.toml").write_text(config(arxiv, smtp, TWO), encoding="utf-8")
    res = cli(tmp_path, "run", "--step", "digest", "--step", "deliver", "--now", "2025-11-28T09:00:00+00:00")
    assert res.exit_code == 0, res.output
    assert "arXiv announced nothing today (holiday: Thanksgiving)" in res.output
    assert smtp.inbox.messages == []
    md = (tmp_path / "digest" / "README.md").read_text(encoding="utf-8")
    assert "holiday: Thanksgiving" in md


@pytest.mark.parametrize("recipients, setting", [
    ('[[recipients]]\nemail = "not-an-address"\n', "field 'email'"),
    ('[[recipients]]\nemail = "a@example.org"\ntopics = ["Nope"]\n', "no topic named 'Nope'"),
    ('[[recipients]]\nemail = "a@example.org"\ncolour = "red"\n', "unknown field 'colour'"),
])
def test_bad_recipient_is_one_line_exit_1_nothing_sent(tmp_path: Path, arxiv: ArxivServer, smtp: SMTPServer,
                                                       recipients: str, setting: str) -> None:
    (tmp_path / "config.toml").write_text(config(arxiv, smtp, recipients), encoding="utf-8")
    res = cli(tmp_path, "run", "--now", MONDAY)
    assert res.exit_code == 1
    line = res.output.strip()
    assert setting in line and "config.toml:" in line and "\n" not in line
    assert smtp.inbox.messages == [] and arxiv.requests == []


def test_bad_smtp_setting_stops_before_any_work(tmp_path: Path, arxiv: ArxivServer, smtp: SMTPServer) -> None:
    text = config(arxiv, smtp, TWO).replace('smtp_security = "none"', 'smtp_security = "tls"')
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    res = cli(tmp_path, "run", "--now", MONDAY)
    assert res.exit_code == 1 and "smtp_security" in res.output and arxiv.requests == []


def test_send_without_a_digest_says_run_first(tmp_path: Path, arxiv: ArxivServer, smtp: SMTPServer) -> None:
    (tmp_path / "config.toml").write_text(config(arxiv, smtp, TWO), encoding="utf-8")
    res = cli(tmp_path, "send")
    assert res.exit_code == 1 and "paperscope run" in res.output
