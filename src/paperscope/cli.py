"""The `paperscope` command: each verb parses its options and makes one library call."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from paperscope import __version__
from paperscope.errors import PaperscopeError


class Ctx:
    def __init__(self, db: str | None, config: str | None) -> None:
        self.db = db
        self.config_path = config
        self._config: Any = None

    @property
    def config(self) -> Any:
        if self._config is None:
            from paperscope.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def store(self) -> Any:
        from paperscope.service import open_store

        return open_store(self.db)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn paperscope's own errors into a one-line message and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PaperscopeError as e:
            raise click.ClickException(str(e)) from e
        except OSError as e:
            where = f"{e.filename}: " if getattr(e, "filename", None) else ""
            raise click.ClickException(f"{where}{e.strerror or e}") from e

    return wrapper


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def paper_dict(p: Any) -> dict[str, Any]:
    from paperscope.render.jsonout import paper_to_dict

    return paper_to_dict(p)


pass_ctx = click.make_pass_decorator(Ctx)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="PAPERSCOPE_DB", help="Library database file (default: the platform's data folder).")
@click.option("--config", "config", envvar="PAPERSCOPE_CONFIG", help="Config file (TOML).")
@click.version_option(__version__, prog_name="paperscope")
@click.pass_context
def main(ctx: click.Context, db: str | None, config: str | None) -> None:
    """paperscope: a research radar for arXiv — a local library of papers and topic digests."""
    ctx.obj = Ctx(db, config)


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
        emit_json({"file": str(cfg.path) if cfg.path else None, "settings": rows, "topics": topics})
        return
    click.echo(f"# config file: {cfg.path or '(none: defaults)'}")
    for r in rows:
        secret = "key" in r["name"] and r["value"]
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
    from paperscope.service import import_file

    with ctx.store() as store:
        reports = [import_file(store, f, progress=not as_json) for f in files]
        store.optimize()
        from tqdm import tqdm

        with tqdm(unit="paper", desc="code links", disable=as_json or None, leave=False) as bar:
            store.fill_code_urls(progress=bar.update)
        if not no_embed:
            embed_quietly(store, as_json)
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    for r in reports:
        s = r.stats
        click.echo(f"{r.path} ({r.format}): {s.new} new, {s.updated} updated, {s.unchanged} unchanged"
                   + (f", {len(r.skipped)} skipped" if r.skipped else ""))
        for problem in r.skipped[:20]:
            click.echo(f"  skipped {problem}", err=True)
        if len(r.skipped) > 20:
            click.echo(f"  ... and {len(r.skipped) - 20} more", err=True)


@main.command()
@click.option("--topic", "topic_names", multiple=True, help="Only this topic (repeatable).")
@click.option("--no-embed", is_flag=True, help="Skip embedding the new papers.")
@json_option
@pass_ctx
@friendly
def fetch(ctx: Ctx, topic_names: tuple[str, ...], no_embed: bool, as_json: bool) -> None:
    """Fetch what is new or updated on arXiv for every topic since the last successful run."""
    from paperscope.fetcher import fetch as run_fetch
    from paperscope.fetcher import make_sources

    cfg = ctx.config
    topics = pick_topics(cfg, topic_names)
    sources = make_sources(cfg)
    try:
        with ctx.store() as store:
            report = run_fetch(store, cfg, sources, topics, log=None if as_json else click.echo)
            if not no_embed:
                embed_quietly(store, as_json)
    finally:
        sources.close()
    if as_json:
        emit_json(report.to_dict())
    elif report.announcement_empty:
        click.echo("arXiv announced nothing today (weekend or holiday); the topics above are up to date.")
    for e in report.errors:
        click.echo(f"warning: {e}", err=True)
    if not report.ok:
        sys.exit(1)


def expand(path: str) -> str | None:
    return str(Path(path).expanduser()) if path else None


def embed_quietly(store: Any, as_json: bool) -> None:
    """Embed what is new after an import or fetch, with a progress bar (the model is the library's own)."""
    from tqdm import tqdm

    from paperscope.discovery import embed_library

    bar = tqdm(unit="paper", desc="embed", disable=as_json or None, leave=False)
    try:
        embed_library(store, model=store.active_model(), progress=bar.update)
    finally:
        bar.close()


def pick_topics(cfg: Any, names: tuple[str, ...]) -> list[Any]:
    if not cfg.topics:
        raise PaperscopeError(f"{cfg.path or 'config'}: no [[topics]] yet (run `paperscope init`)")
    if not names:
        return list(cfg.topics)
    by_name = {t.name: t for t in cfg.topics}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise PaperscopeError(f"no topic named {missing[0]!r} (topics: {', '.join(by_name)})")
    return [by_name[n] for n in names]


@main.command()
@click.option("--out", type=click.Path(file_okay=False), help="Write README.md, index.html, digest.json and feeds/ here.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "atom", "json"]), help="Print one format.")
@click.option("--topic", "topic_names", multiple=True, help="Only this topic (repeatable).")
@pass_ctx
@friendly
def digest(ctx: Ctx, out: str | None, fmt: str | None, topic_names: tuple[str, ...]) -> None:
    """Render the digest: every topic's newest papers, newest first."""
    from paperscope.service import build_digest, render_digest, write_digest

    cfg = ctx.config
    topics = pick_topics(cfg, topic_names)
    with ctx.store() as store:
        d = build_digest(store, topics, library=expand(cfg.library_file), recommend_days=cfg.recommend_days)
    out = out or (cfg.digest_dir or None)
    if out:
        files = write_digest(d, out)
        click.echo(f"Wrote {len(files)} files to {out}", err=bool(fmt))
    if fmt or not out:
        click.echo(render_digest(d, fmt or "markdown"))


@main.command("search")
@click.argument("query")
@click.option("--order", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--limit", default=20, show_default=True)
@click.option("--category", "categories", multiple=True, help="Only papers in this arXiv category (repeatable).")
@click.option("--semantic", is_flag=True, help="Hybrid search: full text and meaning, fused by reciprocal rank.")
@json_option
@pass_ctx
@friendly
def search_cmd(ctx: Ctx, query: str, order: str, limit: int, categories: tuple[str, ...], semantic: bool,
               as_json: bool) -> None:
    """Search the library (words, "phrases", AND/OR/NOT, parentheses; --semantic adds meaning)."""
    from paperscope.service import search

    if semantic:
        from paperscope.discovery import semantic_search

        with ctx.store() as store:
            hits = semantic_search(store, query, limit=limit)
        if as_json:
            emit_json([{**paper_dict(h["paper"]), "score": h["score"], "text_rank": h["text_rank"],
                        "vector_rank": h["vector_rank"], "similarity": h["similarity"]} for h in hits])
            return
        for h in hits:
            p = h["paper"]
            click.echo(f"{h['score']:.4f}  {p.id}v{p.version}  {p.title}")
            click.echo(f"        text rank {h['text_rank'] or '—'}, meaning rank {h['vector_rank'] or '—'}"
                       + (f" (similarity {h['similarity']:.2f})" if h["similarity"] is not None else ""))
        return
    with ctx.store() as store:
        papers = search(store, query, order=order, limit=limit, categories=categories)
    if as_json:
        emit_json([paper_dict(p) for p in papers])
        return
    if not papers:
        click.echo("No papers match.")
    for p in papers:
        authors = ", ".join(p.author_names[:3]) + (" et al." if len(p.authors) > 3 else "")
        click.echo(f"{p.id}v{p.version}  {p.updated:%Y-%m-%d}  {p.primary_category:<8} {p.title}")
        if authors:
            click.echo(f"    {authors}")


@main.command()
@click.argument("arxiv_id")
@json_option
@pass_ctx
@friendly
def show(ctx: Ctx, arxiv_id: str, as_json: bool) -> None:
    """Show one paper from the library."""
    from paperscope.models import split_arxiv_id

    with ctx.store() as store:
        p = store.get_paper(split_arxiv_id(arxiv_id)[0])
    if p is None:
        raise PaperscopeError(f"{arxiv_id}: not in the library (try `paperscope search` or `fetch`)")
    if as_json:
        emit_json(paper_dict(p))
        return
    click.echo(f"{p.title}\n{p.abs_url}  [{' '.join(p.categories)}]")
    click.echo(", ".join(p.author_names))
    click.echo(f"Submitted {p.first_submitted:%Y-%m-%d}, updated {p.updated:%Y-%m-%d} (v{p.version})")
    if p.comment:
        click.echo(f"Comment: {p.comment}")
    click.echo(f"\n{p.abstract}")


@main.command()
@json_option
@pass_ctx
@friendly
def stats(ctx: Ctx, as_json: bool) -> None:
    """How many papers the library holds, and where it is."""
    with ctx.store() as store:
        data = {"db": store.path, "papers": store.count()}
    if as_json:
        emit_json(data)
    else:
        click.echo(f"{data['papers']} papers in {data['db']}")


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default="paperscope-demo", show_default=True,
              help="Where to write the demo digest.")
@json_option
@pass_ctx
@friendly
def demo(ctx: Ctx, out: str, as_json: bool) -> None:
    """Offline demo: load the bundled sample of real papers, run starter topics, write the digest."""
    from paperscope.service import run_demo

    report = run_demo(out, db=ctx.db, progress=not as_json)
    if as_json:
        emit_json(report)
        return
    click.echo(f"Loaded {report['papers']} sample papers into {report['db']}")
    for t in report["topics"]:
        click.echo(f"  {t['name']}: {t['papers']} papers")
    click.echo(f"Digest written to {report['out']} (open {report['html']} in a browser, or read {report['markdown']})")


@main.command()
@click.option("--set", "set_", help="OAI set, e.g. cs or physics:hep-th (default: all of arXiv).")
@click.option("--format", "prefix", type=click.Choice(["arXiv", "arXivRaw"]), default="arXiv", show_default=True,
              help="arXivRaw gives every version with its date.")
@click.option("--from", "from_", type=click.DateTime(["%Y-%m-%d"]), help="First datestamp (default: where the last harvest stopped).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last datestamp.")
@json_option
@pass_ctx
@friendly
def harvest(ctx: Ctx, set_: str | None, prefix: str, from_: Any, until: Any, as_json: bool) -> None:
    """Harvest arXiv metadata over OAI-PMH (bulk or incremental; an interrupted harvest resumes)."""
    from paperscope.service import run_harvest

    with ctx.store() as store:
        out = run_harvest(store, ctx.config, set_=set_, prefix=prefix, from_=from_.date() if from_ else None,
                          until=until.date() if until else None, log=None if as_json else click.echo)
    if as_json:
        emit_json(out)
    else:
        click.echo(f"{out['records']} records in {out['pages']} pages: {out['new']} new, {out['updated']} updated"
                   + (" (resumed)" if out["resumed"] else "") + (f"; next harvest starts {out['next_from']}" if out["next_from"] else ""))


# The verbs of the authors and meaning layers live in their own modules; importing them registers them.
from paperscope import cli_authors, cli_meaning  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()
