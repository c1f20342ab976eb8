"""The README's "Daily digest by email" works as written: its config loads, its commands are real ones, its exit codes are the code's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from paperscope.cli import main
from paperscope.config import load_config
from paperscope.service.daily import ExitCode

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
DOC = README.split("## Daily digest by email", 1)[1].split("\n## ", 1)[0]  # the README's section, as written


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, re.DOTALL)


def test_the_config_loads(tmp_path: Path) -> None:
    [toml] = blocks("toml")
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    cfg = load_config(path)
    assert [r.email for r in cfg.recipients] == ["ada@example.org", "bo@example.org"]
    assert cfg.recipients[1].topics == ("Hallucination",) and cfg.smtp_security == "starttls"


def test_every_command_exists_with_its_options() -> None:
    commands = [ln.split("#")[0].strip() for b in blocks("sh") for ln in b.splitlines()
                if ln.strip().startswith("paperscope ")]
    assert len(commands) >= 6
    for line in commands:
        argv = shlex.split(line.split(">")[0])[1:]
        sub = main.commands[argv[0]]
        opts = {o for p in sub.params for o in p.opts}
        assert all(a in opts for a in argv[1:] if a.startswith("--")), line
        assert CliRunner().invoke(main, [argv[0], "--help"]).exit_code == 0


def test_the_exit_code_table_is_the_code() -> None:
    rows = re.findall(r"^\| (\d+) \|", DOC, re.MULTILINE)
    assert sorted(int(r) for r in rows) == sorted(int(c) for c in ExitCode)
