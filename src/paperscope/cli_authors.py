"""`paperscope` verbs about authors: profiles, follows, citations; registered on the main group when paperscope.cli is imported."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from paperscope.cli import emit_json, friendly, json_option, main, pass_ctx, Ctx

# ---------------------------------------------------------------------------------------------- authors
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
    from paperscope.authors import AmbiguousAuthor, people_to_dicts
    from paperscope.service import author_profile, render_profile

    with ctx.store() as store:
        try:
            profile = author_profile(store, name, author_id=author_id, order=order,
                                     weights=ctx.config.author_score_weights)
        except AmbiguousAuthor as e:
            if as_json:
                emit_json({"ambiguous": True, "candidates": people_to_dicts(e.candidates)})
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
@pass_ctx
@friendly
def follow(ctx: Ctx, name: str, author_id: str | None) -> None:
    """Follow an author: `fetch` brings their new papers and the digest lists them."""
    from paperscope.authors import follow as do_follow

    with ctx.store() as store:
        person, new = do_follow(store, name, author_id=author_id)
    click.echo(f"{'Now following' if new else 'Already following'} {person.name} ({len(person.paper_ids)} papers in the library)")


@main.command()
@click.argument("name")
@pass_ctx
@friendly
def unfollow(ctx: Ctx, name: str) -> None:
    """Stop following an author."""
    from paperscope.authors import unfollow as do_unfollow

    with ctx.store() as store:
        do_unfollow(store, name)
    click.echo(f"No longer following {name}")


@main.command()
@json_option
@pass_ctx
@friendly
def following(ctx: Ctx, as_json: bool) -> None:
    """The authors you follow."""
    with ctx.store() as store:
        rows = store.following()
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("Not following anyone yet (`paperscope follow NAME`).")
    for r in rows:
        click.echo(f"{r['name']}  (since {r['since'][:10]})")


@main.command()
@click.option("--limit", type=int, help="At most this many papers this run.")
@click.option("--max-age", "max_age", type=int, help="Refresh figures older than this many days (default: config).")
@json_option
@pass_ctx
@friendly
def enrich(ctx: Ctx, limit: int | None, max_age: int | None, as_json: bool) -> None:
    """Fetch citation counts and author identities (OpenAlex, then Semantic Scholar) for the library."""
    from paperscope.service import run_enrich

    with ctx.store() as store:
        report = run_enrich(store, ctx.config, limit=limit, max_age_days=max_age, progress=not as_json)
    if as_json:
        emit_json(report.to_dict())
        return
    by = ", ".join(f"{n} from {s}" for s, n in report.by_source.items()) or "none found"
    click.echo(f"Asked about {report.asked} papers: {report.found} with figures ({by})"
               + (f"; {report.authors} author profiles refreshed" if report.authors else ""))
