"""`paperscope run`, `watch`, `send` and `schedule`: the daily pipeline and its delivery, one service call each."""

from __future__ import annotations

import shutil
import sys

from pathlib import Path
from typing import Any

import click

from paperscope.cli import emit_json, friendly, json_option, main, pass_ctx


def _library(ctx: Any) -> Any:
    """The process's Library (the legacy Ctx has none: a small stand-in over its store and config)."""
    if hasattr(ctx, "library"):
        return ctx.library()
    from datetime import datetime, timezone
    from types import SimpleNamespace

    store = ctx.store()
    return SimpleNamespace(store=store, settings=ctx.config, now=lambda: datetime.now(timezone.utc),
                           close=store.close)


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
def run_cmd(ctx: Any, steps: tuple[str, ...], no_deliver: bool, out: str | None, now: str | None,
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
    lib = _library(ctx)
    try:
        result = daily.run(lib, steps=steps or daily.STEPS, deliver=not no_deliver, out_dir=out, now=at,
                           log=None if as_json else click.echo)
    finally:
        lib.close()
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
def watch(ctx: Any, after_minutes: int, no_deliver: bool) -> None:
    """Stay running and run the pipeline after each arXiv announcement (retrying when arXiv is late or down)."""
    from datetime import timedelta

    from paperscope.service import daily

    lib = _library(ctx)
    try:
        daily.watch(lib, after=timedelta(minutes=after_minutes), deliver=not no_deliver, log=click.echo)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        lib.close()


@main.command()
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="The digest of this day (default: the last).")
@click.option("--to", default="", help="Only the e-mail to this address.")
@json_option
@pass_ctx
@friendly
def send(ctx: Any, day: Any, to: str, as_json: bool) -> None:
    """Send the last digest's e-mails again, exactly as they were sent."""
    from paperscope.service import daily

    lib = _library(ctx)
    try:
        report = daily.send(lib, day=day.date() if day else None, to=to)
    finally:
        lib.close()
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
def schedule(ctx: Any, kind: str, at: str, executable: str, install: str) -> None:
    """Print a crontab line, a systemd service + timer, or a GitHub Actions workflow running `paperscope run` daily."""
    from paperscope.delivery.schedules import ScheduleSpec, render

    exe = executable or shutil.which("paperscope") or "paperscope"
    db = str(Path(ctx.db).expanduser().resolve()) if getattr(ctx, "db", None) else ""
    cfg_path = getattr(ctx, "config_path", None)
    config = str(Path(cfg_path).expanduser().resolve()) if cfg_path and kind != "github" else (cfg_path or "")
    click.echo(render(kind, ScheduleSpec(executable=exe, db=db if kind != "github" else "", config=config,
                                         at=at, install=install)), nl=False)


