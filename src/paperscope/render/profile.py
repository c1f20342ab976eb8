"""An author profile as Markdown, HTML or JSON, with an arXiv-style listing view, and a Markdown reader.

One import for callers; the work is split along its seams: `profile_model` (figures, orderings), `profile_markdown`
(Markdown renderer and parser), `profile_html` (Jinja2 templates), `profile_json`.
"""

from __future__ import annotations

from paperscope.render.profile_html import profile_context, render_listing_html, render_profile_html
from paperscope.render.profile_json import profile_to_dict, render_profile_json
from paperscope.render.profile_markdown import parse_profile_markdown, render_listing, render_profile_markdown
from paperscope.render.profile_model import DASH, HEADER_LABELS, VIEWS, format_value, listing_order, parse_value

__all__ = [
    "DASH",
    "HEADER_LABELS",
    "VIEWS",
    "format_value",
    "listing_order",
    "parse_profile_markdown",
    "parse_value",
    "profile_context",
    "profile_to_dict",
    "render_listing",
    "render_listing_html",
    "render_profile_html",
    "render_profile_json",
    "render_profile_markdown",
]
