"""`paperscope` verbs that bring papers in and set things up: init, config, import, fetch, harvest, demo."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from paperscope.cli.app import Ctx, emit_json, friendly, json_option, main, pass_ctx
from paperscope.cli.progress import bar, shown


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
@click.option("--path", type=click.Path(dir_okay=False), help="Where to write (default: --config or the platform's config folder).")
@pass_ctx
@friendly
def init(ctx: Ctx, force: bool, path: str | None) -> None:
    """Write a commented starter config with example topics."""
    from paperscope.config import write_starter

    target = write_starter(Path(path or ctx.config_path) if (path or ctx.config_path) else None, force=force)
    click.echo(f"Wrote {target}. Edit the [[topics]] there, then run `paperscope fetch` and `paperscope digest`.")


@main.command("config")
@json_option
@pass_ctx
@friendly
def show_config(ctx: Ctx, as_json: bool) -> None:
    """List every setting with its value and help, and the topics."""
    from paperscope.config import SETTINGS

    cfg = ctx.config
    rows = [{"name": s.name, "value": getattr(cfg, s.name), "default": s.default, "env": s.env, "help": s.help}
            for s in SETTINGS]
    topics = [{"name": t.name, "query": t.query, "categories": t.categories, "max_papers": t.max_papers}
              for t in cfg.topics]
    if as_json:
        for r in rows:
            if ("key" in r["name"] or "password" in r["name"] or "token" in r["name"]) and r["value"]:
                r["value"] = "***"
        emit_json({"file": str(cfg.path) if cfg.path else None, "settings": rows, "topics": topics})
        return
    click.echo(f"# config file: {cfg.path or '(none: defaults)'}")
    for r in rows:
        secret = ("key" in r["name"] or "password" in r["name"] or "token" in r["name"]) and r["value"]
        click.echo(f"{r['name']} = {'***' if secret else json.dumps(r['value'])}    # {r['help']}")
    for t in topics:
        click.echo(f"topic {t['name']!r}: {t['query']}  {t['categories'] or ''}")


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--no-embed", is_flag=True, help="Skip embedding the new papers (run `paperscope embed` later).")
@json_option
@pass_ctx
@friendly
def import_cmd(ctx: Ctx, files: tuple[str, ...], no_embed: bool, as_json: bool) -> None:
    """Import arXiv snapshot (JSON lines, .gz), Atom or OAI-PMH files; the kind is recognised by content."""
    from paperscope.service.ingest import import_files

    lib = ctx.library()
    with bar("import", quiet=as_json) as tick:
        result = import_files(lib, files, embed=not no_embed, progress=tick, show_progress=shown(as_json))
    if as_json:
        emit_json(result)
        return
    for r in result.files:
        click.echo(f"{r.path} ({r.format}): {r.new} new, {r.updated} updated, {r.unchanged} unchanged"
                   + (f", {r.skipped} skipped" if r.skipped else ""))
        for problem in r.problems[:20]:
            click.echo(f"  skipped {problem}", err=True)
        if r.skipped > 20:
            click.echo(f"  ... and {r.skipped - 20} more", err=True)


@main.command()
@click.option("--topic", "topic_names", multiple=True, help="Only this topic (repeatable).")
@click.option("--no-embed", is_flag=True, help="Skip embedding the new papers.")
@json_option
@pass_ctx
@friendly
def fetch(ctx: Ctx, topic_names: tuple[str, ...], no_embed: bool, as_json: bool) -> None:
    """Fetch what is new or updated on arXiv for every topic since the last successful run."""
    from paperscope.service.ingest import fetch as run_fetch

    lib = ctx.library()
    with bar("embed", quiet=as_json) as tick:
        report = run_fetch(lib, topic_names, embed=not no_embed, log=None if as_json else click.echo, progress=tick)
    if as_json:
        emit_json(report)
    elif report.announcement_empty:
        click.echo("arXiv announced nothing today (weekend or holiday); the topics above are up to date.")
    for e in report.errors:
        click.echo(f"warning: {e}", err=True)
    if not report.ok:
        sys.exit(1)


@main.command()
@click.option("--set", "set_", help="OAI set, e.g. cs or physics:hep-th (default: all of arXiv).")
@click.option("--format", "prefix", type=click.Choice(["arXiv", "arXivRaw"]), default="arXiv", show_default=True,
              help="arXivRaw gives every version with its date.")
@click.option("--from", "from_", type=click.DateTime(["%Y-%m-%d"]), help="First datestamp (default: where the last harvest stopped).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last datestamp.")
@json_option
@pass_ctx
@friendly
def harvest(ctx: Ctx, set_: str | None, prefix: str, from_: datetime | None, until: datetime | None,
            as_json: bool) -> None:
    """Harvest arXiv metadata over OAI-PMH (bulk or incremental; an interrupted harvest resumes)."""
    from paperscope.service.ingest import harvest as run_harvest

    out = run_harvest(ctx.library(), set_=set_, prefix=prefix, from_=from_.date() if from_ else None,
                      until=until.date() if until else None, log=None if as_json else click.echo)
    if as_json:
        emit_json(out)
    else:
        click.echo(f"{out.records} records in {out.pages} pages: {out.new} new, {out.updated} updated"
                   + (" (resumed)" if out.resumed else "")
                   + (f"; next harvest starts {out.next_from}" if out.next_from else ""))


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default="paperscope-demo", show_default=True,
              help="Where to write the demo digest.")
@json_option
@pass_ctx
@friendly
def demo(ctx: Ctx, out: str, as_json: bool) -> None:
    """Offline demo: load the bundled sample of real papers, run starter topics, write the digest."""
    from paperscope.service.pipeline import run_demo

    report = run_demo(out, db=ctx.db, show_progress=shown(as_json))
    if as_json:
        emit_json(report)
        return
    click.echo(f"Loaded {report.papers} sample papers into {report.db}")
    for t in report.topics:
        click.echo(f"  {t.name}: {t.papers} papers")
    click.echo(f"Digest written to {report.out} (open {report.html} in a browser, or read {report.markdown})")
    click.echo(f"Browse it: pip install 'paperscope[web]', then paperscope --db {report.db} --config {report.config} serve")
