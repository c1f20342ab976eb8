"""Ready-made schedules for the daily pipeline: a crontab line, a systemd service + timer, a GitHub Actions
workflow. Pure text; `paperscope schedule KIND` prints them.

arXiv announces at 20:00 US Eastern and its announcement feed is rebuilt just after midnight Eastern
(04:00–05:00 UTC), so the default run time, 06:30 UTC, is after both all year round. `paperscope run` knows
the calendar and never sends a digest twice, so running on a quiet day or twice a day is harmless.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from paperscope.errors import ConfigError

KINDS = ("cron", "systemd", "github")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """What the schedule runs: the paperscope executable, the library and config it names, and when."""

    executable: str = "paperscope"
    db: str = ""
    config: str = ""
    at: str = "06:30"  # HH:MM; UTC for systemd and GitHub, the machine's local time for cron
    install: str = "paperscope[email,chat]"  # what GitHub Actions pip-installs
    out: str = "digest"  # where the GitHub workflow writes (and commits) the Markdown digest

    def hour_minute(self) -> tuple[int, int]:
        m = _TIME.fullmatch(self.at)
        if not m:
            raise ConfigError(f"--at must be a time of day HH:MM, got {self.at!r}")
        return int(m.group(1)), int(m.group(2))

    def argv(self, *extra: str) -> list[str]:
        """The command line the schedule runs: paperscope [--db X] [--config Y] run [extra...]."""
        args = [self.executable]
        if self.db:
            args += ["--db", self.db]
        if self.config:
            args += ["--config", self.config]
        return [*args, "run", *extra]


def render(kind: str, spec: ScheduleSpec) -> str:
    """The schedule of `kind` (cron, systemd or github) as text."""
    if kind not in KINDS:
        raise ConfigError(f"unknown scheduler {kind!r}: choose one of {', '.join(KINDS)}")
    return {"cron": cron, "systemd": systemd, "github": github}[kind](spec)


def cron(spec: ScheduleSpec) -> str:
    hh, mm = spec.hour_minute()
    command = shlex.join(spec.argv())
    return (
        "# paperscope: the daily digest after arXiv's announcement. Install with `crontab -e`.\n"
        "# Times are this machine's local time; exit status 2 (partial), 3 (arXiv unreachable) and 75 (another\n"
        "# run holds the lock) mean: the next run catches up. cron mails the output when there is some.\n"
        f"{mm} {hh} * * * {command}\n"
    )


def systemd(spec: ScheduleSpec) -> str:
    hh, mm = spec.hour_minute()
    # systemd splits ExecStart like a shell would; shlex.join quotes paths with spaces.
    command = shlex.join(spec.argv())
    return (
        "# ~/.config/systemd/user/paperscope.service\n"
        "[Unit]\n"
        "Description=paperscope daily arXiv digest\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={command}\n"
        "# 1 is a user error (fix the config); 2, 3 and 75 are worth another try later.\n"
        "Restart=on-failure\n"
        "RestartSec=30min\n"
        "RestartPreventExitStatus=1\n"
        "\n"
        "# ~/.config/systemd/user/paperscope.timer\n"
        "[Unit]\n"
        "Description=Run paperscope after arXiv's daily announcement\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {hh:02d}:{mm:02d}:00 UTC\n"
        "# A day the machine was off runs at the next boot.\n"
        "Persistent=true\n"
        "RandomizedDelaySec=10min\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
        "\n"
        "# Enable with: systemctl --user daemon-reload && systemctl --user enable --now paperscope.timer\n"
    )


_GITHUB = """\
# .github/workflows/paperscope.yml: the daily digest, committed to this repository as Markdown.
# Put your config in paperscope.toml at the repository root; secrets (SMTP password, chat URLs) under
# Settings > Secrets and variables > Actions. The library is kept between runs by actions/cache.
name: paperscope daily digest

on:
  schedule:
    - cron: "@MM@ @HH@ * * *"  # UTC, after arXiv's 20:00 US Eastern announcement
  workflow_dispatch: {}

permissions:
  contents: write

concurrency:
  group: paperscope-daily
  cancel-in-progress: false

jobs:
  digest:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install paperscope
        run: pip install "@INSTALL@"
      - name: Restore the library
        uses: actions/cache/restore@v4
        with:
          path: .paperscope
          key: paperscope-library-${{ github.run_id }}
          restore-keys: |
            paperscope-library-
      - name: Run the daily pipeline
        env:
          PAPERSCOPE_DB: .paperscope/library.db
          PAPERSCOPE_CONFIG: @CONFIG@
          PAPERSCOPE_SMTP_PASSWORD: ${{ secrets.PAPERSCOPE_SMTP_PASSWORD }}
          PAPERSCOPE_CHAT_URLS: ${{ secrets.PAPERSCOPE_CHAT_URLS }}
        run: @COMMAND@
      - name: Keep the library for the next run
        if: always()
        uses: actions/cache/save@v4
        with:
          path: .paperscope
          key: paperscope-library-${{ github.run_id }}
      - name: Commit the Markdown digest
        if: always()
        run: |
          git config user.name "github-actions[bot]"
          git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
          git add @OUT@
          git diff --cached --quiet || git commit -m "paperscope digest $(date -u +%Y-%m-%d)"
          git push
"""


def github(spec: ScheduleSpec) -> str:
    hh, mm = spec.hour_minute()
    # The workflow names the library and config through the environment, so the command stays plain.
    command = shlex.join(["paperscope", "run", "--out", spec.out])
    text = _GITHUB
    for k, v in {"@MM@": str(mm), "@HH@": str(hh), "@INSTALL@": spec.install,
                 "@CONFIG@": spec.config or "paperscope.toml", "@COMMAND@": command,
                 "@OUT@": shlex.quote(spec.out)}.items():
        text = text.replace(k, v)
    return text
