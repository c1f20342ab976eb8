"""The `paperscope` command line: a thin shell over `paperscope.service` (one module per area)."""

from paperscope.cli.app import main, run
from paperscope.cli import check, ingest, library, meaning, people  # noqa: F401  (each registers its commands)

__all__ = ["main", "run"]
