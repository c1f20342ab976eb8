"""The digest as one self-contained HTML page (templates/digest.html): inline CSS, no scripts, no external assets."""

from __future__ import annotations

from paperscope.render.model import Digest, section_slugs
from paperscope.render.templates import environment

# Authors shown before "and N more": some papers list thousands.
MAX_AUTHORS = 12


def render_html(digest: Digest) -> str:
    """One HTML page for the digest: a table of contents, then each section with a linked entry per paper."""
    sections = list(zip(digest.sections, section_slugs(digest), strict=True))
    page = environment().get_template("digest.html")
    return page.render(digest=digest, sections=sections, max_authors=MAX_AUTHORS)
