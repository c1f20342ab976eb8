"""The `paperscope` command line: a thin shell over `paperscope.service` (one module per area)."""

from paperscope.cli.app import main, run
from paperscope.cli import check, daily, ingest, library, mcp, meaning, people, web  # noqa: F401  (each registers its commands)

__all__ = ["main", "run"]
