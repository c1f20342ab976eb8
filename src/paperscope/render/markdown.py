r"""The DailyArXiv-style Markdown digest: one GitHub table per section, and a parser that inverts it.

Escaping, so that no text can break the table or the link (GitHub-flavoured Markdown):
- whitespace runs, newlines included, become one space; NUL and the other C0 controls are dropped;
- `<`, `>` become HTML entities in every text cell (the abstract sits inside `<details>`), and so does
  `&` where it would start a character reference (`&lt;` in the text stays `&lt;` on screen);
- `|`, `[` and `]` become `\|`, `\[`, `\]` everywhere (no text can make a link or an image, so no
  `javascript:` URL either); in titles backtick and `*` are backslash-escaped too;
- the paper id reaches the page only inside the arXiv link, percent-encoded (`abs_url`);
- a run of backslashes is doubled (Markdown reads `\\` as one `\`), except a lone one before a letter,
  digit or space, which Markdown shows as it is (so LaTeX such as `\mathrm` stays readable): the
  reader sees the original backslashes and no escape is ever swallowed.
`parse_markdown` undoes exactly this; the tests compare every field after a round trip.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

from paperscope.render.model import Digest, DigestSection, abs_url, clean_text, day, split_abs_url
from paperscope.errors import InputError
from paperscope.models import Paper

HEADER = "| **Title** | **Date** | **Abstract** | **Comment** |"
DELIMITER = "| --- | --- | --- | --- |"
_DETAILS_OPEN = "<details><summary>Show</summary><p>"
_DETAILS_CLOSE = "</p></details>"

_PUNCT = frozenset(string.punctuation)
_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_UNENTITY = {v: k for k, v in _ENTITY.items()}
_ENTITY_RE = re.compile(r"&(?:amp|lt|gt);")
# What Markdown would decode as a character reference. A bare "&" elsewhere stays as it is, because
# GitHub's autolinker copies "&amp;" into a URL verbatim (an OpenReview "&noteId=" link would break).
_REFERENCE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")

_TITLE_SPECIALS = "|[]`*_~"
_CELL_SPECIALS = "|[]"
_HEADING_SPECIALS = "#|[]"
_LABEL_SPECIALS = "|[]()"


def escape_cell(text: str, specials: str = _CELL_SPECIALS, *, guard_end: bool = False, lead: bool = False) -> str:
    """Escape text for one table cell or line (rules in the module docstring).

    `guard_end` doubles a trailing backslash run (for text followed by markup: `]`, `</p>`, `)`); `lead` also escapes a
    first character that would start a Markdown block (heading, list, quote, table row).
    """
    text = clean_text(text)
    out: list[str] = []
    run = 0
    for i, ch in enumerate(text):
        if ch == "\\":
            run += 1
            continue
        escape_it = ch in specials or (lead and i - run == 0 and ch in _PUNCT)
        if ch in "<>" or (ch == "&" and _REFERENCE.match(text, i)):
            out.append("\\" * (2 * run) + _ENTITY[ch])
        elif escape_it:
            out.append("\\" * (2 * run) + "\\" + ch)
        elif ch in _PUNCT:
            out.append("\\" * (2 * run) + ch)
        else:
            out.append(_run(run) + ch)
        run = 0
    out.append("\\" * (2 * run) if guard_end else _run(run))
    if lead and not text.startswith("\\"):
        # "1. foo" would become an ordered list
        joined = "".join(out)
        m = re.match(r"^(\d{1,9})([.)])", joined)
        return f"{m.group(1)}\\{m.group(2)}{joined[m.end() :]}" if m else joined
    return "".join(out)


def _run(k: int) -> str:
    # A lone backslash before a letter or space is literal in Markdown; two or more pair up as escapes.
    return "\\" if k == 1 else "\\" * (2 * k)


def unescape_cell(cell: str, *, guard_end: bool = False) -> str:
    """Invert `escape_cell` (the specials need not be known: an odd run before punctuation is an escape)."""
    out: list[str] = []
    i, n = 0, len(cell)
    while i < n:
        ch = cell[i]
        if ch == "\\":
            j = i
            while j < n and cell[j] == "\\":
                j += 1
            run = j - i
            if j < n and cell[j] in _PUNCT:
                # even run: doubled backslashes; odd run: the last one escapes the character after it
                out.append("\\" * (run // 2))
                if run % 2:
                    out.append(cell[j])
                    j += 1
            elif j == n and guard_end:
                out.append("\\" * (run // 2))
            else:
                out.append("\\" * (1 if run == 1 else run // 2))
            i = j
            continue
        if ch == "&":
            m = _ENTITY_RE.match(cell, i)
            if m:
                out.append(_UNENTITY[m.group(0)])
                i = m.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _row(paper: Paper, label: str) -> str:
    title = f"**[{escape_cell(paper.title, _TITLE_SPECIALS, guard_end=True)}]({abs_url(paper)})**"
    if label:
        title += f" ({escape_cell(label, _LABEL_SPECIALS, guard_end=True)})"
    # guard_end: a trailing backslash would otherwise escape the `<` of `</p>` (or the `)` after a label)
    abstract = f"{_DETAILS_OPEN}{escape_cell(paper.abstract, guard_end=True)}{_DETAILS_CLOSE}"
    return f"| {title} | {day(paper.updated)} | {abstract} | {escape_cell(paper.comment)} |"


def _section(section: DigestSection) -> list[str]:
    lines = [f"## {escape_cell(section.title, _HEADING_SPECIALS)}"]
    if section.note:
        lines.append(escape_cell(section.note, _CELL_SPECIALS, lead=True))
        if not section.papers:
            return lines
        lines.append("")
    lines += [HEADER, DELIMITER]
    lines += [_row(p, section.labels.get(p.id, "")) for p in section.papers]
    return lines


def render_markdown(digest: Digest) -> str:
    """The digest as Markdown: title, `Last update:` line, then one table per section (papers kept in order)."""
    lines = [f"# {escape_cell(digest.title, _HEADING_SPECIALS)}", f"Last update: {digest.generated.isoformat()}"]
    for section in digest.sections:
        lines.append("")
        lines += _section(section)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- parsing


@dataclass(slots=True)
class ParsedSection:
    """A section read back: its title, its rows (dicts of strings, `version` an int, `date` a date), its note."""

    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


@dataclass(slots=True)
class ParsedDigest:
    title: str
    last_update: date | None
    sections: list[ParsedSection]


_TITLE_CELL = re.compile(r"^\*\*\[(?P<title>.*)\]\((?P<url>[^()\s]+)\)\*\*(?: \((?P<label>.*)\))?$")


def _split_row(line: str, lineno: int) -> list[str]:
    # A pipe is a cell border unless an odd run of backslashes escapes it.
    borders = [m.end() - 1 for m in re.finditer(r"(\\*)\|", line) if len(m.group(1)) % 2 == 0]
    if not borders or borders[0] != 0 or borders[-1] != len(line) - 1:
        raise InputError(f"markdown line {lineno}: a table row must start and end with '|'")
    return [line[a + 1 : b].strip() for a, b in pairwise(borders)]


def _parse_row(line: str, lineno: int) -> dict[str, Any]:
    cells = _split_row(line, lineno)
    if len(cells) != 4:
        raise InputError(f"markdown line {lineno}: expected 4 cells, found {len(cells)}")
    title_cell, date_cell, abstract_cell, comment_cell = cells
    m = _TITLE_CELL.match(title_cell)
    if not m:
        raise InputError(f"markdown line {lineno}: title cell is not **[title](url)**")
    if not (abstract_cell.startswith(_DETAILS_OPEN) and abstract_cell.endswith(_DETAILS_CLOSE)):
        raise InputError(f"markdown line {lineno}: abstract cell is not <details>...</details>")
    url = m.group("url")
    split = split_abs_url(url)
    if split is None:
        raise InputError(f"markdown line {lineno}: link {url!r} is not an arXiv abstract URL")
    paper_id, version = split
    try:
        when = date.fromisoformat(date_cell)
    except ValueError:
        raise InputError(f"markdown line {lineno}: date {date_cell!r} is not YYYY-MM-DD") from None
    return {
        "title": unescape_cell(m.group("title"), guard_end=True),
        "url": url,
        "id": paper_id,
        "version": version,
        "date": when,
        "abstract": unescape_cell(abstract_cell[len(_DETAILS_OPEN) : -len(_DETAILS_CLOSE)], guard_end=True),
        "comment": unescape_cell(comment_cell),
        "label": unescape_cell(m.group("label") or "", guard_end=True),
    }


def parse_markdown(text: str) -> ParsedDigest:
    """Read back a digest written by `render_markdown` (unescaping every field); InputError names the line."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise InputError("markdown line 1: expected the '# <title>' heading")
    digest = ParsedDigest(unescape_cell(lines[0][2:]), None, [])
    section: ParsedSection | None = None
    in_table = False
    for lineno, line in enumerate(lines[1:], start=2):
        if line.startswith("## "):
            section = ParsedSection(unescape_cell(line[3:]))
            digest.sections.append(section)
            in_table = False
        elif section is None:
            m = re.match(r"^Last update: (\d{4}-\d{2}-\d{2})\s*$", line)
            if m:
                digest.last_update = date.fromisoformat(m.group(1))
        elif line == HEADER:
            in_table = True
        elif line == DELIMITER and in_table:
            continue
        elif line.startswith("|") and in_table:
            section.rows.append(_parse_row(line, lineno))
        elif line.strip():
            in_table = False
            note = unescape_cell(line)
            section.note = f"{section.note} {note}" if section.note else note
    return digest
