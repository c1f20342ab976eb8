"""`paperscope` verbs about meaning: embeddings, novelty, similar papers and authors, recommendations, ratings,
AI Score."""

from __future__ import annotations

from datetime import datetime

import click

from paperscope.cli.app import Ctx, emit_json, friendly, json_option, main, pass_ctx, positive
from paperscope.cli.progress import bar


@main.command()
@click.option("--model", help="Embedding model (default: the shipped static model; 'minilm' needs the minilm extra).")
@click.option("--replace", is_flag=True, help="Switch the library to another model and re-embed everything.")
@json_option
@pass_ctx
@friendly
def embed(ctx: Ctx, model: str | None, replace: bool, as_json: bool) -> None:
    """Embed papers that are new or changed since the last run (title and abstract)."""
    from paperscope.service.meaning import embed as run_embed

    with bar("embed", quiet=as_json) as tick:
        out = run_embed(ctx.library(), model=model, replace=replace, progress=tick)
    if as_json:
        emit_json(out)
    else:
        click.echo(f"Embedded {out.embedded} papers with {out.model} ({out.dim} dimensions)")


@main.command()
@click.argument("arxiv_id", required=False)
@click.option("-k", "k", default=10, show_default=True, callback=positive, help="Earlier papers compared against.")
@click.option("--all", "full", is_flag=True, help="Score every paper again, not only those embedded since the last run "
              "(after importing papers older than ones already scored).")
@json_option
@pass_ctx
@friendly
def novelty(ctx: Ctx, arxiv_id: str | None, k: int, full: bool, as_json: bool) -> None:
    """Compute novelty for the papers embedded since the last run, or explain one paper's novelty with the earlier
    papers behind it."""
    from paperscope.service.meaning import explain_novelty
    from paperscope.service.meaning import novelty as run_novelty

    if arxiv_id is None:
        out = run_novelty(ctx.library(), k=k, full=full)
        if as_json:
            emit_json(out)
        else:
            click.echo(f"Novelty for {out.papers} new papers ({out.scored} with enough earlier papers); "
                       f"{out.reranked} percentiles re-ranked in their cohorts")
        return
    info = explain_novelty(ctx.library(readonly=True), arxiv_id)
    if as_json:
        n = info.novelty
        emit_json({"id": info.id, "novelty": n.value, "percentile": n.percentile, "k": n.k, "reason": n.reason,
                   "computed": n.computed, "neighbours": [x.to_dict() for x in n.neighbours]})
        return
    n = info.novelty
    if n.value is None:
        click.echo(f"{info.id}: {n.reason}")
        return
    pct = f"percentile {n.percentile:.0f}" if n.percentile is not None else "no percentile"
    click.echo(f"{info.id}: novelty {n.value:.3f} (1 - mean similarity to its {n.k} nearest earlier "
               f"papers), {pct} in its category and year" + (f" — {n.reason}" if n.reason else ""))
    for x in n.neighbours:
        click.echo(f"  {x.similarity:.3f}  {x.id}  {x.submitted}  {x.title}")


@main.command()
@click.argument("arxiv_id")
@click.option("-k", "k", default=10, show_default=True, callback=positive)
@json_option
@pass_ctx
@friendly
def similar(ctx: Ctx, arxiv_id: str, k: int, as_json: bool) -> None:
    """Papers nearest in meaning to a paper of the library."""
    from paperscope.service.meaning import similar as find_similar

    r = find_similar(ctx.library(readonly=True), arxiv_id, k=k)
    if as_json:
        emit_json([{**h.to_dict()["paper"], "similarity": h.similarity} for h in r.hits])  # type: ignore[dict-item]
        return
    for h in r.hits:
        click.echo(f"{h.similarity:.3f}  {h.paper.id}  {h.paper.first_submitted:%Y-%m-%d}  {h.paper.title}")


@main.command("similar-authors")
@click.argument("name")
@click.option("--id", "author_id", help="Pick the person by OpenAlex id or ORCID when the name is ambiguous.")
@click.option("-k", "k", default=10, show_default=True, callback=positive)
@json_option
@pass_ctx
@friendly
def similar_authors_cmd(ctx: Ctx, name: str, author_id: str | None, k: int, as_json: bool) -> None:
    """Authors whose papers are nearest in meaning to this author's (shared co-authors count a little)."""
    from paperscope.service.meaning import similar_authors

    r = similar_authors(ctx.library(readonly=True), name, k=k, author_id=author_id)
    if as_json:
        emit_json([a.to_dict() for a in r.authors])
        return
    for a in r.authors:
        click.echo(f"{a.score:.3f}  {a.name}  (similarity {a.similarity:.3f}, "
                   f"{a.shared_coauthors} shared co-authors, {a.papers_considered} papers)")


@main.command()
@click.option("--library", "library", type=click.Path(dir_okay=False), help="BibTeX, Zotero CSV/RDF, or a list of ids/DOIs (default: library_file from the config).")
@click.option("--days", type=int, callback=positive, help="Papers of the last N days before the newest paper in the library (default: recommend_days).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Papers first submitted on or after this day.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Papers first submitted on or before this day.")
@click.option("--limit", default=20, show_default=True, callback=positive)
@click.option("--threshold", default=0.0, show_default=True, help="Leave out papers scoring below this (0: the window's average paper).")
@click.option("--not-interested", "not_interested", multiple=True, help="Never recommend this arXiv id (remembered).")
@json_option
@pass_ctx
@friendly
def recommend(ctx: Ctx, library: str | None, days: int | None, since: datetime | None, until: datetime | None,
              limit: int, threshold: float, not_interested: tuple[str, ...], as_json: bool) -> None:
    """Recent papers ranked by likeness to your own library; each says why: the library papers it shares most
    words with and the terms that weigh most."""
    from paperscope.service.meaning import mark_not_interested
    from paperscope.service.meaning import recommend as run

    lib = ctx.library(readonly=not not_interested)
    if not_interested:
        mark_not_interested(lib, not_interested)
    rep = run(lib, library, days=days, since=since.date() if since else None,
              until=until.date() if until else None, limit=limit, threshold=threshold)
    if as_json:
        emit_json(rep.to_dict())
        return
    click.echo(f"{rep.matched} of {rep.library_items} library items found in the library"
               + (f"; not found: {', '.join(rep.unmatched[:5])}{' ...' if len(rep.unmatched) > 5 else ''}"
                  if rep.unmatched else ""))
    for r in rep.recommendations:
        click.echo(f"{r.score:6.2f}  {r.paper.id}  {r.paper.title}")
        for x in r.why.papers:
            click.echo(f"        like {x.id} ({x.similarity:.2f})  {x.title}")
        if r.why.terms:
            click.echo("        terms: " + ", ".join(t.term for t in r.why.terms))
        for x in r.why.near_disliked:
            if x.similarity >= 0.5:
                click.echo(f"        near {x.id} you rated down ({x.similarity:.2f})")


@main.command()
@click.argument("arxiv_id")
@click.argument("rating", type=click.Choice(["up", "down", "not-interested", "none"]))
@json_option
@pass_ctx
@friendly
def rate(ctx: Ctx, arxiv_id: str, rating: str, as_json: bool) -> None:
    """Rate a paper 👍 (up) or 👎 (down), or mark it not interesting; recommendations learn from it."""
    from paperscope.service.meaning import rate as do_rate

    r = do_rate(ctx.library(), arxiv_id, rating.replace("-", "_"))
    if as_json:
        emit_json(r)
        return
    words = {"up": "👍 noted", "down": "👎 noted", "not_interested": "won't be recommended again",
             "none": "rating taken back"}
    click.echo(f"{r.id}: {words[r.rating]} ({r.ratings} papers rated)")


@main.command()
@click.argument("arxiv_id", required=False)
@click.option("--min-train", default=200, show_default=True, help="Cited papers needed to train the model.")
@json_option
@pass_ctx
@friendly
def score(ctx: Ctx, arxiv_id: str | None, min_train: int, as_json: bool) -> None:
    """Compute the AI Score for the library, or show one paper's score and its inputs."""
    from paperscope.errors import NotReady
    from paperscope.service.meaning import score as run_score
    from paperscope.service.papers import get_paper, score_info

    if arxiv_id is None:
        out = run_score(ctx.library(), min_train=min_train)
        if as_json:
            emit_json(out)
        else:
            click.echo(f"AI Score for {out.papers} papers by {out.method}: {out.reason}")
            if out.held_out_spearman is not None:
                click.echo(f"held-out Spearman {out.held_out_spearman:.3f} ({out.n_train} train, "
                           f"{out.n_holdout} held out)")
        return
    lib = ctx.library(readonly=True)
    p = get_paper(lib, arxiv_id)
    got = score_info(lib, p.id, p)
    if got is None:
        raise NotReady(f"{p.id}: no AI Score yet", needs="score")
    if as_json:
        emit_json({"id": p.id, **got.to_dict()})
        return
    click.echo(f"{p.id}: {got.text}")
    if got.base is not None:
        click.echo(f"  {got.base:6.1f}  points for an average paper")
    for row in got.breakdown:
        pts = f"{row.points:+6.1f}" if row.points is not None else "      "
        click.echo(f"  {pts}  {row.input}: {row.value}")
