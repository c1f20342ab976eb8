"""`paperscope` verbs that read the library: digest, trends, search, show, stats, export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import click

from paperscope.cli.app import Ctx, emit_json, friendly, json_option, main, pass_ctx, positive

_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(counts: Sequence[int]) -> str:
    """Counts as a line of block characters, the highest a full block, zero the lowest."""
    top = max(counts, default=0)
    if not top:
        return _SPARKS[0] * len(counts)
    return "".join(_SPARKS[min(len(_SPARKS) - 1, round(c * (len(_SPARKS) - 1) / top))] for c in counts)


def _authors(p: object) -> str:
    names = list(getattr(p, "author_names"))
    return ", ".join(names[:3]) + (" et al." if len(names) > 3 else "")


@main.command()
@click.option("--out", type=click.Path(file_okay=False), help="Write README.md, index.html, digest.json and feeds/ here.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "atom", "json"]), help="Print one format.")
@click.option("--topic", "topic_names", multiple=True, help="Only this topic (repeatable).")
@json_option
@pass_ctx
@friendly
def digest(ctx: Ctx, out: str | None, fmt: str | None, topic_names: tuple[str, ...], as_json: bool) -> None:
    """Render the digest: every topic's newest papers, newest first."""
    from paperscope.service.digest import build_digest, render_digest, write_digest

    lib = ctx.library(readonly=True)
    result = build_digest(lib, topic_names)
    out = out or (lib.settings.digest_dir or None)
    if out:
        files = write_digest(lib, result, out)
        if not as_json:
            click.echo(f"Wrote {len(files.files)} files to {out}", err=bool(fmt))
    if as_json:
        fmt = "json"
    if fmt or not out:
        click.echo(render_digest(result, fmt or "markdown"))
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


@main.command()
@click.option("--topic", "topic_names", multiple=True, help="Only this topic (repeatable).")
@click.option("--weeks", default=26, show_default=True, callback=positive, help="Weeks shown, up to the newest paper.")
@json_option
@pass_ctx
@friendly
def trends(ctx: Ctx, topic_names: tuple[str, ...], weeks: int, as_json: bool) -> None:
    """Each topic over time: papers per week and the terms rising in its last 4 weeks."""
    from paperscope.service.trends import trends_of

    result = trends_of(ctx.library(readonly=True), topic_names, weeks=weeks)
    if as_json:
        emit_json(result)
        return
    for i, t in enumerate(result.topics):
        span = f"{t.weeks[0].week.isoformat()} to {result.until.isoformat()}" if t.weeks else ""
        click.echo(("\n" if i else "") + f"{t.topic}: {t.papers} papers in {len(t.weeks)} weeks ({span})")
        counts = [w.papers for w in t.weeks]
        click.echo(f"  per week  {sparkline(counts)}  (most {max(counts, default=0)})")
        if t.rising:
            n_before = t.papers - t.recent_papers
            click.echo("  rising in the last 4 weeks, share of papers before → now:")
            for r in t.rising:
                click.echo(f"    {r.term:<28} {r.before_share:4.0%} → {r.recent_share:4.0%}"
                           f"   ({r.before} of {n_before} → {r.recent} of {t.recent_papers} papers)")
        else:
            click.echo(f"  no rising term stands out from chance in the last 4 weeks ({t.recent_papers} papers)")


@main.command("search")
@click.argument("query")
@click.option("--order", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--limit", default=20, show_default=True, callback=positive)
@click.option("--category", "categories", multiple=True, help="Only papers in this arXiv category (repeatable).")
@click.option("--semantic", is_flag=True, help="Hybrid search: full text and meaning, fused by reciprocal rank.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only papers last updated on or after this day.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only papers last updated on or before this day.")
@click.option("--code", type=click.Choice(["yes", "no"]), help="Only papers with (yes) or without (no) a code link.")
@json_option
@pass_ctx
@friendly
def search_cmd(ctx: Ctx, query: str, order: str, limit: int, categories: tuple[str, ...], semantic: bool,
               since: datetime | None, until: datetime | None, code: str | None, as_json: bool) -> None:
    """Search the library (words, "phrases", AND/OR/NOT, parentheses; --semantic adds meaning)."""
    from paperscope.service.papers import search

    result = search(ctx.library(readonly=True), query, order=order, limit=limit, categories=categories,
                    semantic=semantic, since=since.date() if since else None, until=until.date() if until else None,
                    has_code=None if code is None else code == "yes")
    if as_json:
        if semantic:
            emit_json([{**h.to_dict()["paper"], "score": h.score, "text_rank": h.text_rank,  # type: ignore[dict-item]
                        "vector_rank": h.vector_rank, "similarity": h.similarity} for h in result.hits])
        else:
            emit_json([h.to_dict()["paper"] for h in result.hits])
        return
    if not result.hits:
        click.echo("No papers match.")
    for h in result.hits:
        p = h.paper
        if semantic:
            click.echo(f"{h.score:.4f}  {p.id}v{p.version}  {p.title}")
            click.echo(f"        text rank {h.text_rank or '—'}, meaning rank {h.vector_rank or '—'}"
                       + (f" (similarity {h.similarity:.2f})" if h.similarity is not None else ""))
            continue
        click.echo(f"{p.id}v{p.version}  {p.updated:%Y-%m-%d}  {p.primary_category:<8} {p.title}")
        if p.authors:
            click.echo(f"    {_authors(p)}")


@main.command()
@click.argument("arxiv_id")
@json_option
@pass_ctx
@friendly
def show(ctx: Ctx, arxiv_id: str, as_json: bool) -> None:
    """Show one paper: metadata, versions, code link, citations, novelty and AI Score."""
    from paperscope.service.papers import paper_detail

    d = paper_detail(ctx.library(readonly=True), arxiv_id, similar=0)
    if as_json:
        data = d.to_dict()
        paper = data.pop("paper")
        emit_json({**paper, **data} if isinstance(paper, dict) else data)
        return
    p = d.paper
    click.echo(f"{p.title}\n{p.abs_url}  [{' '.join(p.categories)}]")
    click.echo(", ".join(p.author_names))
    versions = ", ".join(f"v{v.version} {v.created:%Y-%m-%d}" if v.created else f"v{v.version}" for v in p.versions)
    click.echo(f"Submitted {p.first_submitted:%Y-%m-%d}, updated {p.updated:%Y-%m-%d} (v{p.version})"
               + (f"; versions: {versions}" if versions else ""))
    if p.comment:
        click.echo(f"Comment: {p.comment}")
    click.echo(f"Code: {d.code_url}" if d.code_url else "Code: none linked")
    if d.citations:
        click.echo(f"Citations: {d.citations.count} ({d.citations.source}, {d.citations.fetched[:10]})")
    else:
        click.echo("Citations: — (run `paperscope enrich`)")
    if d.novelty and d.novelty.value is not None:
        pct = f", percentile {d.novelty.percentile:.0f}" if d.novelty.percentile is not None else ""
        click.echo(f"Novelty: {d.novelty.value:.3f}{pct}" + (f" — {d.novelty.reason}" if d.novelty.reason else ""))
    elif d.novelty:
        click.echo(f"Novelty: — ({d.novelty.reason})")
    else:
        click.echo(f"Novelty: — (run `paperscope {d.missing.get('novelty', 'novelty')}`)")
    click.echo(d.score.text if d.score else f"AI Score: — (run `paperscope {d.missing.get('score', 'score')}`)")
    click.echo(f"\n{p.abstract}")


@main.command()
@json_option
@pass_ctx
@friendly
def stats(ctx: Ctx, as_json: bool) -> None:
    """How many papers the library holds, and where it is."""
    from paperscope.service.papers import stats as library_stats

    data = library_stats(ctx.library(readonly=True))
    if as_json:
        emit_json(data)
    else:
        click.echo(f"{data.papers} papers in {data.db}")


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "bibtex", "ris"]), default="jsonl",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (default: standard output).")
@pass_ctx
@friendly
def export_cmd(ctx: Ctx, fmt: str, out: str | None) -> None:
    """Every paper with citations, novelty and AI Score: JSON lines, CSV, or BibTeX/RIS for Zotero."""
    import sys

    from paperscope.cli.progress import bar
    from paperscope.service.export import export

    with bar("export", quiet=out is None) as tick:
        r = export(ctx.library(readonly=True), fmt, out=out, stream=None if out else sys.stdout, progress=tick)
    if out:
        click.echo(f"Wrote {r.papers} papers to {out} ({fmt})", err=True)
