r"""An author profile as Markdown, HTML or JSON, with an arXiv-style listing view, and a Markdown reader.

Pure functions, no I/O. The page: the name (other spellings, OpenAlex / ORCID links), the five header figures on
one line (`**h-index** 12 · **Papers** 34 · ...`, "—" when unknown), a Figures table saying where every number
came from, citations per year, category shares, co-authors, affiliations, then the papers: one card each in the
caller's order (view "cards") or arXiv's listing, newest first (view "listing").

Markdown escaping reuses the digest's `escape_cell` (entities for `&<>`, backslash before Markdown specials,
backslash runs doubled) with `guard_end` everywhere, so `parse_profile_markdown` inverts every field exactly
(after whitespace runs collapse to one space). Abstracts sit in one-line HTML blocks (`<details>`, `<p>`), where
Markdown is not read: only `&<>` are escaped there.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from html import escape
from typing import Any, Literal
from urllib.parse import quote

import orjson

from paperscope.render.jsonout import paper_to_dict
from paperscope.render.markdown import escape_cell, unescape_cell
from paperscope.render.model import day, one_line, xml_text
from paperscope.errors import InputError
from paperscope.models import AuthorProfile, Figure, PaperCard, split_arxiv_id, utc

__all__ = [
    "format_value",
    "listing_order",
    "parse_profile_markdown",
    "parse_value",
    "profile_to_dict",
    "render_listing",
    "render_profile_html",
    "render_profile_json",
    "render_profile_markdown",
]

DASH = "—"
VIEWS = ("cards", "listing")
HEADER_LABELS = ("h-index", "Papers", "Citations", "Novelty", "Score")
# Authors shown per listing entry before "and N more": collaboration papers list thousands.
MAX_LISTING_AUTHORS = 50
_BAR = 20  # width of the longest citations-per-year bar

_TEXT = "|[]`*_~"  # Markdown specials escaped in every text field
_HEADING = "#" + _TEXT
_NAMES = ";" + _TEXT  # "; " separates the other spellings
_ENTITY = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY_RE = re.compile("&(?:amp|lt|gt);")
_SEP_ENTITY = {"·": "&middot;", ",": "&#44;"}
_DETAILS = ("<details><summary>Abstract</summary><p>", "</p></details>")
_PARA = ('<p class="abstract">', "</p>")


# --------------------------------------------------------------------------------------------- values


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


def _percent(share: float) -> str:
    return f"{share * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _safe_url(url: str | None) -> str | None:
    """An http(s) URL with spaces, quotes, angle brackets and parentheses percent-encoded; None for other schemes."""
    url = (url or "").strip()
    if not re.match(r"^https?://", url, re.IGNORECASE):
        return None  # `javascript:` and friends come from untrusted abstract text
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


def _openalex(raw: str) -> tuple[str, str]:
    ident = raw.rstrip("/").rsplit("/", 1)[-1]
    return ident, f"https://openalex.org/{quote(ident, safe='')}"


def _orcid(raw: str) -> tuple[str, str]:
    ident = raw.rstrip("/").rsplit("/", 1)[-1]
    return ident, f"https://orcid.org/{quote(ident, safe='')}"


def _header(profile: AuthorProfile) -> list[tuple[str, Figure]]:
    figs = (profile.h_index, profile.papers, profile.citations, profile.novelty, profile.score)
    return list(zip(HEADER_LABELS, figs, strict=True))


def _all_figures(profile: AuthorProfile) -> list[Figure]:
    """profile.figures, preceded by any header figure it leaves out: every number on the page gets a source."""
    missing = [f for _, f in _header(profile) if f not in profile.figures]
    return missing + list(profile.figures)


def _other_names(profile: AuthorProfile) -> list[str]:
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


def _stats(card: PaperCard) -> list[tuple[str, str]]:
    known = (("Citations", card.citations), ("Novelty", card.novelty), ("Score", card.score))
    return [(label, format_value(v)) for label, v in known if v is not None]


def _listing_authors(names: list[str]) -> str:
    if len(names) > MAX_LISTING_AUTHORS:
        return ", ".join(names[:MAX_LISTING_AUTHORS]) + f" and {len(names) - MAX_LISTING_AUTHORS} more"
    return ", ".join(names)


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise ValueError(f"unknown profile view {view!r} (expected one of: {', '.join(VIEWS)})")


# --------------------------------------------------------------------------------------------- Markdown


def _md(text: str, specials: str = _TEXT, *, lead: bool = False) -> str:
    # guard_end always: every field is followed by markup or a separator that a trailing backslash would eat.
    return escape_cell(text, specials, guard_end=True, lead=lead)


def _unmd(text: str) -> str:
    return unescape_cell(text, guard_end=True)


def _md_part(text: str, seps: str = "·", *, lead: bool = False) -> str:
    """A field of a " · "-separated line: separator characters become entities, so splitting is unambiguous."""
    out = _md(text, lead=lead)
    for ch in seps:
        out = out.replace(ch, _SEP_ENTITY[ch])
    return out


def _unmd_part(text: str) -> str:
    # A literal "&middot;" in the text was escaped to "&amp;middot;" by `_md`, so it is not matched here.
    for ch, entity in _SEP_ENTITY.items():
        text = text.replace(entity, ch)
    return _unmd(text)


def _raw_html(text: str) -> str:
    # Inside an HTML block Markdown is not read: only the entities matter.
    return escape(one_line(text), quote=False)


def _unraw_html(text: str) -> str:
    return _ENTITY_RE.sub(lambda m: _ENTITY[m.group(0)], text)


def _md_link(label: str, url: str | None) -> str:
    return f"[{label}]({url})" if url else label


def _md_header(profile: AuthorProfile) -> list[str]:
    lines = [f"# {_md(profile.name, _HEADING)}", ""]
    if others := _other_names(profile):
        lines += ["Also written as: " + "; ".join(_md(n, _NAMES) for n in others), ""]
    ids = []
    if profile.openalex_id:
        ident, url = _openalex(profile.openalex_id)
        ids.append(f"OpenAlex: [{_md(ident)}]({url})")
    if profile.orcid:
        ident, url = _orcid(profile.orcid)
        ids.append(f"ORCID: [{_md(ident)}]({url})")
    if ids:
        lines += [" · ".join(ids), ""]
    lines.append(" · ".join(f"**{label}** {_md_part(format_value(f.value))}" for label, f in _header(profile)))
    lines += ["", f"Generated: {profile.generated.isoformat()}"]
    return lines


def _md_details(profile: AuthorProfile) -> list[str]:
    lines = ["", "## Figures", "", "| Figure | Value | Source |", "| --- | ---: | --- |"]
    lines += [f"| {_md(f.label)} | {_md(format_value(f.value))} | {_md(f.source)} |" for f in _all_figures(profile)]
    if profile.citations_per_year:
        top = max(profile.citations_per_year.values()) or 1
        lines += ["", "## Citations per year", "", "| Year | Citations | |", "| --- | ---: | --- |"]
        for year, n in sorted(profile.citations_per_year.items()):
            bar = "█" * round(_BAR * max(n, 0) / top) or ("▏" if n > 0 else "")
            lines.append(f"| {year} | {n:,} | {bar} |")
    if profile.categories:
        lines += ["", "## Categories", "", "| Category | Share |", "| --- | ---: |"]
        lines += [f"| {_md(cat)} | {_percent(share)} |" for cat, share in profile.categories]
    if profile.coauthors:
        lines += ["", "## Co-authors", "", "| Co-author | Shared papers |", "| --- | ---: |"]
        lines += [f"| {_md(name)} | {n:,} |" for name, n in profile.coauthors]
    if profile.affiliations:
        lines += ["", "## Affiliations", ""]
        lines += [f"- {_md(tag)} — {_md(inst)}" for tag, inst in profile.affiliations]
    return lines


def _md_card(card: PaperCard) -> list[str]:
    p = card.paper
    code = _md_link("Code", _safe_url(p.code_url)) if p.has_code else ""
    meta = [_md_part(card.category_code, lead=True) if card.category_code else DASH, _md_part(card.date_label)]
    people = _md_part(card.authors_label, lead=True) if card.authors_label else DASH
    if card.affiliation_tags:
        people += " · " + ", ".join(_md_part(t, "·,") for t in card.affiliation_tags)
    lines = ["", " · ".join(meta + ([code] if code else [])), f"### [{_md(p.title)}]({_safe_url(p.abs_url)})", people]
    if one_line(p.abstract):
        lines += ["", f"{_DETAILS[0]}{_raw_html(p.abstract)}{_DETAILS[1]}"]
    if stats := _stats(card):
        lines += ["", " · ".join(f"**{label}** {value}" for label, value in stats)]
    return lines


def _md_listing(profile: AuthorProfile) -> list[str]:
    cards = listing_order(profile)
    lines = ["", f"## arXiv listing ({len(cards)}, newest first)"]
    if not cards:
        return lines + ["", "No papers."]
    for i, card in enumerate(cards, start=1):
        p = card.paper
        fields = [
            f"**\\[{i}\\]** [arXiv:{_md(p.id)}]({_safe_url(p.abs_url)})",
            f"**Title:** {_md(p.title)}",
            f"**Authors:** {_md(_listing_authors(p.author_names))}",
        ]
        if one_line(p.comment):
            fields.append(f"**Comments:** {_md(p.comment)}")
        # A trailing backslash is a hard line break; `_md` left every field's own backslash run even.
        lines += ["", "\\\n".join(fields)]
        if one_line(p.abstract):
            lines += ["", f"{_PARA[0]}{_raw_html(p.abstract)}{_PARA[1]}"]
        lines += ["", f"**Created:** {day(p.first_submitted)}"]
    return lines


def render_listing(profile: AuthorProfile, *, fmt: Literal["markdown", "html"] = "markdown") -> str:
    """The papers as arXiv lists them (newest first): id, title, authors, comments, abstract, created date."""
    if fmt == "html":
        return _html_listing(profile)
    if fmt != "markdown":
        raise ValueError(f"unknown listing format {fmt!r} (expected 'markdown' or 'html')")
    return "\n".join(_md_listing(profile)).lstrip("\n") + "\n"


def render_profile_markdown(profile: AuthorProfile, *, view: str = "cards") -> str:
    """The profile as Markdown: header, figures and details, then the papers as cards or as arXiv's listing."""
    _check_view(view)
    lines = _md_header(profile) + _md_details(profile)
    if view == "listing":
        lines += _md_listing(profile)
    else:
        lines += ["", f"## Papers ({len(profile.cards)}, by {_md(profile.order)})"]
        if not profile.cards:
            lines += ["", "No papers."]
        for card in profile.cards:
            lines += _md_card(card)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- parsing


def _split_unescaped(text: str, sep: str) -> list[str]:
    # A separator counts unless an odd run of backslashes escapes its first character.
    parts, start = [], 0
    for m in re.finditer(r"(\\*)" + re.escape(sep), text):
        if len(m.group(1)) % 2 == 0:
            parts.append(text[start : m.end(1)])
            start = m.end()
    return parts + [text[start:]]


def _row(line: str) -> list[str]:
    cells = _split_unescaped(line.strip(), "|")
    return [c.strip() for c in cells[1:-1]]


def _drop_hard_break(line: str) -> str:
    run = len(line) - len(line.rstrip("\\"))
    return line[:-1] if run % 2 else line


_LINK = re.compile(r"^\[(?P<label>.*)\]\((?P<url>[^()\s]*)\)$")
_TITLE = re.compile(r"^### \[(?P<title>.*)\]\((?P<url>[^()\s]+)\)$")
_ENTRY = re.compile(r"^\*\*\\\[(?P<n>\d+)\\\]\*\* \[arXiv:(?P<id>.*)\]\((?P<url>[^()\s]+)\)$")
_STAT = re.compile(r"^\*\*(Citations|Novelty|Score)\*\* ")


def _stats_line(line: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in line.split(" · "):
        m = re.match(r"^\*\*(?P<label>[^*]+)\*\* (?P<value>.*)$", part)
        if m:
            out[m["label"]] = parse_value(_unmd_part(m["value"]))
    return out


def _parse_card(lines: list[str], i: int, m: re.Match[str]) -> dict[str, Any]:
    """The card whose `### [title](url)` line is lines[i] (matched as m): meta line above, people line below."""
    meta = lines[i - 1].split(" · ") if i > 0 else []
    code, has_code = None, False
    if meta and (meta[-1] == "Code" or meta[-1].startswith("[Code](")):
        has_code = True
        link = _LINK.match(meta.pop())
        code = link["url"] if link else None
    people = lines[i + 1] if i + 1 < len(lines) else ""
    tags: list[str] = []
    if " · " in people:
        people, _, tagline = people.rpartition(" · ")
        tags = [_unmd_part(t) for t in tagline.split(", ")]
    url = m["url"]
    paper_id, version = split_arxiv_id(url)
    return {
        "category_code": "" if not meta or meta[0] == DASH else _unmd_part(meta[0]),
        "date_label": _unmd_part(" · ".join(meta[1:])),
        "has_code": has_code,
        "code_url": code,
        "title": _unmd(m["title"]),
        "url": url,
        "id": paper_id,
        "version": version,
        "authors_label": "" if people == DASH else _unmd_part(people),
        "tags": tags,
        "abstract": "",
        "citations": None,
        "novelty": None,
        "score": None,
    }


def _parse_entry(lines: list[str], i: int, m: re.Match[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"n": int(m["n"]), "id": _unmd(m["id"]), "url": m["url"], "title": "", "authors": "",
                             "comment": "", "abstract": "", "created": None}
    keys = {"Title": "title", "Authors": "authors", "Comments": "comment"}
    for line in lines[i + 1 :]:
        f = re.match(r"^\*\*(Title|Authors|Comments):\*\* (.*)$", _drop_hard_break(line))
        if not f:
            break
        entry[keys[f.group(1)]] = _unmd(f.group(2))
    return entry


def parse_profile_markdown(text: str) -> dict[str, Any]:
    """Read back a page written by `render_profile_markdown`: header, figures, details, cards or listing entries.

    Figure values come back through `parse_value`; text fields are unescaped exactly. Raises InputError naming
    the line when the first line is not the `# name` heading.
    """
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise InputError("profile markdown line 1: expected the '# <name>' heading")
    out: dict[str, Any] = {
        "name": _unmd(lines[0][2:]), "names": [], "openalex_id": None, "orcid": None, "header": {},
        "generated": None, "figures": [], "citations_per_year": {}, "categories": [], "coauthors": [],
        "affiliations": [], "view": None, "order": None, "cards": [], "listing": [],
    }
    section = ""
    for i, line in enumerate(lines[1:], start=1):
        if line.startswith("## "):
            section = line[3:]
            if m := re.match(r"^Papers \(\d+, by (.*)\)$", section):
                out["view"], out["order"] = "cards", _unmd(m[1])
            elif section.startswith("arXiv listing"):
                out["view"] = "listing"
            continue
        if not line.strip() or (section and line.startswith("| ---")):
            continue
        if not section:
            if line.startswith("Also written as: "):
                out["names"] = [_unmd(n) for n in _split_unescaped(line[17:], "; ")]
            elif line.startswith(("OpenAlex: ", "ORCID: ")):
                for part in line.split(" · "):
                    key, _, link = part.partition(": ")
                    if lm := _LINK.match(link):
                        out["openalex_id" if key == "OpenAlex" else "orcid"] = _unmd(lm["label"])
            elif line.startswith("**h-index** "):
                out["header"] = _stats_line(line)
            elif line.startswith("Generated: "):
                out["generated"] = date.fromisoformat(line[11:].strip())
        elif section == "Figures" and line.startswith("| ") and line != "| Figure | Value | Source |":
            label, value, source = _row(line)
            out["figures"].append({"label": _unmd(label), "value": parse_value(_unmd(value)), "source": _unmd(source)})
        elif section == "Citations per year" and re.match(r"^\| \d", line):
            year, n, _bar = _row(line)
            out["citations_per_year"][int(year)] = int(n.replace(",", ""))
        elif section == "Categories" and line.startswith("| ") and line != "| Category | Share |":
            cat, share = _row(line)
            out["categories"].append((_unmd(cat), float(share.rstrip("%")) / 100))
        elif section == "Co-authors" and line.startswith("| ") and line != "| Co-author | Shared papers |":
            name, n = _row(line)
            out["coauthors"].append((_unmd(name), int(n.replace(",", ""))))
        elif section == "Affiliations" and line.startswith("- "):
            tag, _, inst = line[2:].partition(" — ")
            out["affiliations"].append((_unmd(tag), _unmd(inst)))
        elif out["view"] == "cards":
            if title := _TITLE.match(line):
                out["cards"].append(_parse_card(lines, i, title))
            elif out["cards"] and line.startswith(_DETAILS[0]) and line.endswith(_DETAILS[1]):
                out["cards"][-1]["abstract"] = _unraw_html(line[len(_DETAILS[0]) : -len(_DETAILS[1])])
            elif out["cards"] and _STAT.match(line):
                out["cards"][-1].update({k.lower(): v for k, v in _stats_line(line).items()})
        elif out["view"] == "listing":
            if entry := _ENTRY.match(_drop_hard_break(line)):
                out["listing"].append(_parse_entry(lines, i, entry))
            elif out["listing"] and line.startswith(_PARA[0]) and line.endswith(_PARA[1]):
                out["listing"][-1]["abstract"] = _unraw_html(line[len(_PARA[0]) : -len(_PARA[1])])
            elif out["listing"] and line.startswith("**Created:** "):
                out["listing"][-1]["created"] = date.fromisoformat(line[13:].strip())
    return out


# --------------------------------------------------------------------------------------------- HTML

_CSS = """
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#5f6368;--line:#e3e3e3;--accent:#0b57d0;
--tag:#e8f0fe;--bar:#8ab4f8}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--bg:#16171a;--muted:#9aa0a6;--line:#34363a;
--accent:#8ab4f8;--tag:#27344d;--bar:#4c6fa8}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:52rem;padding:1rem;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--accent)}
header{border-bottom:1px solid var(--line);margin-bottom:1rem}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.2rem;margin:1.6rem 0 .5rem}
h3{font-size:1.05rem;margin:.1rem 0 .25rem;line-height:1.35}
.aka,.ids,.generated,.meta,.authors,.stats,.field{color:var(--muted);font-size:.9rem;margin:.15rem 0}
.figs{font-size:1.05rem}
.figs b{font-weight:600}
table{border-collapse:collapse;font-size:.9rem}
th,td{padding:.2rem .6rem;border-bottom:1px solid var(--line);text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:.7rem;background:var(--bar);border-radius:2px}
ol.cards,dl.listing{list-style:none;padding:0;margin:0}
li.card,dl.listing dt{padding:.75rem 0 0;border-top:1px solid var(--line)}
li.card{padding-bottom:.75rem}
dl.listing dd{margin:0 0 .75rem}
.badge,.tag{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .4rem;border-radius:.6rem;
background:var(--tag)}
details summary{cursor:pointer;color:var(--accent);font-size:.9rem}
details p{margin:.4rem 0 0}
"""


def _t(text: str) -> str:
    """Text for HTML, quotes escaped too (some of it lands in attributes)."""
    return escape(xml_text(one_line(str(text))), quote=True)


def _a(url: str | None, label: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f'<a{attr} href="{_t(url)}">{label}</a>' if url else f"<span{attr}>{label}</span>"


def _html_header(profile: AuthorProfile) -> str:
    parts = [f"<h1>{_t(profile.name)}</h1>"]
    if others := _other_names(profile):
        parts.append(f'<p class="aka">Also written as: {"; ".join(_t(n) for n in others)}</p>')
    ids = []
    if profile.openalex_id:
        ident, url = _openalex(profile.openalex_id)
        ids.append(f"OpenAlex: {_a(url, _t(ident))}")
    if profile.orcid:
        ident, url = _orcid(profile.orcid)
        ids.append(f"ORCID: {_a(url, _t(ident))}")
    if ids:
        parts.append(f'<p class="ids">{" · ".join(ids)}</p>')
    figs = " · ".join(
        f'<span class="fig" title="{_t(f.source)}"><b>{label}</b> {_t(format_value(f.value))}</span>'
        for label, f in _header(profile)
    )
    parts.append(f'<p class="figs">{figs}</p>')
    g = profile.generated.isoformat()
    parts.append(f'<p class="generated">Generated <time datetime="{g}">{g}</time></p>')
    return "<header>\n" + "\n".join(parts) + "\n</header>"


def _table(cls: str, head: tuple[str, ...], rows: list[list[tuple[str, bool]]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "\n".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if num else f"<td>{c}</td>" for c, num in row) + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}">\n<thead><tr>{th}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


def _section(ident: str, title: str, inner: str) -> str:
    return f'<section id="{ident}">\n<h2>{title}</h2>\n{inner}\n</section>'


def _html_details(profile: AuthorProfile) -> list[str]:
    rows = [[(_t(f.label), False), (_t(format_value(f.value)), True), (_t(f.source), False)]
            for f in _all_figures(profile)]
    out = [_section("figures", "Figures", _table("figures", ("Figure", "Value", "Source"), rows))]
    if profile.citations_per_year:
        top = max(profile.citations_per_year.values()) or 1
        bar = '<span class="bar" style="width:{:.1f}%"></span>'
        rows = [[(str(y), False), (f"{n:,}", True), (bar.format(100 * max(n, 0) / top), False)]
                for y, n in sorted(profile.citations_per_year.items())]
        table = _table("per-year", ("Year", "Citations", ""), rows)
        out.append(_section("citations-per-year", "Citations per year", table))
    if profile.categories:
        rows = [[(_t(c), False), (_percent(s), True)] for c, s in profile.categories]
        out.append(_section("categories", "Categories", _table("categories", ("Category", "Share"), rows)))
    if profile.coauthors:
        rows = [[(_t(name), False), (f"{n:,}", True)] for name, n in profile.coauthors]
        out.append(_section("coauthors", "Co-authors", _table("coauthors", ("Co-author", "Shared papers"), rows)))
    if profile.affiliations:
        items = "\n".join(f'<li><span class="tag">{_t(t)}</span> — {_t(i)}</li>' for t, i in profile.affiliations)
        out.append(_section("affiliations", "Affiliations", f'<ul class="affiliations">\n{items}\n</ul>'))
    return out


def _html_card(card: PaperCard) -> str:
    p = card.paper
    meta = [f'<span class="cat">{_t(card.category_code) or DASH}</span>',
            f'<span class="date">{_t(card.date_label)}</span>']
    if p.has_code:
        meta.append(_a(_safe_url(p.code_url), "Code", "badge code"))
    people = _t(card.authors_label)
    if card.affiliation_tags:
        people += " · " + ", ".join(f'<span class="tag">{_t(t)}</span>' for t in card.affiliation_tags)
    parts = [
        f'<li class="card" id="{_t("paper-" + p.id)}">',
        f'<p class="meta">{" · ".join(meta)}</p>',
        f"<h3>{_a(_safe_url(p.abs_url), _t(p.title))}</h3>",
        f'<p class="authors">{people}</p>',
    ]
    if one_line(p.abstract):
        parts.append(f"<details><summary>Abstract</summary><p>{_t(p.abstract)}</p></details>")
    if stats := _stats(card):
        parts.append(f'<p class="stats">{" · ".join(f"<b>{k}</b> {_t(v)}" for k, v in stats)}</p>')
    parts.append("</li>")
    return "\n".join(parts)


def _html_listing(profile: AuthorProfile) -> str:
    cards = listing_order(profile)
    if not cards:
        return _section("listing", f"arXiv listing ({len(cards)}, newest first)", "<p>No papers.</p>")
    items = []
    for i, card in enumerate(cards, start=1):
        p = card.paper
        url = _safe_url(p.abs_url)
        items.append(f'<dt id="{_t("paper-" + p.id)}">[{i}] {_a(url, "arXiv:" + _t(p.id), "id")}</dt>\n<dd>')
        items.append(f'<div class="title"><b>Title:</b> {_t(p.title)}</div>')
        items.append(f'<div class="field authors"><b>Authors:</b> {_t(_listing_authors(p.author_names))}</div>')
        if one_line(p.comment):
            items.append(f'<div class="field comment"><b>Comments:</b> {_t(p.comment)}</div>')
        if one_line(p.abstract):
            items.append(f'<p class="abstract">{_t(p.abstract)}</p>')
        created = day(p.first_submitted)
        when = f'<time datetime="{created}">{created}</time>'
        items.append(f'<div class="field created"><b>Created:</b> {when}</div>\n</dd>')
    body = '<dl class="listing">\n' + "\n".join(items) + "\n</dl>"
    return _section("listing", f"arXiv listing ({len(cards)}, newest first)", body)


def render_profile_html(profile: AuthorProfile, view: str = "cards") -> str:
    """One self-contained HTML page (inline CSS, no scripts, every text escaped): header, details, papers."""
    _check_view(view)
    if view == "listing":
        papers = _html_listing(profile)
    else:
        cards = "\n".join(_html_card(c) for c in profile.cards) or "<li>No papers.</li>"
        title = f"Papers ({len(profile.cards)}, by {_t(profile.order)})"
        papers = _section("papers", title, f'<ol class="cards">\n{cards}\n</ol>')
    body = "\n".join([_html_header(profile), "<main>", *_html_details(profile), papers, "</main>"])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{_t(profile.name)} – author profile</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------------------------- JSON


def _jsonable(value: Any) -> Any:
    """Figure inputs and values as JSON: ISO dates, lists for tuples/sets, None for NaN, str for the rest."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Figure):
        return _figure(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _figure(f: Figure) -> dict[str, Any]:
    return {"label": f.label, "value": _jsonable(f.value), "source": f.source, "inputs": _jsonable(f.inputs)}


def _card(card: PaperCard) -> dict[str, Any]:
    return {
        "category_code": card.category_code,
        "date_label": card.date_label,
        "authors_label": card.authors_label,
        "affiliation_tags": list(card.affiliation_tags),
        "citations": card.citations,
        "novelty": _jsonable(card.novelty),
        "score": _jsonable(card.score),
        "has_code": card.paper.has_code,
        "code_url": card.paper.code_url or None,
        "paper": paper_to_dict(card.paper),
    }


def profile_to_dict(profile: AuthorProfile) -> dict[str, Any]:
    """The profile as plain JSON-ready values: ISO dates, each figure with label/value/source/inputs, cards in order."""
    return {
        "name": profile.name,
        "key": profile.key,
        "generated": profile.generated.isoformat(),
        "names": list(profile.names),
        "openalex_id": profile.openalex_id,
        "orcid": profile.orcid,
        "followed": profile.followed,
        "order": profile.order,
        "header": {label: _figure(f) for label, f in _header(profile)},
        "figures": [_figure(f) for f in profile.figures],
        "citations_per_year": [{"year": y, "citations": n} for y, n in sorted(profile.citations_per_year.items())],
        "categories": [{"category": c, "share": _jsonable(s)} for c, s in profile.categories],
        "coauthors": [{"name": name, "papers": n} for name, n in profile.coauthors],
        "affiliations": [{"tag": tag, "institution": inst} for tag, inst in profile.affiliations],
        "cards": [_card(c) for c in profile.cards],
    }


def render_profile_json(profile: AuthorProfile) -> str:
    """`profile_to_dict` as indented JSON text (UTF-8, keys in a fixed order), ending with a newline."""
    return orjson.dumps(profile_to_dict(profile), option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
