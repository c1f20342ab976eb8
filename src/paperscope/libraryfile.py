"""Read a researcher's own library file: the papers they keep, for recommendations.

Four formats, recognised by content, not by file name:

- BibTeX (`@article{...}`, `@misc{...}` with `eprint`/`archivePrefix`, `url`, `doi`, `journal = {arXiv
  preprint arXiv:...}`, DBLP's `volume = {abs/...}`; `@string` macros, `@comment`/`@preamble` skipped);
- Zotero CSV export (the "Key","Item Type",...,"DOI","Url",...,"Date Added",...,"Extra" header; any CSV
  with a Title and a DOI or Url column is read the same way);
- Zotero RDF export (RDF/XML: items are the nodes with a `z:itemType` other than attachment/note);
- a plain list: one arXiv id, arXiv URL, `arXiv:` id or DOI per line, `#` starts a comment.

Each usable entry becomes a `LibraryItem`: arXiv id (version stripped, old style kept, arXiv's own
10.48550 DOIs turned into ids), a publisher DOI (lower-cased: DOIs are case-insensitive), the title,
and the date it was added. `added` is the date the file says the entry was added (Zotero's Date Added,
BibTeX `date-added`/`timestamp`/`added-at`/`creationdate`/`urldate`); when the file has none it falls
back to the publication date (`date`, or `year` + `month`, day 1), which is still good enough to weight
recent reading. An entry with no arXiv id, DOI or title, or a duplicate, is a problem (one line naming
the file and line), not an error; a file that cannot be read at all raises `InputError`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.parsers import expat

from paperscope.errors import InputError
from paperscope.models import is_arxiv_id, split_arxiv_id

__all__ = ["LibraryFile", "LibraryItem", "parse_library", "read_library"]


@dataclass(frozen=True, slots=True)
class LibraryItem:
    """One paper from a library file; `source_line` is the 1-based line where its entry starts."""

    arxiv_id: str | None
    doi: str | None
    title: str | None
    added: date | None
    source_line: int


@dataclass(slots=True)
class LibraryFile:
    """What a library file held: its items in file order, the entries skipped, and the format read."""

    name: str
    format: str  # "bibtex", "zotero-csv", "csv", "zotero-rdf" or "list"
    items: list[LibraryItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- identifiers -------------------------------------------------------------------------------

_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?!\d)"
_ARXIV_URL = re.compile(rf"(?i:arxiv\.org/(?:abs|pdf|html|format)/)({_ID})")
_ARXIV_PREFIXED = re.compile(rf"(?i:arxiv)\s*:\s*({_ID})")
_ARXIV_DOI = re.compile(rf"10\.48550/(?i:arxiv)\.({_ID})")
_CORR_VOLUME = re.compile(rf"^abs/({_ID})$")
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"'<>{}]+")
_BARE_ID = re.compile(_ID)


def _arxiv_id(raw: str) -> str | None:
    arxiv_id, _ = split_arxiv_id(raw)
    return arxiv_id if is_arxiv_id(arxiv_id) else None


def _find_arxiv(texts: list[str]) -> str | None:
    """The first arXiv id in these texts, as a URL, an `arXiv:` id or an arXiv DOI."""
    for pattern in (_ARXIV_URL, _ARXIV_PREFIXED, _ARXIV_DOI):
        for text in texts:
            m = pattern.search(text)
            if m and (found := _arxiv_id(m[1])):
                return found
    return None


def _find_doi(texts: list[str]) -> str | None:
    """The first DOI that is not arXiv's own, lower-cased, without trailing punctuation."""
    for text in texts:
        for m in _DOI.finditer(text):
            doi = m[0].rstrip(".,;:)]").lower()
            if not doi.startswith("10.48550/"):
                return doi
    return None


# --- dates -------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\s*(\d{4})[-./](\d{1,2})(?:[-./](\d{1,2}))?")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _parse_date(raw: str | None) -> date | None:
    """`2024-01-15`, `2024.01.15`, `2024-01-15 10:22:13 +0000`, `2024-01-15T10:22:13Z`, `2024-01`,
    or DBLP's RFC 2822 `Tue, 02 Jun 2020 17:53:45 +0200`."""
    m = _ISO_DATE.match(raw or "")
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3] or 1))
        return parsedate_to_datetime(raw).date() if raw and raw.strip() else None
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def _year_month(year: str | None, month: str | None) -> date | None:
    if not year or not re.fullmatch(r"\s*\d{4}\s*", year):
        return None
    mon = 1
    word = (month or "").strip().lower()
    if word.isdigit() and 1 <= int(word) <= 12:
        mon = int(word)
    elif word[:3] in _MONTHS:
        mon = _MONTHS.index(word[:3]) + 1
    if int(year) < 1:  # year 0000: no such date, so no date rather than a traceback
        return None
    return date(int(year), mon, 1)


# --- entry point -------------------------------------------------------------------------------


def read_library(path: str | Path) -> LibraryFile:
    """Read a BibTeX, Zotero CSV/RDF or plain-list library file; raises InputError when unreadable."""
    p = Path(path)
    name = str(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read ({e.strerror})") from None
    problems: list[str] = []
    text = _decode(data, name, problems)
    lib = parse_library(text, name)
    lib.problems[:0] = problems
    return lib


def _decode(data: bytes, name: str, problems: list[str]) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:  # an odd byte count, or a lone surrogate: cut or damaged
            raise InputError(f"{name}: UTF-16 text that cannot be decoded at byte {e.start} "
                             f"({e.reason}); the file may be cut short") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        # Old BibTeX files are often Latin-1; reading them that way keeps ids and DOIs (ASCII) intact.
        problems.append(f"{name}:{line}: not UTF-8; read as Latin-1")
        return data.decode("latin-1")


def parse_library(text: str, name: str = "<library>") -> LibraryFile:
    """Parse library-file text (format recognised by content); `name` prefixes every message."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    head = text.lstrip()
    if head.startswith("<"):
        lib = LibraryFile(name, "zotero-rdf")
        raw = _parse_rdf(text, name, lib.problems)
    elif (csv_format := _csv_format(head)) is not None:
        lib = LibraryFile(name, csv_format)
        raw = _parse_csv(text, name, lib.problems)
    elif re.search(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", text, re.MULTILINE):
        lib = LibraryFile(name, "bibtex")
        raw = _parse_bibtex(text, name, lib.problems)
    else:
        lib = LibraryFile(name, "list")
        raw = _parse_list(text, name, lib.problems)
    lib.items = _dedupe(raw, name, lib.problems)
    if not lib.items and not lib.problems:
        lib.problems.append(f"{name}: no entries")
    return lib


def _dedupe(items: list[LibraryItem], name: str, problems: list[str]) -> list[LibraryItem]:
    seen: dict[str, int] = {}
    kept = []
    for item in items:
        key = item.arxiv_id or item.doi
        if key and key in seen:
            problems.append(f"{name}:{item.source_line}: duplicate of line {seen[key]} ({key}); skipped")
            continue
        if key:
            seen[key] = item.source_line
        kept.append(item)
    return kept


def _item(arxiv_id: str | None, doi: str | None, title: str | None, added: date | None, line: int,
          what: str, name: str, problems: list[str]) -> LibraryItem | None:
    if not (arxiv_id or doi or title):
        problems.append(f"{name}:{line}: {what} has no arXiv id, DOI or title; skipped")
        return None
    return LibraryItem(arxiv_id, doi, title or None, added, line)


# --- plain list --------------------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s)#.*$")


def _parse_list(text: str, name: str, problems: list[str]) -> list[LibraryItem]:
    items = []
    first_bad = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        entry = _COMMENT.sub("", line).strip()
        if not entry:
            continue
        arxiv_id = _find_arxiv([entry])
        if arxiv_id is None and (m := _BARE_ID.fullmatch(entry.split()[0])):
            arxiv_id = _arxiv_id(m[0])
        doi = None if arxiv_id else _find_doi([entry])
        if arxiv_id or doi:
            items.append(LibraryItem(arxiv_id, doi, None, None, lineno))
        else:
            first_bad = first_bad or lineno
            problems.append(f"{name}:{lineno}: not an arXiv id, arXiv URL or DOI: {entry[:60]!r}")
    if not items and first_bad:
        # Nothing on any line was usable: this is some other kind of file, not a list with typos.
        raise InputError(f"{name}:{first_bad}: not a library file (expected BibTeX, Zotero CSV or RDF, "
                         "or one arXiv id or DOI per line)")
    return items


# --- CSV (Zotero and alike) ----------------------------------------------------------------------

_ID_COLUMNS = ("url", "doi", "extra", "publication title", "number", "archive location", "archive id")


def _csv_format(head: str) -> str | None:
    first = head.split("\n", 1)[0]
    if "," not in first:
        return None
    try:
        cols = {c.strip().lower() for c in next(csv.reader([first]))}
    except (csv.Error, StopIteration):
        return None
    if "title" not in cols or not cols & {"doi", "url"}:
        return None
    return "zotero-csv" if {"key", "item type"} <= cols else "csv"


def _parse_csv(text: str, name: str, problems: list[str]) -> list[LibraryItem]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    items: list[LibraryItem] = []
    start = 1
    try:
        header = [c.strip().lower() for c in next(reader)]
        col = {c: i for i, c in reversed(list(enumerate(header)))}
        while True:
            start = reader.line_num + 1  # a quoted cell may span lines: the row starts here
            row = next(reader, None)
            if row is None:
                return items
            cells = {c: row[i].strip() for c, i in col.items() if i < len(row)}
            if not any(cells.values()) or cells.get("item type") in ("attachment", "note", "annotation"):
                continue
            texts = [cells.get(c, "") for c in _ID_COLUMNS]
            added = _parse_date(cells.get("date added")) or _parse_date(cells.get("date")) \
                or _year_month(cells.get("publication year"), None)
            what = f"item '{cells['key']}'" if cells.get("key") else "row"
            item = _item(_find_arxiv(texts), _find_doi(texts), cells.get("title"), added, start, what, name, problems)
            if item:
                items.append(item)
    except csv.Error as e:
        raise InputError(f"{name}:{start}: broken CSV row ({e})") from None


# --- Zotero RDF --------------------------------------------------------------------------------

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_Z = "http://www.zotero.org/namespaces/export#"
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"
_PRISM_NUMBER = "number"  # prism:number holds a preprint's archive id ("arXiv:2501.01234")


@dataclass(slots=True)
class _Node:
    tag: str  # "namespace-uri local-name"
    attrs: dict[str, str]
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)

    def find(self, ns: str, local: str) -> list[_Node]:
        return [c for c in self.children if c.tag == f"{ns} {local}"]

    def first_text(self, ns: str, local: str) -> str:
        found = self.find(ns, local)
        return found[0].all_text().strip() if found else ""

    def all_text(self) -> str:
        return " ".join([self.text, *(c.all_text() for c in self.children)])


def _xml_tree(text: str, name: str) -> _Node:
    parser = expat.ParserCreate(namespace_separator=" ")
    root = _Node("", {}, 0)
    stack = [root]

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _Node(tag, attrs, parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        stack[-1].text += data

    def doctype(*_: object) -> None:
        # Zotero never writes a DTD; refusing one rules out entity-expansion tricks.
        raise InputError(f"{name}:{parser.CurrentLineNumber}: DOCTYPE is not allowed in a Zotero RDF file")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler, parser.StartDoctypeDeclHandler = chars, doctype
    try:
        parser.Parse(text, True)
    except expat.ExpatError as e:
        raise InputError(f"{name}:{e.lineno}: not well-formed XML ({expat.ErrorString(e.code)})") from None
    return root


def _parse_rdf(text: str, name: str, problems: list[str]) -> list[LibraryItem]:
    doc = _xml_tree(text, name)
    roots = doc.find(_RDF, "RDF")
    if not roots:
        raise InputError(f"{name}:1: XML but not RDF (expected a Zotero RDF export with <rdf:RDF>)")
    top = roots[0].children
    about = {n.attrs.get(f"{_RDF} about"): n for n in top if n.attrs.get(f"{_RDF} about")}
    items = []
    for node in top:
        item_type = node.first_text(_Z, "itemType")
        if not item_type or item_type in ("attachment", "note", "annotation"):
            continue
        texts = [node.attrs.get(f"{_RDF} about", "")]
        texts += [i.all_text() for i in node.find(_DC, "identifier")]
        texts += [node.first_text(_DC, "description"), node.first_text(_Z, "archiveID")]
        texts += [c.all_text() for c in node.children if c.tag.endswith(f" {_PRISM_NUMBER}")]
        for part in node.find(_DCTERMS, "isPartOf"):
            # The container (journal, proceedings) holds a journal article's DOI; inline or by reference.
            ref = about.get(part.attrs.get(f"{_RDF} resource"))
            for container in [*part.children, *([ref] if ref else [])]:
                texts += [i.all_text() for i in container.find(_DC, "identifier")]
        added = _parse_date(node.first_text(_DCTERMS, "dateSubmitted")) or _parse_date(node.first_text(_DC, "date"))
        title = " ".join(node.first_text(_DC, "title").split())
        item = _item(_find_arxiv(texts), _find_doi(texts), title, added, node.line,
                     f"{item_type} item", name, problems)
        if item:
            items.append(item)
    return items


# --- BibTeX ------------------------------------------------------------------------------------

_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w-]*)\s*([{(])")
_FIELD_NAME = re.compile(r"[A-Za-z_][\w\-:.+/]*")
_ADDED_FIELDS = ("date-added", "dateadded", "timestamp", "added-at", "creationdate", "urldate")
_BRACES = re.compile(r"[{}]")
_BRACES_PARENS_QUOTES = re.compile(r'[{}")]')
_BARE_WORD = re.compile(r"[\w\-:.+/]+")
_MONTH_MACROS = {m: m.capitalize() for m in _MONTHS}


class _EntryError(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def _parse_bibtex(text: str, name: str, problems: list[str]) -> list[LibraryItem]:
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(pos: int) -> int:  # 1-based; a bisect keeps big files linear
        return bisect_right(newlines, pos - 1) + 1

    macros = dict(_MONTH_MACROS)
    items = []
    pos = 0
    while (at := text.find("@", pos)) >= 0:
        m = _ENTRY_START.match(text, at)
        if not m:  # an @ in free text between entries (an e-mail address, a note) is a comment
            pos = at + 1
            continue
        kind, body_start = m[1].lower(), m.end()
        end = _closing(text, body_start, m[2])
        if end is None:
            key = text[body_start:].split(",", 1)[0].split("\n", 1)[0].strip()[:40]
            raise InputError(f"{name}:{line_of(at)}: entry '{key}' has no closing "
                             f"{'brace' if m[2] == '{' else 'parenthesis'}")
        pos = end + 1
        if kind in ("comment", "preamble"):
            continue
        try:
            if kind == "string":
                macros.update(_fields(text, body_start, end, macros, name))
                continue
            key, fields = _entry(text, body_start, end, macros, name)
        except _EntryError as e:
            problems.append(f"{name}:{line_of(e.pos)}: {e}; skipped")
            continue
        item = _bib_item(key, fields, line_of(at), name, problems)
        if item:
            items.append(item)
    return items


def _closing(text: str, start: int, opener: str) -> int | None:
    """Index of the brace (or parenthesis) closing an entry whose body starts at `start`."""
    depth, in_quote = 0, False
    for m in (_BRACES if opener == "{" else _BRACES_PARENS_QUOTES).finditer(text, start):
        ch = m[0]
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return m.start() if opener == "{" else None
            depth -= 1
        elif depth == 0:  # only in a parenthesised entry: a quote, or its closing parenthesis
            if ch == '"':
                in_quote = not in_quote
            elif ch == ")" and not in_quote:
                return m.start()
    return None


def _entry(text: str, start: int, end: int, macros: dict[str, str], name: str) -> tuple[str, dict[str, str]]:
    comma = text.find(",", start, end)
    key = text[start: end if comma < 0 else comma].strip()
    if not key or any(c in key for c in "={}\""):
        raise _EntryError(f"entry without a citation key ({text[start:end].strip()[:30]!r})", start)
    if comma < 0:
        return key, {}
    try:
        return key, _fields(text, comma + 1, end, macros, name)
    except _EntryError as e:
        raise _EntryError(f"entry '{key}': {e}", e.pos) from None


def _fields(text: str, pos: int, end: int, macros: dict[str, str], name: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    while True:
        pos = _skip_ws(text, pos, end)
        if pos >= end:
            return fields
        m = _FIELD_NAME.match(text, pos, end)
        if not m:
            raise _EntryError(f"expected a field name, found {text[pos:pos + 20]!r}", pos)
        field_name = m[0].lower()
        pos = _skip_ws(text, m.end(), end)
        if pos >= end or text[pos] != "=":
            raise _EntryError(f"expected '=' after field '{field_name}'", pos)
        value, pos = _value(text, pos + 1, end, macros, field_name)
        fields.setdefault(field_name, value)  # BibTeX keeps the first of repeated fields
        pos = _skip_ws(text, pos, end)
        if pos < end and text[pos] != ",":
            raise _EntryError(f"expected ',' after field '{field_name}', found {text[pos:pos + 20]!r}", pos)
        pos += 1


def _skip_ws(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _value(text: str, pos: int, end: int, macros: dict[str, str], field_name: str) -> tuple[str, int]:
    """A field value: `{...}`, `"..."`, a number or a macro, joined by `#`."""
    parts = []
    while True:
        pos = _skip_ws(text, pos, end)
        if pos >= end:
            raise _EntryError(f"field '{field_name}' has no value", pos)
        ch = text[pos]
        if ch == "{":
            close = _matching_brace(text, pos, end)
            parts.append(text[pos + 1: close])
            pos = close + 1
        elif ch == '"':
            close, depth = pos + 1, 0
            while close < end and not (text[close] == '"' and depth == 0):
                depth += {"{": 1, "}": -1}.get(text[close], 0)
                close += 1
            if close >= end:
                raise _EntryError(f"field '{field_name}' has no closing quote", pos)
            parts.append(text[pos + 1: close])
            pos = close + 1
        elif m := _BARE_WORD.match(text, pos, end):
            word = m[0]
            parts.append(word if word.isdigit() else macros.get(word.lower(), ""))
            pos = m.end()
        else:
            raise _EntryError(f"field '{field_name}' has an unreadable value {text[pos:pos + 20]!r}", pos)
        pos = _skip_ws(text, pos, end)
        if pos < end and text[pos] == "#":
            pos += 1
            continue
        return "".join(parts), pos


def _matching_brace(text: str, pos: int, end: int) -> int:
    depth = 0
    for i in range(pos, end):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise _EntryError("unbalanced braces", pos)


def _bib_item(key: str, f: dict[str, str], line: int, name: str, problems: list[str]) -> LibraryItem | None:
    arxiv_id = None
    prefix = (f.get("archiveprefix") or f.get("eprinttype") or "").strip().lower()
    eprint = f.get("eprint", "").strip()
    if eprint and prefix in ("", "arxiv"):
        raw = eprint[6:] if eprint.lower().startswith("arxiv:") else eprint
        arxiv_id = _arxiv_id(raw.strip())
        if arxiv_id is None and prefix == "arxiv":
            problems.append(f"{name}:{line}: entry '{key}': eprint {eprint!r} is not an arXiv id")
    texts = [f.get(k, "") for k in ("doi", "url", "journal", "journaltitle", "note", "howpublished",
                                    "booktitle", "pdf", "eprint")]
    arxiv_id = arxiv_id or _find_arxiv(texts)
    if arxiv_id is None and f.get("journal", "").strip().lower() == "corr":
        m = _CORR_VOLUME.match(f.get("volume", "").strip())
        arxiv_id = _arxiv_id(m[1]) if m else None
    doi = _find_doi([f.get("doi", "")]) or _find_doi([f.get("url", "")])
    added = next((d for k in _ADDED_FIELDS if (d := _parse_date(f.get(k)))), None)
    added = added or _parse_date(f.get("date")) or _year_month(f.get("year"), f.get("month"))
    return _item(arxiv_id, doi, _clean_title(f.get("title", "")), added, line, f"entry '{key}'", name, problems)


_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "c": "\u0327", "v": "\u030c", "H": "\u030b", "u": "\u0306", "k": "\u0328",
            "r": "\u030a"}
_ACCENT = re.compile(r"\\([\'`^\"~=.]|[cvHukr](?=[\s{]))\s*\{?\s*([A-Za-z])\}?")
_ESCAPED = re.compile(r"\\([&%$#_{}])")
_COMMAND = re.compile(r"\\(?:text\w*|emph|mathrm|mathbf|mathcal|mbox|url)\s*(?=\{)")


def _clean_title(raw: str) -> str:
    """A BibTeX title as plain text: accents composed, escapes and case-protecting braces removed."""
    s = _ACCENT.sub(lambda m: m[2] + _ACCENTS[m[1]], raw)
    s = _COMMAND.sub("", s)
    s = _ESCAPED.sub(lambda m: "\0" + m[1] if m[1] in "{}" else m[1], s)
    s = re.sub(r"(?<!\0)[{}]", "", s).replace("\0", "")
    return unicodedata.normalize("NFC", " ".join(s.split()))
