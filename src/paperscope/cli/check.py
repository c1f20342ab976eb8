"""`paperscope check`: the library's integrity, and `--repair`."""

from __future__ import annotations

import sys

import click

from paperscope.cli.app import Ctx, emit_json, friendly, json_option, main, pass_ctx


@main.command("check")
@click.option("--repair", is_flag=True, help="Rebuild what is damaged and say what was done.")
@json_option
@pass_ctx
@friendly
def check_cmd(ctx: Ctx, repair: bool, as_json: bool) -> None:
    """Check the database, full-text index, vectors, vector caches and leftover scratch files."""
    from paperscope.service.check import check

    from paperscope.errors import StoreError

    lib = ctx.library(readonly=True, create=False)  # the library must exist; check never makes one
    try:  # FTS5's full check is a write statement: look with a writer that does not repair on open
        lib = ctx.library(create=False, auto_repair=False)
    except StoreError:  # a read-only disk or role: checked read-only, repairs refused
        if repair:
            raise
    result = check(lib, repair=repair)
    if as_json:
        emit_json(result.to_dict())
    else:
        for f in result.findings:
            click.echo(f"{f.part}: {f.problem}" + (f" -> {f.repaired}" if f.repaired else ""))
        state = "ok" if result.ok else ("damage remains" if repair else "damaged: run `paperscope check --repair`")
        click.echo(f"{result.path}: {result.papers} papers, {len(result.findings)} findings, {state}")
    if not result.ok:
        sys.exit(1)
