"""An author profile as one self-contained HTML page, from the Jinja2 templates (profile.html, listing.html).

No scripts, inline CSS, every text escaped by autoescape; links only to arXiv (ids percent-encoded), OpenAlex,
ORCID and http(s) code links.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from markupsafe import Markup

from paperscope.models import AuthorProfile
from paperscope.render.model import clean_text
from paperscope.render.profile_model import (
    all_figures,
    check_view,
    figure_note,
    format_value,
    header_figures,
    listing_order,
    openalex_link,
    orcid_link,
    other_names,
    percent,
    shown_value,
)
from paperscope.render.templates import environment

__all__ = ["profile_context", "render_listing_html", "render_profile_html"]


def profile_context(profile: AuthorProfile, view: str = "cards") -> dict[str, Any]:
    """What profile.html needs, for the web app and email to render the same page or parts of it."""
    check_view(view)
    ids = []
    if profile.openalex_id:
        ids.append(("OpenAlex", *openalex_link(profile.openalex_id)))
    if profile.orcid:
        ids.append(("ORCID", *orcid_link(profile.orcid)))
    top = max(profile.citations_per_year.values(), default=0) or 1
    # The bar is the one piece of markup built here: a width computed from numbers only.
    bar = '<span class="bar" style="width:{:.1f}%"></span>'
    return {
        "profile": profile,
        "view": view,
        "other_names": other_names(profile),
        "ids": ids,
        # A figure with a short reading shows it beside its number ("64 — from 12 papers (3 with citations, ...)").
        "tiles": [(label, replace(f, value=shown_value(f)) if figure_note(f) else f)
                  for label, f in header_figures(profile)],
        "figures": [[(clean_text(f.label), False), (clean_text(format_value(f.value)), True),
                     (clean_text(f.source), False)] for f in all_figures(profile)],
        "per_year": [[(str(y), False), (f"{n:,}", True), (Markup(bar.format(100 * max(n, 0) / top)), False)]
                     for y, n in sorted(profile.citations_per_year.items())],
        "categories": [[(clean_text(c), False), (percent(s), True)] for c, s in profile.categories],
        "coauthors": [[(clean_text(name), False), (f"{n:,}", True)] for name, n in profile.coauthors],
        "listing": listing_order(profile) if view == "listing" else [],
    }


def render_profile_html(profile: AuthorProfile, view: str = "cards") -> str:
    """One self-contained HTML page (inline CSS, no scripts, every text escaped): header, details, papers."""
    return environment().get_template("profile.html").render(profile_context(profile, view))


def render_listing_html(profile: AuthorProfile) -> str:
    """The arXiv listing section alone (an HTML fragment)."""
    return environment().get_template("listing.html").render(listing=listing_order(profile))
