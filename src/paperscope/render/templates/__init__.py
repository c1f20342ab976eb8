"""The Jinja2 templates of every HTML page paperscope writes, and the one environment that renders them.

Static pages (digest, author profile), the web app and email share them: `environment()` gives the package's
templates with autoescape on; `environment(my_dir)` puts `my_dir` first, so another interface can extend
`base.html` and import the macros (`{% from "macros.html" import paper_row, paper_card, figure_tiles,
listing_entry %}`) while overriding any template by name.

Safety: autoescape is on for every template, whatever its name; `finalize` drops the characters no HTML document
may carry (NUL, C0 controls) from every plain string a template prints; the `t` filter also folds text to one
line and lets a browser break words of 100+ characters (`<wbr />` every 50: Chromium takes seconds to lay out
a page of 20,000-character words in a real font); `clean` is `t` for attributes (no markup); links go only through `abs_url`/`pdf_url` (ids percent-encoded) or `safe_url` (http(s) only, else None).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from paperscope.render.model import abs_url, clean_text, day, pdf_url, safe_url, xml_text

TEMPLATES = Path(__file__).parent

__all__ = ["TEMPLATES", "environment"]


def _finalize(value: object) -> object:
    # Markup (a macro's output, an escaped join) is already clean; everything else prints as text.
    if isinstance(value, str) and not isinstance(value, Markup):
        return xml_text(value)
    return value


_LONG_WORD = re.compile(r"\S{100,}")
_CHUNK = 50
_WBR = Markup("<wbr />")  # XML-style, so the static pages stay well-formed XML


def html_text(value: object) -> str | Markup:
    """Text for an HTML element: `clean_text`, with a break opportunity every 50 characters of a 100+ word."""
    if isinstance(value, Markup):
        return value  # built by a template or the renderer: already safe
    text = clean_text(value)
    if not _LONG_WORD.search(text):
        return text  # plain text: autoescape escapes it
    out: list[Markup] = []
    pos = 0
    for m in _LONG_WORD.finditer(text):
        word = m.group()
        out.append(escape(text[pos : m.start()]))
        out.append(_WBR.join(escape(word[i : i + _CHUNK]) for i in range(0, len(word), _CHUNK)))
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


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
        t=html_text, clean=clean_text, day=day, abs_url=abs_url, pdf_url=pdf_url, safe_url=safe_url, thousands=_thousands
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
