"""paperscope: a research radar for arXiv.

The Python API is the `Library` and the service layer::

    from paperscope import Library
    from paperscope.service import papers, people

    with Library.open("library.db", config="config.toml", readonly=True) as lib:
        for hit in papers.search(lib, '"reward model" OR RLHF NOT survey', limit=10).hits:
            print(hit.paper.id, hit.paper.title)
        profile = people.author_profile(lib, "Yoshua Bengio").profile
        print(profile.h_index.value, len(profile.cards))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = [
    "Ambiguous", "InputError", "Library", "NotFound", "NotReady", "Paper", "PaperscopeError", "Query", "QueryError",
    "Settings", "Topic", "__version__", "parse_query",
]

if TYPE_CHECKING:
    from paperscope.config import Config as Settings
    from paperscope.errors import Ambiguous, InputError, NotFound, NotReady, PaperscopeError, QueryError
    from paperscope.library import Library
    from paperscope.models import Paper, Topic
    from paperscope.query import Query, parse_query

_LAZY = {
    "Library": ("paperscope.library", "Library"),
    "Settings": ("paperscope.config", "Config"),
    "Paper": ("paperscope.models", "Paper"),
    "Topic": ("paperscope.models", "Topic"),
    "Query": ("paperscope.query", "Query"),
    "parse_query": ("paperscope.query", "parse_query"),
    "PaperscopeError": ("paperscope.errors", "PaperscopeError"),
    "InputError": ("paperscope.errors", "InputError"),
    "QueryError": ("paperscope.errors", "QueryError"),
    "NotFound": ("paperscope.errors", "NotFound"),
    "NotReady": ("paperscope.errors", "NotReady"),
    "Ambiguous": ("paperscope.errors", "Ambiguous"),
}


def __getattr__(name: str) -> Any:
    """Import the public names on first use, so `import paperscope` (and the CLI's start) stays cheap."""
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'paperscope' has no attribute {name!r}")
