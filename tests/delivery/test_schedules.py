"""Ready-made schedules: each parses as its format, and the command it runs is a real paperscope command."""

from __future__ import annotations

import configparser
import shlex
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from paperscope.cli import main
from paperscope.delivery.schedules import ScheduleSpec, render

SPEC = ScheduleSpec(executable="/opt/my tools/paperscope", db="/data/library.db", config="/etc/paperscope.toml")


def assert_is_a_paperscope_command(argv: list[str]) -> None:
    """Every option the line passes exists on the group or the subcommand, and `--help` of it runs."""
    assert argv[0].endswith("paperscope")
    args = argv[1:]
    group_opts = {o for p in main.params for o in p.opts}
    i = 0
    while args[i].startswith("--"):
        assert args[i] in group_opts, args[i]
        i += 2
    cmd = main.commands[args[i]]
    cmd_opts = {o for p in cmd.params for o in p.opts}
    for a in args[i + 1:]:
        if a.startswith("--"):
            assert a in cmd_opts, a
    res = CliRunner().invoke(main, [*args[: i + 1], "--help"])
    assert res.exit_code == 0, res.output


def test_cron_line_has_five_valid_fields_and_runs_paperscope() -> None:
    text = render("cron", ScheduleSpec(executable="/opt/my tools/paperscope", db="/data/library.db", at="7:05"))
    [line] = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    fields = line.split(None, 5)
    minute, hour, dom, month, dow, command = fields
    assert (minute, hour, dom, month, dow) == ("5", "7", "*", "*", "*")
    assert "%" not in command  # cron would turn it into a newline
    argv = shlex.split(command)
    assert argv[0] == "/opt/my tools/paperscope" and argv[-1] == "run"
    assert_is_a_paperscope_command(argv)


def test_systemd_service_and_timer_parse() -> None:
    text = render("systemd", SPEC)
    service_text, timer_text = text.split("# ~/.config/systemd/user/paperscope.timer")
    service, timer = configparser.ConfigParser(interpolation=None), configparser.ConfigParser(interpolation=None)
    service.optionxform = timer.optionxform = str  # type: ignore[assignment,method-assign]
    service.read_string(service_text)
    timer.read_string(timer_text)
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["RestartPreventExitStatus"] == "1"
    argv = shlex.split(service["Service"]["ExecStart"])
    assert argv[:5] == ["/opt/my tools/paperscope", "--db", "/data/library.db", "--config", "/etc/paperscope.toml"]
    assert_is_a_paperscope_command(argv)
    assert timer["Timer"]["OnCalendar"] == "*-*-* 06:30:00 UTC"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_github_workflow_parses_caches_the_library_and_commits_the_digest() -> None:
    doc: dict[Any, Any] = yaml.safe_load(render("github", ScheduleSpec(at="05:45")))
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on["schedule"] == [{"cron": "45 5 * * *"}] and "workflow_dispatch" in on
    assert doc["permissions"]["contents"] == "write"
    steps = doc["jobs"]["digest"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert "actions/cache/restore@v4" in uses and "actions/cache/save@v4" in uses
    restore = steps[uses.index("actions/cache/restore@v4")]
    save = steps[uses.index("actions/cache/save@v4")]
    assert restore["with"]["path"] == save["with"]["path"] == ".paperscope"
    assert save["if"] == "always()"
    run = next(s for s in steps if s.get("name") == "Run the daily pipeline")
    assert run["env"]["PAPERSCOPE_DB"].startswith(".paperscope/")
    assert "secrets.PAPERSCOPE_SMTP_PASSWORD" in run["env"]["PAPERSCOPE_SMTP_PASSWORD"]
    assert_is_a_paperscope_command(shlex.split(run["run"]))
    commit = next(s for s in steps if s.get("name") == "Commit the Markdown digest")
    assert "git add digest" in commit["run"] and "git push" in commit["run"]


def test_unknown_scheduler_is_one_line_and_exit_1() -> None:
    res = CliRunner().invoke(main, ["schedule", "launchd"])
    assert res.exit_code == 1
    assert res.output.strip() == "Error: unknown scheduler 'launchd': choose one of cron, systemd, github"


def test_bad_time_is_a_user_error() -> None:
    res = CliRunner().invoke(main, ["schedule", "cron", "--at", "25:00"])
    assert res.exit_code == 1 and "--at" in res.output


@pytest.mark.parametrize("kind", ["cron", "systemd", "github"])
def test_cli_prints_each(kind: str) -> None:
    res = CliRunner().invoke(main, ["--db", "/tmp/x.db", "schedule", kind])
    assert res.exit_code == 0 and "paperscope" in res.output and res.output.endswith("\n")
    # a local schedule names this library; the workflow keeps its own under .paperscope/
    assert ("/tmp/x.db" in res.output) == (kind != "github")
