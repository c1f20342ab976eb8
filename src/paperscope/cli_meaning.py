"""`paperscope` verbs about meaning: embeddings, novelty, similar papers and authors, recommendations, AI Score; registered on the main group when paperscope.cli is imported."""

from __future__ import annotations


import click

from paperscope.cli import emit_json, expand, friendly, json_option, main, paper_dict, pass_ctx, Ctx
from paperscope.errors import PaperscopeError

# ---------------------------------------------------------------------------------------------- meaning
@main.command()
@click.option("--model", help="Embedding model (default: the shipped static model; 'minilm' needs the minilm extra).")
@click.option("--replace", is_flag=True, help="Switch the library to another model and re-embed everything.")
@json_option
@pass_ctx
@friendly
def embed(ctx: Ctx, model: str | None, replace: bool, as_json: bool) -> None:
    """Embed papers that are new or changed since the last run (title and abstract)."""
    from tqdm import tqdm

    from paperscope.discovery import embed_library

    with ctx.store() as store:
        bar = tqdm(unit="paper", desc="embed", disable=as_json or None)
        try:
            out = embed_library(store, model=model, replace=replace, progress=bar.update)
        finally:
            bar.close()
    if as_json:
        emit_json(out)
    else:
        click.echo(f"Embedded {out['embedded']} papers with {out['model']} ({out['dim']} dimensions)")


@main.command()
@click.argument("arxiv_id", required=False)
@click.option("-k", "k", default=10, show_default=True, help="Earlier papers compared against.")
@json_option
@pass_ctx
@friendly
def novelty(ctx: Ctx, arxiv_id: str | None, k: int, as_json: bool) -> None:
    """Compute novelty for the library, or explain one paper's novelty with the earlier papers behind it."""
    from paperscope.discovery import compute_library_novelty, explain_novelty

    with ctx.store() as store:
        if arxiv_id is None:
            out = compute_library_novelty(store, k=k)
            if as_json:
                emit_json(out)
            else:
                click.echo(f"Novelty for {out['papers']} papers ({out['scored']} with enough earlier papers)")
            return
        from paperscope.models import split_arxiv_id

        info = explain_novelty(store, split_arxiv_id(arxiv_id)[0])
    if as_json:
        emit_json(info)
        return
    if info["novelty"] is None:
        click.echo(f"{info['id']}: {info['reason']}")
        return
    click.echo(f"{info['id']}: novelty {info['novelty']:.3f} (1 - mean similarity to its {info['k']} nearest earlier "
               f"papers), percentile {info['percentile']:.0f} in its category and year"
               + (f" — {info['reason']}" if info["reason"] else ""))
    for n in info["neighbours"]:
        click.echo(f"  {n['similarity']:.3f}  {n['id']}  {n['submitted']}  {n['title']}")


@main.command()
@click.argument("arxiv_id")
@click.option("-k", "k", default=10, show_default=True)
@json_option
@pass_ctx
@friendly
def similar(ctx: Ctx, arxiv_id: str, k: int, as_json: bool) -> None:
    """Papers nearest in meaning to a paper of the library."""
    from paperscope.discovery import similar_papers
    from paperscope.models import split_arxiv_id

    with ctx.store() as store:
        hits = similar_papers(store, split_arxiv_id(arxiv_id)[0], k=k)
    if as_json:
        emit_json([{**paper_dict(p), "similarity": round(s, 4)} for p, s in hits])
        return
    for p, s in hits:
        click.echo(f"{s:.3f}  {p.id}  {p.first_submitted:%Y-%m-%d}  {p.title}")


@main.command("similar-authors")
@click.argument("name")
@click.option("--id", "author_id", help="Pick the person by OpenAlex id or ORCID when the name is ambiguous.")
@click.option("-k", "k", default=10, show_default=True)
@json_option
@pass_ctx
@friendly
def similar_authors_cmd(ctx: Ctx, name: str, author_id: str | None, k: int, as_json: bool) -> None:
    """Authors whose papers are nearest in meaning to this author's (shared co-authors count a little)."""
    from paperscope.discovery import similar_authors

    with ctx.store() as store:
        rows = similar_authors(store, name, k=k, author_id=author_id)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['score']:.3f}  {r['name']}  (similarity {r['similarity']:.3f}, "
                   f"{r['shared_coauthors']} shared co-authors, {r['papers_considered']} papers)")


@main.command()
@click.option("--library", "library", type=click.Path(dir_okay=False), help="BibTeX, Zotero CSV/RDF, or a list of ids/DOIs (default: library_file from the config).")
@click.option("--days", default=30, show_default=True, help="Recommend papers first submitted in the last N days.")
@click.option("--limit", default=20, show_default=True)
@click.option("--threshold", default=0.0, show_default=True, help="Leave out papers scoring below this.")
@click.option("--not-interested", "not_interested", multiple=True, help="Never recommend this arXiv id (remembered).")
@json_option
@pass_ctx
@friendly
def recommend(ctx: Ctx, library: str | None, days: int, limit: int, threshold: float,
              not_interested: tuple[str, ...], as_json: bool) -> None:
    """Recent papers ranked by likeness to your own library; each says which of your papers it resembles."""
    from datetime import datetime

    from paperscope.discovery import recommend as run
    from paperscope.models import UTC

    path = library or expand(ctx.config.library_file)
    if not path:
        raise PaperscopeError("no library given: use --library FILE or set library_file in the config")
    with ctx.store() as store:
        if not_interested:
            store.mark_not_interested(list(not_interested), datetime.now(UTC))
        rep = run(store, path, days=days, limit=limit, threshold=threshold)
    if as_json:
        emit_json({"library_items": rep.library_items, "matched": rep.matched, "unmatched": rep.unmatched,
                   "problems": rep.problems,
                   "recommendations": [{**paper_dict(r.paper), "score": r.score,
                                        "resembles": [{"id": i, "title": t, "similarity": s} for i, t, s in r.resembles]}
                                       for r in rep.recommendations]})
        return
    click.echo(f"{rep.matched} of {rep.library_items} library items found in the library"
               + (f"; not found: {', '.join(rep.unmatched[:5])}{' ...' if len(rep.unmatched) > 5 else ''}" if rep.unmatched else ""))
    for r in rep.recommendations:
        click.echo(f"{r.score:.3f}  {r.paper.id}  {r.paper.title}")
        click.echo("        resembles " + "; ".join(f"{i} ({s:.2f})" for i, _, s in r.resembles))


@main.command()
@click.argument("arxiv_id", required=False)
@click.option("--min-train", default=200, show_default=True, help="Cited papers needed to train the model.")
@json_option
@pass_ctx
@friendly
def score(ctx: Ctx, arxiv_id: str | None, min_train: int, as_json: bool) -> None:
    """Compute the AI Score for the library, or show one paper's score and its inputs."""
    from paperscope.discovery import compute_scores

    with ctx.store() as store:
        if arxiv_id is None:
            out = compute_scores(store, min_train=min_train)
            if as_json:
                emit_json(out)
            else:
                click.echo(f"AI Score for {out['papers']} papers by {out['method']}: {out['reason']}")
                if out["held_out_spearman"] is not None:
                    click.echo(f"held-out Spearman {out['held_out_spearman']:.3f} ({out['n_train']} train, {out['n_holdout']} held out)")
            return
        from paperscope.models import split_arxiv_id

        pid = split_arxiv_id(arxiv_id)[0]
        got = store.scores_for([pid]).get(pid)
    if got is None:
        raise PaperscopeError(f"{arxiv_id}: no AI Score yet (run `paperscope score`)")
    if as_json:
        emit_json({"id": pid, **got})
        return
    click.echo(f"{pid}: AI Score {got['value']:.0f}/100 by {got['method']}")
    for k2, v2 in (got["inputs"].get("values") or {}).items():
        click.echo(f"  {k2}: {v2}")
