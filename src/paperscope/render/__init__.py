"""Renderers: pure functions from a Digest (or an author profile) to Markdown, HTML, Atom or JSON text (no I/O).

`paperscope.render.registry.render(kind, fmt, obj)` picks one by name; HTML comes from the Jinja2 templates of
`paperscope.render.templates` (`environment()`), shared with the web app and email.
"""

from paperscope.render.atom import render_atom
from paperscope.render.html import render_html
from paperscope.render.jsonout import digest_to_dict, paper_from_dict, paper_to_dict, render_json
from paperscope.render.markdown import ParsedDigest, ParsedSection, parse_markdown, render_markdown
from paperscope.render.model import Digest, DigestSection, section_slugs

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
