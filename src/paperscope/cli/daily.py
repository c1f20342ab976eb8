"""`paperscope run`, `watch`, `send` and `schedule`: the daily pipeline and its delivery, one service call each."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import click

from paperscope.cli.app import Ctx, emit_json, friendly, json_option, main, pass_ctx


@main.command("run")
@click.option("--step", "steps", multiple=True,
              type=click.Choice(["fetch", "enrich", "embed", "novelty", "score", "digest", "deliver"]),
              help="Only these steps (repeatable; default: all, in order).")
@click.option("--no-deliver", is_flag=True, help="Everything but sending the digest.")
@click.option("--out", type=click.Path(file_okay=False), help="Where the digest files go (default: digest_dir, "
              "else a digest/ folder beside the library).")
@click.option("--now", "now", hidden=True, help="Run as if at this ISO time (replays and tests).")
@json_option
@pass_ctx
@friendly
def run_cmd(ctx: Ctx, steps: tuple[str, ...], no_deliver: bool, out: str | None, now: str | None,
            as_json: bool) -> None:
    """The daily pipeline: fetch, enrich, embed, novelty, AI Score, digest, deliver (resumes an unfinished run).

    Exit status: 0 done, 1 bad config, 2 partial, 3 arXiv unreachable, 75 another run holds the lock.
    """
    from datetime import datetime

    from paperscope.errors import InputError
    from paperscope.service import daily

    try:
        at = datetime.fromisoformat(now) if now else None
    except ValueError:
        raise InputError(f"--now must be an ISO time like 2025-10-13T09:00+00:00, got {now!r}") from None
    if at is not None and at.tzinfo is None:
        raise InputError(f"--now needs a time zone, e.g. {now}+00:00")
    lib = ctx.library()
    if at is not None:
        lib.clock = lambda: at  # every step sees the same instant
    result = daily.run(lib, steps=steps or daily.STEPS, deliver=not no_deliver, out_dir=out, now=at,
                       log=None if as_json else click.echo)
    if as_json:
        emit_json(result.to_dict())
    elif result.message:
        click.echo(result.message, err=not result.ok)
    sys.exit(int(result.exit_code))


@main.command()
@click.option("--after", "after_minutes", default=270, show_default=True,
              help="Minutes after arXiv's 20:00 US Eastern announcement to run (its feed is rebuilt near midnight).")
@click.option("--no-deliver", is_flag=True, help="Everything but sending the digest.")
@pass_ctx
@friendly
def watch(ctx: Ctx, after_minutes: int, no_deliver: bool) -> None:
    """Stay running and run the pipeline after each arXiv announcement (retrying when arXiv is late or down)."""
    from datetime import timedelta

    from paperscope.service import daily

    try:
        daily.watch(ctx.library(), after=timedelta(minutes=after_minutes), deliver=not no_deliver, log=click.echo)
    except KeyboardInterrupt:
        click.echo("stopped")


@main.command()
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="The digest of this day (default: the last).")
@click.option("--to", default="", help="Only the e-mail to this address.")
@json_option
@pass_ctx
@friendly
def send(ctx: Ctx, day: Any, to: str, as_json: bool) -> None:
    """Send the last digest's e-mails again, exactly as they were sent."""
    from paperscope.service import daily

    report = daily.send(ctx.library(), day=day.date() if day else None, to=to)
    if as_json:
        emit_json(report.to_dict())
    else:
        for r in report.results:
            click.echo(f"{'sent' if r.ok else 'FAILED'}: {r.target}  {r.detail}", err=not r.ok)
    sys.exit(int(report.exit_code))


@main.command()
@click.argument("kind", metavar="cron|systemd|github")
@click.option("--at", default="06:30", show_default=True,
              help="Time of day HH:MM (UTC for systemd and github, local time for cron).")
@click.option("--executable", default="", help="The paperscope program to run (default: the one on PATH).")
@click.option("--install", default="paperscope[email,chat]", show_default=True,
              help="What the GitHub workflow pip-installs.")
@pass_ctx
@friendly
def schedule(ctx: Ctx, kind: str, at: str, executable: str, install: str) -> None:
    """Print a crontab line, a systemd service + timer, or a GitHub Actions workflow running `paperscope run` daily."""
    from paperscope.delivery.schedules import ScheduleSpec, render

    exe = executable or shutil.which("paperscope") or "paperscope"
    local = kind != "github"  # the workflow names its library and config relative to the repository
    if ctx.db and "://" in ctx.db:  # a PostgreSQL library's URL is the same from anywhere
        db = ctx.db
    else:
        db = str(Path(ctx.db).expanduser().resolve()) if ctx.db and local else ""
    cfg = ctx.config_path or ""
    config = str(Path(cfg).expanduser().resolve()) if cfg and local else cfg
    click.echo(render(kind, ScheduleSpec(executable=exe, db=db, config=config, at=at, install=install)), nl=False)


