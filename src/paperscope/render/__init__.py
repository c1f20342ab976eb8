"""Renderers: pure functions from a Digest (or an author profile) to Markdown, HTML, Atom or JSON text (no I/O).

`paperscope.render.registry.render(kind, fmt, obj)` picks one by name; HTML comes from the Jinja2 templates of
`paperscope.render.templates` (`environment()`), shared with the web app and email.
"""

from importlib import import_module
from typing import Any

# Loaded on first use (PEP 562), so that importing one renderer (e.g. JSON for a CLI read) does not load Jinja2.
_WHERE = {"render_atom": "atom", "render_html": "html", "digest_to_dict": "jsonout", "paper_from_dict": "jsonout",
          "paper_to_dict": "jsonout", "render_json": "jsonout", "ParsedDigest": "markdown",
          "ParsedSection": "markdown", "parse_markdown": "markdown", "render_markdown": "markdown",
          "Digest": "model", "DigestSection": "model", "section_slugs": "model"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"paperscope.render.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'paperscope.render' has no attribute {name!r}")


__all__ = [
    "Digest",
    "DigestSection",
    "ParsedDigest",
    "ParsedSection",
    "digest_to_dict",
    "paper_from_dict",
    "paper_to_dict",
    "parse_markdown",
    "render_atom",
    "render_html",
    "render_json",
    "render_markdown",
    "section_slugs",
]
