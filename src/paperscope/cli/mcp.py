"""`paperscope mcp`: the library as an MCP server for AI assistants (stdio, or streamable HTTP)."""

from __future__ import annotations

import click

from paperscope.cli.app import Ctx, friendly, main, pass_ctx


@main.command("mcp")
@click.option("--http", "http", is_flag=True, help="Serve streamable HTTP instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for --http.")
@click.option("--port", default=8765, show_default=True, help="Port for --http.")
@pass_ctx
@friendly
def mcp_cmd(ctx: Ctx, http: bool, host: str, port: int) -> None:
    """Serve the library to AI assistants over MCP: search, paper, similar, author_profile, digest, recommend,
    trends."""
    from paperscope.errors import ConfigError

    try:
        from paperscope.mcp.server import create_server
    except ImportError as e:
        raise ConfigError(f"the MCP server needs its extra: pip install 'paperscope[mcp]' ({e.name} missing)") from e

    if http and host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"--host {host}: the MCP server serves only this machine (127.0.0.1); put an "
                          "authenticating proxy in front of it to share it")
    server = create_server(ctx.library(readonly=True), host=host, port=port)
    server.run("streamable-http" if http else "stdio")
