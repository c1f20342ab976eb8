"""`paperscope serve`: the library as a web app on this machine (or, with a token, for a lab)."""

from __future__ import annotations

from typing import Any

import click

from paperscope.cli.app import Ctx, friendly, main, pass_ctx


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but 127.0.0.1/localhost needs web_token configured.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@pass_ctx
@friendly
def serve(ctx: Ctx, host: str, port: int) -> None:
    """Serve the library as a web app: topics, papers, authors, search, trends, a JSON API and Atom feeds."""
    try:
        import uvicorn

        from paperscope.web import create_app
        from paperscope.web.security import check_bind, new_token
    except ImportError as e:
        raise click.ClickException(f"the web app needs its extra: pip install 'paperscope[web]' ({e.name} missing)")
    token = ctx.config.web_token or None
    check_bind(host, token)
    fresh = token is None
    token = token or new_token()
    lib = ctx.library(readonly=True)  # reads never write, so a library on a read-only disk serves

    def writer() -> Any:  # changes (ratings, follows) go through a writable Library opened on the first one
        from paperscope.library import Library

        return Library.open(ctx.db, ctx.config)

    app = create_app(lib, token=token, writer=writer)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"paperscope: serving {getattr(lib.store, 'path', 'the library')} at http://{shown}:{port}/")
    if fresh:
        click.echo(f"To rate papers and follow authors, log in once: http://{shown}:{port}/login?token={token}")
        click.echo("(set web_token in the config or $PAPERSCOPE_WEB_TOKEN to keep one token across restarts)")
    import sys

    # A page build runs in a worker thread; a shorter GIL switch interval lets the event loop keep sending
    # cached pages meanwhile (p99 under load), at a small cost in the build's own speed.
    sys.setswitchinterval(0.001)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
