r"""An author profile as Markdown (cards or arXiv's listing), and `parse_profile_markdown`, which inverts it.

The page: the name (other spellings, OpenAlex / ORCID links), the five header figures on one line
(`**h-index** 12 · **Papers** 34 · ...`, "—" when unknown), a Figures table saying where every number came from,
citations per year, category shares, co-authors, affiliations, then the papers: one card each in the caller's
order (view "cards") or arXiv's listing, newest first (view "listing").

Escaping reuses the digest's `escape_cell` (entities for `&<>`, backslash before Markdown specials, backslash runs
doubled, NUL and C0 controls dropped) with `guard_end` everywhere, so `parse_profile_markdown` inverts every field
exactly (after whitespace runs collapse to one space). Abstracts sit in one-line HTML blocks (`<details>`, `<p>`),
where Markdown is not read: only `&<>` are escaped there. Paper ids reach links percent-encoded; code links are
links only when http(s).
"""

from __future__ import annotations

import re
from datetime import date
from html import escape
from typing import Any, Literal

from paperscope.errors import InputError
from paperscope.models import AuthorProfile, PaperCard
from paperscope.render.markdown import escape_cell, unescape_cell
from paperscope.render.model import abs_url, clean_text, day, one_line, safe_url, split_abs_url
from paperscope.render.profile_model import (
    DASH,
    all_figures,
    card_stats,
    check_view,
    format_value,
    header_figures,
    listing_authors,
    listing_order,
    openalex_link,
    orcid_link,
    other_names,
    parse_shown,
    parse_value,
    percent,
    shown_value,
)

__all__ = ["parse_profile_markdown", "render_listing", "render_profile_markdown"]

_BAR = 20  # width of the longest citations-per-year bar
_TEXT = "|[]`*_~"  # Markdown specials escaped in every text field
_HEADING = "#" + _TEXT
_NAMES = ";" + _TEXT  # "; " separates the other spellings
_ENTITY = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY_RE = re.compile("&(?:amp|lt|gt);")
_SEP_ENTITY = {"·": "&middot;", ",": "&#44;"}
_DETAILS = ("<details><summary>Abstract</summary><p>", "</p></details>")
_PARA = ('<p class="abstract">', "</p>")


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
    return escape(clean_text(text), quote=False)


def _unraw_html(text: str) -> str:
    return _ENTITY_RE.sub(lambda m: _ENTITY[m.group(0)], text)


def _md_link(label: str, url: str | None) -> str:
    return f"[{label}]({url})" if url else label


def _md_header(profile: AuthorProfile) -> list[str]:
    lines = [f"# {_md(profile.name, _HEADING)}", ""]
    if others := other_names(profile):
        lines += ["Also written as: " + "; ".join(_md(n, _NAMES) for n in others), ""]
    ids = []
    if profile.openalex_id:
        ident, url = openalex_link(profile.openalex_id)
        ids.append(f"OpenAlex: [{_md(ident)}]({url})")
    if profile.orcid:
        ident, url = orcid_link(profile.orcid)
        ids.append(f"ORCID: [{_md(ident)}]({url})")
    if ids:
        lines += [" · ".join(ids), ""]
    lines.append(" · ".join(f"**{label}** {_md_part(shown_value(f))}" for label, f in header_figures(profile)))
    lines += ["", f"Generated: {profile.generated.isoformat()}"]
    return lines


def _md_details(profile: AuthorProfile) -> list[str]:
    lines = ["", "## Figures", "", "| Figure | Value | Source |", "| --- | ---: | --- |"]
    lines += [f"| {_md(f.label)} | {_md(format_value(f.value))} | {_md(f.source)} |" for f in all_figures(profile)]
    if profile.citations_per_year:
        top = max(profile.citations_per_year.values()) or 1
        lines += ["", "## Citations per year", "", "| Year | Citations | |", "| --- | ---: | --- |"]
        for year, n in sorted(profile.citations_per_year.items()):
            bar = "█" * round(_BAR * max(n, 0) / top) or ("▏" if n > 0 else "")
            lines.append(f"| {year} | {n:,} | {bar} |")
    if profile.categories:
        lines += ["", "## Categories", "", "| Category | Share |", "| --- | ---: |"]
        lines += [f"| {_md(cat)} | {percent(share)} |" for cat, share in profile.categories]
    if profile.coauthors:
        lines += ["", "## Co-authors", "", "| Co-author | Shared papers |", "| --- | ---: |"]
        lines += [f"| {_md(name)} | {n:,} |" for name, n in profile.coauthors]
    if profile.affiliations:
        lines += ["", "## Affiliations", ""]
        lines += [f"- {_md(tag)} — {_md(inst)}" for tag, inst in profile.affiliations]
    return lines


def _md_card(card: PaperCard) -> list[str]:
    p = card.paper
    code = _md_link("Code", safe_url(p.code_url)) if p.has_code else ""
    meta = [_md_part(card.category_code, lead=True) if card.category_code else DASH, _md_part(card.date_label)]
    people = _md_part(card.authors_label, lead=True) if card.authors_label else DASH
    if card.affiliation_tags:
        people += " · " + ", ".join(_md_part(t, "·,") for t in card.affiliation_tags)
    lines = ["", " · ".join(meta + ([code] if code else [])), f"### [{_md(p.title)}]({abs_url(p)})", people]
    if one_line(p.abstract):
        lines += ["", f"{_DETAILS[0]}{_raw_html(p.abstract)}{_DETAILS[1]}"]
    if stats := card_stats(card):
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
            f"**\\[{i}\\]** [arXiv:{_md(p.id)}]({abs_url(p)})",
            f"**Title:** {_md(p.title)}",
            f"**Authors:** {_md(listing_authors(p.author_names))}",
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
        from paperscope.render.profile_html import render_listing_html

        return render_listing_html(profile)
    if fmt != "markdown":
        raise ValueError(f"unknown listing format {fmt!r} (expected 'markdown' or 'html')")
    return "\n".join(_md_listing(profile)).lstrip("\n") + "\n"


def render_profile_markdown(profile: AuthorProfile, *, view: str = "cards") -> str:
    """The profile as Markdown: header, figures and details, then the papers as cards or as arXiv's listing."""
    check_view(view)
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
            out[m["label"]] = parse_shown(_unmd_part(m["value"]))
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
    paper_id, version = split_abs_url(url) or (url, None)
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


