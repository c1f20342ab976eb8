"""The `paperscope` command line: a thin shell over `paperscope.service` (one module per area)."""

from paperscope.cli.app import main, run
from paperscope.cli import ingest, library, mcp, meaning, people  # noqa: F401  (each registers its commands)
from paperscope.cli import daily  # noqa: F401,E402
from paperscope.cli import web  # noqa: F401

__all__ = ["main", "run"]
