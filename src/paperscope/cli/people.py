"""`paperscope` verbs about people: author profiles, follows, citation enrichment."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from paperscope.cli.app import Ctx, emit_json, friendly, json_option, main, pass_ctx
from paperscope.cli.progress import bar


@main.command()
@click.argument("name")
@click.option("--id", "author_id", help="Pick the person by OpenAlex id or ORCID when the name is ambiguous.")
@click.option("--order", type=click.Choice(["citations", "newest", "novelty"]), default="citations", show_default=True)
@click.option("--view", type=click.Choice(["cards", "listing"]), default="cards", show_default=True,
              help="Cards, or an arXiv-style listing (newest first).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "json"]), default="markdown", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of standard output.")
@json_option
@pass_ctx
@friendly
def author(ctx: Ctx, name: str, author_id: str | None, order: str, view: str, fmt: str, out: str | None,
           as_json: bool) -> None:
    """An author's profile: h-index, papers, citations, co-authors, affiliations, one card per paper."""
    from paperscope.service.people import AmbiguousAuthor, author_profile, people_to_dicts, render_profile

    try:
        profile = author_profile(ctx.library(readonly=True), name, author_id=author_id, order=order)
    except AmbiguousAuthor as e:
        if as_json:
            broad = {"spellings": e.breadth.spellings, "author_entries": e.breadth.rows} if e.breadth else {}
            emit_json({"ambiguous": True, "candidates": people_to_dicts(e.people), **broad})
            sys.exit(1)
        raise
    text = render_profile(profile, "json" if as_json else fmt, view=view)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}")
    else:
        click.echo(text)


@main.command()
@click.argument("name")
@click.option("--id", "author_id", help="Pick the person by OpenAlex id or ORCID when the name is ambiguous.")
@json_option
@pass_ctx
@friendly
def follow(ctx: Ctx, name: str, author_id: str | None, as_json: bool) -> None:
    """Follow an author: `fetch` brings their new papers and the digest lists them."""
    from paperscope.service.people import follow as do_follow

    r = do_follow(ctx.library(), name, author_id=author_id)
    if as_json:
        emit_json(r)
        return
    click.echo(f"{'Now following' if r.changed else 'Already following'} {r.name} ({r.papers} papers in the library)")


@main.command()
@click.argument("name")
@json_option
@pass_ctx
@friendly
def unfollow(ctx: Ctx, name: str, as_json: bool) -> None:
    """Stop following an author."""
    from paperscope.service.people import unfollow as do_unfollow

    r = do_unfollow(ctx.library(), name)
    if as_json:
        emit_json(r)
        return
    click.echo(f"No longer following {r.name}")


@main.command()
@click.option("--days", type=int, default=0, show_default=True,
              help="Also list their new papers and revisions of this many days (up to the newest in the library).")
@json_option
@pass_ctx
@friendly
def following(ctx: Ctx, days: int, as_json: bool) -> None:
    """The authors you follow (and, with --days, what they put out lately)."""
    from paperscope.service.people import following as list_following
    from paperscope.service.people import following_page

    lib = ctx.library(readonly=True)
    page = following_page(lib, days=days) if days else None  # their papers only when asked: one call either way
    authors = page.authors if page else list_following(lib).authors
    if as_json:
        emit_json(page if page else [a.to_dict() for a in authors])
        return
    if not authors:
        click.echo("Not following anyone yet (`paperscope follow NAME`).")
        return
    for a in authors:
        click.echo(f"{a.name}  (since {a.since[:10]})")
    if page:
        click.echo(f"\nTheir papers in the {page.days} days up to {page.until.isoformat()}:" if page.papers
                   else f"\nNo new papers or revisions by them in the {page.days} days up to {page.until}.")
        for fp in page.papers:
            click.echo(f"  {fp.paper.updated.date().isoformat()}  {fp.paper.id}  {fp.label:<7}  {fp.author}: "
                       f"{fp.paper.title}")


@main.command()
@click.option("--limit", type=int, help="At most this many papers this run.")
@click.option("--max-age", "max_age", type=int, help="Refresh figures older than this many days (default: config).")
@json_option
@pass_ctx
@friendly
def enrich(ctx: Ctx, limit: int | None, max_age: int | None, as_json: bool) -> None:
    """Fetch citation counts and author identities (OpenAlex, then Semantic Scholar) for the library."""
    from paperscope.service.people import enrich as run_enrich

    with bar("enrich", quiet=as_json) as tick:
        report = run_enrich(ctx.library(), limit=limit, max_age_days=max_age, progress=tick)
    if as_json:
        emit_json(report)
        return
    by = ", ".join(f"{n} from {s}" for s, n in report.by_source.items()) or "none found"
    click.echo(f"Asked about {report.asked} papers: {report.found} with figures ({by})"
               + (f"; {report.authors} author profiles refreshed" if report.authors else ""))
