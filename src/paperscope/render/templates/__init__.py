"""The Jinja2 templates of every HTML page paperscope writes, and the one environment that renders them.

Static pages (digest, author profile), the web app and email share them: `environment()` gives the package's
templates with autoescape on; `environment(my_dir)` puts `my_dir` first, so another interface can extend
`base.html` and import the macros (`{% from "macros.html" import paper_row, paper_card, figure_tiles,
listing_entry %}`) while overriding any template by name.

Safety: autoescape is on for every template, whatever its name; `finalize` drops the characters no HTML document
may carry (NUL, C0 controls) from every plain string a template prints; the `t` filter also folds text to one
line; links go only through `abs_url`/`pdf_url` (ids percent-encoded) or `safe_url` (http(s) only, else None).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from paperscope.render.model import abs_url, clean_text, day, pdf_url, safe_url, xml_text

TEMPLATES = Path(__file__).parent

__all__ = ["TEMPLATES", "environment"]


def _finalize(value: object) -> object:
    # Markup (a macro's output, an escaped join) is already clean; everything else prints as text.
    if isinstance(value, str) and not isinstance(value, Markup):
        return xml_text(value)
    return value


def _thousands(n: int) -> str:
    return f"{n:,}"


def _build(search_path: tuple[str, ...]) -> Environment:
    own = FileSystemLoader(str(TEMPLATES))
    loader = ChoiceLoader([FileSystemLoader(list(search_path)), own]) if search_path else own
    env = Environment(
        loader=loader,
        autoescape=True,  # every template, .html or not: all text is untrusted
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        t=clean_text, day=day, abs_url=abs_url, pdf_url=pdf_url, safe_url=safe_url, thousands=_thousands
    )
    # profile helpers are imported late: the profile modules import this one
    from paperscope.render.profile_model import card_stats, format_value, listing_authors, percent

    env.filters.update(figure=format_value, listing_authors=listing_authors, percent=percent)
    env.globals.update(card_stats=card_stats)
    return env


@lru_cache(maxsize=8)
def _cached(search_path: tuple[str, ...]) -> Environment:
    return _build(search_path)


def environment(*search_path: str | Path) -> Environment:
    """The shared Jinja2 environment (cached per search path); templates in `search_path` come before ours."""
    return _cached(tuple(str(p) for p in search_path))
