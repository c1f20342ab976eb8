"""What every author-profile renderer shares: how a figure is shown, the header figures, the listing order.

Pure functions, no I/O. Markdown (`profile_markdown`), HTML (`profile_html`, via the Jinja2 templates) and JSON
(`profile_json`) all read a profile through these, so the three pages show the same numbers in the same order.
"""

from __future__ import annotations

import math
import re
from urllib.parse import quote

from paperscope.models import AuthorProfile, Figure, PaperCard, utc
from paperscope.render.model import one_line

DASH = "—"
VIEWS = ("cards", "listing")
HEADER_LABELS = ("h-index", "Papers", "Citations", "Novelty", "Score")
# Authors shown per listing entry before "and N more": collaboration papers list thousands.
MAX_LISTING_AUTHORS = 50


def format_value(value: object) -> str:
    """A figure as shown: "—" for None (or NaN), thousands separators, at most two decimals."""
    if value is None or isinstance(value, bool):
        return DASH if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return DASH
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return one_line(str(value))


_INT = re.compile(r"^-?\d{1,3}(?:,\d{3})*$")
_FLOAT = re.compile(r"^-?\d{1,3}(?:,\d{3})*\.\d+$")


def figure_note(f: Figure) -> str:
    """The short reading a figure carries beside its number (the author AI Score's "from 12 papers (3 with
    citations, 9 predicted)"), or "" when it has none or no value."""
    note = f.inputs.get("summary")
    return one_line(note) if f.value is not None and isinstance(note, str) else ""


def shown_value(f: Figure) -> str:
    """A header figure as shown: its value, then its short reading when it has one ("64 — from 12 papers ...")."""
    note = figure_note(f)
    return f"{format_value(f.value)} {DASH} {note}" if note else format_value(f.value)


def parse_shown(text: str) -> int | float | str | None:
    """Invert `shown_value`: the number before " — " when a short reading follows it."""
    head, sep, _ = text.partition(f" {DASH} ")
    value = parse_value(head)
    return value if sep and not isinstance(value, str) else parse_value(text)


def parse_value(text: str) -> int | float | str | None:
    """Invert `format_value`: "—" is None, "1,234" an int, "85.5" a float, anything else stays text."""
    text = text.strip()
    if text == DASH:
        return None
    if _INT.match(text):
        return int(text.replace(",", ""))
    if _FLOAT.match(text):
        return float(text.replace(",", ""))
    return text


def percent(share: float) -> str:
    """A share 0..1 as "37.5%"."""
    return f"{share * 100:.1f}".rstrip("0").rstrip(".") + "%"


def openalex_link(raw: str) -> tuple[str, str]:
    """(shown id, URL) of an OpenAlex author id given bare or as a URL."""
    ident = raw.rstrip("/").rsplit("/", 1)[-1]
    return ident, f"https://openalex.org/{quote(ident, safe='')}"


def orcid_link(raw: str) -> tuple[str, str]:
    """(shown id, URL) of an ORCID iD given bare or as a URL."""
    ident = raw.rstrip("/").rsplit("/", 1)[-1]
    return ident, f"https://orcid.org/{quote(ident, safe='')}"


def header_figures(profile: AuthorProfile) -> list[tuple[str, Figure]]:
    """The five header figures with their labels, in the order the page shows them."""
    figs = (profile.h_index, profile.papers, profile.citations, profile.novelty, profile.score)
    return list(zip(HEADER_LABELS, figs, strict=True))


def all_figures(profile: AuthorProfile) -> list[Figure]:
    """profile.figures, preceded by any header figure it leaves out: every number on the page gets a source."""
    missing = [f for _, f in header_figures(profile) if f not in profile.figures]
    return missing + list(profile.figures)


def other_names(profile: AuthorProfile) -> list[str]:
    """The other spellings of the name, each once, the name itself left out."""
    seen = {one_line(profile.name)}
    out = []
    for n in profile.names:
        if (k := one_line(n)) and k not in seen:
            seen.add(k)
            out.append(k)
    return out


def listing_order(profile: AuthorProfile) -> list[PaperCard]:
    """The cards as arXiv lists them: newest first submission first (ties by id, newest first)."""
    return sorted(profile.cards, key=lambda c: (utc(c.paper.first_submitted), c.paper.id), reverse=True)


def card_stats(card: PaperCard) -> list[tuple[str, str]]:
    """(label, shown value) of the card's known citations, novelty and score."""
    known = (("Citations", card.citations), ("Novelty", card.novelty), ("Score", card.score))
    return [(label, format_value(v)) for label, v in known if v is not None]


def listing_authors(names: list[str]) -> str:
    """Authors as arXiv's listing shows them, cut after MAX_LISTING_AUTHORS with "and N more"."""
    if len(names) > MAX_LISTING_AUTHORS:
        return ", ".join(names[:MAX_LISTING_AUTHORS]) + f" and {len(names) - MAX_LISTING_AUTHORS} more"
    return ", ".join(names)


def check_view(view: str) -> None:
    if view not in VIEWS:
        raise ValueError(f"unknown profile view {view!r} (expected one of: {', '.join(VIEWS)})")
