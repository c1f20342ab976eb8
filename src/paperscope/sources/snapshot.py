"""Reader for arXiv's public metadata snapshot (`arxiv-metadata-oai-snapshot.json`): one JSON object per line.

The reader streams (plain or gzip, told apart by magic bytes), maps each line to a `Paper`, and skips a
malformed line after reporting it as a `SnapshotIssue` naming the file, the line and the field. It is the
hot path of a million-record import, so the per-line work avoids regexes, `strptime` and `email.utils`.

Also here, because the OAI-PMH reader needs them too: `parse_rfc2822` (arXiv's version dates) and
`split_authors` (arXiv's free-text author lists, with their parenthesised affiliations).
"""

from __future__ import annotations

import email.utils
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Any

import orjson

from paperscope.errors import InputError
from paperscope.models import Author, Paper, Version
from paperscope.sources.validate import ARXIV_ID, MAX_VERSION, MAX_YEAR, MIN_YEAR, check_date, check_id

try:  # Intel's ISA-L inflates gzip twice as fast as zlib (the same bytes), where its wheel installs
    from isal import isal_zlib as _inflate
except ImportError:  # pragma: no cover - platforms without a wheel
    _inflate = zlib  # type: ignore[no-redef]

_ARXIV_ID = ARXIV_ID.fullmatch

UTC = timezone.utc
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22  # 4 MiB reads: few syscalls, and a natural point to move the progress bar
_MONTH_DIGITS = {m: f"{i:02d}" for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_UTC_ZONES = frozenset({"GMT", "UTC", "UT", "Z", "+0000", "-0000"})


@dataclass(frozen=True, slots=True)
class SnapshotIssue:
    """A line that was skipped: where it is and what was wrong with it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class _Bad(Exception):
    """A record that cannot become a Paper; the message names the field."""


# --------------------------------------------------------------------------------------------- dates


def parse_rfc2822(s: str) -> datetime:
    """Parse arXiv's 'Mon, 2 Apr 2007 19:18:42 GMT' (day padded or not) into an aware UTC datetime."""
    parts = s.split(" ")
    if len(parts) == 6 and parts[5] in _UTC_ZONES:
        day = parts[1]
        month = _MONTH_DIGITS.get(parts[2])
        if month is not None and len(parts[3]) == 4:
            # Rebuilding ISO text for the C parser is cheaper than six int() calls and datetime(...).
            try:
                return datetime.fromisoformat(
                    parts[3] + "-" + month + "-" + (day if len(day) == 2 else "0" + day) + "T" + parts[4] + "+00:00"
                )
            except ValueError:
                pass
    # Rare shapes (no weekday, a numeric offset, odd spacing): the general parser, off the hot path.
    try:
        dt = email.utils.parsedate_to_datetime(s)
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):  # Overflow: a 9999 date west of UTC
        raise ValueError(f"not an RFC 2822 date: {s[:60]!r}") from None


_DAYS: dict[str, datetime] = {}


def parse_day(s: str) -> datetime:
    """Parse 'YYYY-MM-DD' into midnight UTC (memoised: a snapshot repeats the same few thousand days)."""
    dt = _DAYS.get(s)
    if dt is None:
        d = date.fromisoformat(s)
        dt = datetime(d.year, d.month, d.day, tzinfo=UTC)
        if len(_DAYS) < 100_000:
            _DAYS[s] = dt
    return dt


def squash(s: str) -> str:
    """Collapse whitespace runs to one space and strip (arXiv folds long titles and abstracts with newlines)."""
    t = s.strip().replace("\n", " ")
    # Most snapshot text is wrapped with single newlines, so the replace above is all it needs; only
    # indented or tabbed text pays for the general split/join.
    if "  " in t or "\t" in t or "\r" in t:
        return " ".join(t.split())
    return t


# ------------------------------------------------------------------------------------------- authors

_SUFFIXES = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV", "V"})
_REFS = re.compile(r"^\d+(?:\s*(?:,|and|&)\s*\d+)*$")
_TABLE_MARK = re.compile(r"\((\d+)\)")
_BARE_MARK = re.compile(r"(?:^|[;,]\s*)(\d+)\s+(?=\D)")
_ET_AL = frozenset({"et al", "et al.", "et. al.", "et.al.", "etal"})


def _top_level(s: str) -> list[str]:
    """Split an author list on ',', ';' and ' and ' that are not inside parentheses."""
    pieces: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            if c in ",;":
                pieces.append(s[start:i])
                start = i + 1
            elif c == " " and s.startswith(" and ", i):
                pieces.append(s[start:i])
                start = i + 5
                i += 4
        i += 1
    pieces.append(s[start:])
    return [p.strip() for p in pieces]


def _groups(piece: str) -> tuple[str, list[str]]:
    """Split 'A. Name (Inst) (2)' into the name outside parentheses and the top-level groups' contents."""
    name_parts: list[str] = []
    groups: list[str] = []
    depth = 0
    start = 0
    for i, c in enumerate(piece):
        if c == "(":
            if depth == 0:
                name_parts.append(piece[start:i])
                start = i + 1
            depth += 1
        elif c == ")" and depth:
            depth -= 1
            if depth == 0:
                groups.append(piece[start:i].strip())
                start = i + 1
    if depth:  # an unclosed parenthesis: keep its text as part of the name rather than lose it
        name_parts.append(piece[start - 1:])
    else:
        name_parts.append(piece[start:])
    return " ".join(" ".join(name_parts).split()), groups


def _affiliation_table(group: str) -> dict[str, str] | None:
    """Read an affiliation table: '(1) Univ A, (2) Univ B' or '1 Univ A; 2 Univ B'; None when it is not one."""
    if group.startswith("("):
        marks = list(_TABLE_MARK.finditer(group))
        if not marks or marks[0].start() != 0:
            return None
    else:
        marks = list(_BARE_MARK.finditer(group))
        # Bare numbers are only a table when they count 1, 2, 3...: '(Via Beirut 2 - 4)' is an address.
        if len(marks) < 2 or [m.group(1) for m in marks] != [str(i) for i in range(1, len(marks) + 1)]:
            return None
    table = {}
    for m, nxt in zip(marks, marks[1:] + [None], strict=True):
        text = group[m.end(): nxt.start() if nxt else len(group)].strip().rstrip(",;").strip()
        table[m.group(1)] = text
    return table


def split_authors(raw: str) -> list[Author]:
    """Split arXiv's free-text author list ('A. One (MIT), B. Two and C. Three ((1) X, (2) Y)') into Authors.

    Follows arXiv's own reading: ',' and 'and' separate authors, a parenthesised group after a name is its
    affiliation, numbered references resolve against a trailing '((1) ..., (2) ...)' table, and an
    affiliation also applies to the authors just before it that have none.
    """
    s = " ".join(raw.split())
    if not s:
        return []
    entries: list[tuple[str, list[str], list[str]]] = []  # (name, affiliations, numbered refs)
    table: dict[str, str] = {}
    for piece in _top_level(s):
        if not piece:
            continue
        name, groups = _groups(piece)
        if name.lower() in _ET_AL:
            continue
        affs: list[str] = []
        refs: list[str] = []
        for g in groups:
            t = _affiliation_table(g)
            if t is not None:
                table.update(t)
            elif _REFS.match(g):
                refs.extend(x for x in re.split(r"\D+", g) if x)
            elif g:
                affs.append(g)
        if not name:
            if entries and affs:  # '..., B. Two, (Univ)' : a dangling group belongs to the author before
                entries[-1][1].extend(affs)
            continue
        if name in _SUFFIXES and entries:
            prev = entries[-1]
            entries[-1] = (f"{prev[0]} {name}", prev[1] + affs, prev[2] + refs)
            continue
        entries.append((name, affs, refs))
    authors: list[Author] = []
    pending: list[Author] = []  # authors still waiting for an affiliation from a later name
    for name, affs, refs in entries:
        resolved = affs + [table[r] for r in refs if r in table]
        author = Author(name, resolved)
        if resolved and not refs:
            for p in pending:
                p.affiliations = list(resolved)
            pending = []
        elif resolved:
            pending = []
        else:
            pending.append(author)
        authors.append(author)
    return authors


def clean_affiliations(items: list[Any]) -> list[str]:
    """The 4th+ elements of an authors_parsed entry, minus bare reference numbers such as '1 and 2'."""
    out = []
    for x in items:
        if x.__class__ is not str:
            raise _Bad("authors_parsed: affiliation is not a string")
        x = " ".join(x.split())
        if x and not _REFS.match(x):
            out.append(x)
    return out


# --------------------------------------------------------------------------------------------- files


class GzipStream:
    """Decompresses a gzip file as it is read, and where the file is cut short or damaged it ends the
    stream there instead of raising: everything before the damage is read, and `problem` says what
    happened. (gzip.GzipFile raises on the read that meets the damage, losing the whole block it was in.)
    Members written one after another, as `cat a.gz b.gz` makes, are read as one stream."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._z = _inflate.decompressobj(wbits=31)
        self._in = b""  # compressed bytes not yet fed to the decompressor
        self._buf = b""
        self._done = False
        self.problem = ""

    def read(self, n: int = -1) -> bytes:
        if n < 0:  # everything: gather the pieces, so the whole file is not copied once per chunk
            parts = [self._buf]
            while not self._done:
                self._buf = b""
                self._fill()
                parts.append(self._buf)
            self._buf = b""
            return b"".join(parts)
        while not self._done and len(self._buf) < n:
            self._fill()
        if n < 0 or len(self._buf) <= n:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _fill(self) -> None:
        if not self._in:
            self._in = self._raw.read(_CHUNK)
            if not self._in:
                if not self._z.eof:
                    self.problem = "the gzip data ends early (the file is cut short)"
                self._done = True
                return
        if self._z.eof:  # the member before is complete: what follows is another member, or junk
            if not self._in.startswith(GZIP_MAGIC[: len(self._in)]):
                if self._in.strip(b"\0"):
                    self.problem = "bytes after the end of the gzip data were ignored"
                self._done = True
                return
            self._z = _inflate.decompressobj(wbits=31)
        try:
            # max_length bounds each step's output, so the buffer stays near one chunk whatever the ratio.
            self._buf += self._z.decompress(self._in, _CHUNK)
        except _inflate.error as e:
            self.problem = f"the gzip data is damaged ({e})"
            self._done = True
            return
        self._in = self._z.unused_data if self._z.eof else self._z.unconsumed_tail

    def close(self) -> None:
        pass  # the raw file is closed by its owner


def open_input(path: str | Path) -> tuple[IO[bytes], IO[bytes]]:
    """Open a file for binary reading, decompressing when it starts with the gzip magic bytes.

    Returns (stream, raw): read from `stream`; `raw.tell()` is how far into the file on disk we are. A
    gzip stream is a GzipStream: check its `problem` after reading to the end.
    """
    p = Path(path)
    try:
        raw = open(p, "rb")
    except OSError as e:
        raise InputError(f"cannot open {p}: {e.strerror or e}") from None
    magic = raw.read(2)
    raw.seek(0)
    if magic == GZIP_MAGIC:
        return GzipStream(raw), raw  # type: ignore[return-value]
    return raw, raw


def _text(rec: dict[str, Any], key: str) -> str:
    v = rec.get(key)
    if v is None:
        return ""
    if v.__class__ is not str:
        raise _Bad(f"{key}: expected a string, got {type(v).__name__}")
    return v


def record_to_paper(rec: Any) -> Paper:
    """Map one decoded snapshot object to a Paper; raises ValueError naming the field when it cannot."""
    try:
        return _to_paper(rec)
    except _Bad as e:
        raise ValueError(str(e)) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        raise ValueError(_diagnose(rec, e)) from None


def _to_paper(rec: Any) -> Paper:
    if rec.__class__ is not dict:
        raise _Bad(f"expected a JSON object, got {type(rec).__name__}")
    get = rec.get
    pid = get("id")
    if pid.__class__ is not str or not _ARXIV_ID(pid):
        if pid is None or pid == "":
            raise _Bad("id: missing")
        raise _Bad(check_id(pid) or "id: not an arXiv id")
    title = get("title")
    if title.__class__ is not str:
        raise _Bad("title: missing" if title is None else f"title: expected a string, got {type(title).__name__}")
    title = squash(title)
    if not title:
        raise _Bad("title: empty")

    vlist = get("versions")
    versions: list[Version] = []
    updated: datetime
    published: datetime | None
    if vlist:
        ordered = True
        prev = 0
        for v in vlist:
            tag = v["version"]
            num = int(tag[1:]) if tag[0] == "v" else int(tag)
            if not 0 < num <= MAX_VERSION:
                raise _Bad(f"versions: {tag[:30]!r} is not a version between v1 and v{MAX_VERSION}")
            if num <= prev:
                ordered = False
            prev = num
            created = parse_rfc2822(v["created"])
            if not MIN_YEAR <= created.year <= MAX_YEAR:
                raise _Bad(check_date(created, f"versions[{tag[:12]}].created") or "versions: bad date")
            versions.append(Version(num, created))
        if not ordered:
            versions.sort(key=_version_number)
        latest = versions[-1]
        version = latest.version
        updated = latest.created  # type: ignore[assignment]  # every Version here was built with a date
        published = versions[0].created
    else:
        ud = get("update_date")
        if ud.__class__ is not str:
            raise _Bad("update_date: needed when versions is empty, got " + type(ud).__name__)
        updated = published = parse_day(ud)
        if not MIN_YEAR <= updated.year <= MAX_YEAR:
            raise _Bad(check_date(updated, "update_date") or "update_date: bad date")
        version = 1

    parsed = get("authors_parsed")
    if parsed:
        if parsed.__class__ is not list:
            raise _Bad(f"authors_parsed: expected a list, got {type(parsed).__name__}")
        authors: list[Author] = []
        append = authors.append
        for a in parsed:
            if a.__class__ is not list:  # a string would otherwise be read letter by letter
                raise _Bad(f"authors_parsed: expected lists of strings, got {a!r}"[:120])
            n = len(a)
            last = a[0]
            first = a[1] if n > 1 else ""
            # `+ ""` doubles as the type check: a non-string part raises TypeError, diagnosed below.
            if first:
                name = first + " " + last if last else first + ""
            else:
                name = last + ""
            if n > 2 and a[2]:
                name = name + " " + a[2]
            append(Author(name, clean_affiliations(a[3:]) if n > 3 else []))
    else:
        authors = split_authors(_text(rec, "authors"))

    cats = get("categories")
    categories = cats.split() if cats else []
    abstract = get("abstract")
    comment = get("comments")
    jref = get("journal-ref")
    doi = get("doi") or ""
    lic = get("license") or ""
    rno = get("report-no") or ""
    sub = get("submitter") or ""
    if not (doi.__class__ is lic.__class__ is rno.__class__ is sub.__class__ is str):
        for key in ("doi", "license", "report-no", "submitter"):
            _text(rec, key)  # raises naming the field
    # Positional on purpose: keyword construction of this 16-field dataclass costs three times as much,
    # which is a second per million records. The order is Paper's field order (a test pins the mapping).
    return Paper(
        pid,
        title,
        squash(abstract) if abstract else "",
        updated,
        version,
        authors,
        squash(comment) if comment else "",
        squash(jref) if jref else "",
        doi,
        lic,
        rno,
        sub,
        categories[0] if categories else "",
        categories,
        published,
        versions,
    )


def _version_number(v: Version) -> int:
    return v.version


def _diagnose(rec: dict[str, Any], err: Exception) -> str:
    """Off the hot path: find which field made the fast mapping fail, for a message naming it."""
    for key in ("abstract", "comments", "journal-ref", "categories", "authors"):
        v = rec.get(key)
        if v is not None and v.__class__ is not str:
            return f"{key}: expected a string, got {type(v).__name__}"
    vs = rec.get("versions")
    if vs is not None and not isinstance(vs, list):
        return f"versions: expected a list, got {type(vs).__name__}"
    for i, v in enumerate(vs or []):
        if not isinstance(v, dict):
            return f"versions[{i}]: expected an object, got {type(v).__name__}"
        tag, created = v.get("version"), v.get("created")
        if not isinstance(tag, str) or not tag.lstrip("v").isdigit():
            return f"versions[{i}].version: expected 'vN', got {tag!r}"
        if not isinstance(created, str):
            return f"versions[{i}].created: expected a date string, got {created!r}"
        try:
            parse_rfc2822(created)
        except ValueError:
            return f"versions[{i}].created: not a date: {created!r}"
    if not vs:
        try:
            parse_day(rec.get("update_date"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return f"update_date: not a YYYY-MM-DD date: {rec.get('update_date')!r}"
    ap = rec.get("authors_parsed")
    if ap is not None and not isinstance(ap, list):
        return f"authors_parsed: expected a list, got {type(ap).__name__}"
    for i, a in enumerate(ap or []):
        if not isinstance(a, list) or not a or not all(isinstance(x, str) for x in a):
            return f"authors_parsed[{i}]: expected a list of strings, got {a!r}"
    return f"cannot read record: {type(err).__name__}: {err}"


def iter_snapshot(
    path: str | Path,
    *,
    on_error: Callable[[SnapshotIssue], None] | None = None,
    progress: bool = False,
) -> Iterator[Paper]:
    """Stream Papers from an arXiv metadata snapshot (JSON lines, plain or gzip); bad lines go to on_error."""
    p = Path(path)
    name = str(p)
    stream, raw = open_input(p)
    bar = None
    if progress:
        from tqdm import tqdm  # only when asked: keeps import time off the library path

        size = p.stat().st_size
        bar = tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=p.name, leave=False)
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    lineno = 0
    done = 0
    try:
        for lines in _blocks_of_lines(stream, name, lambda: lineno):
            for line in lines:
                lineno += 1
                try:
                    paper = _to_paper(loads(line))
                except decode_error as e:
                    if line.strip():
                        _report(on_error, name, lineno, f"not valid JSON: {e}")
                    continue
                except _Bad as e:
                    _report(on_error, name, lineno, str(e))
                    continue
                except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
                    _report(on_error, name, lineno, _diagnose(loads(line), e))
                    continue
                yield paper
            if bar is not None:
                pos = raw.tell()
                bar.update(pos - done)
                done = pos
        problem = getattr(stream, "problem", "")
        if problem:
            # Every complete record before the damage has been handed over; say where the rest went.
            message = f"{problem}: reading stopped after line {lineno}; any records after it are missing"
            if on_error is None:
                raise InputError(f"{name}:{lineno}: {message}")
            _report(on_error, name, lineno, message)
    finally:
        if bar is not None:
            bar.close()
        stream.close()
        raw.close()


def _blocks_of_lines(stream: IO[bytes], name: str, lineno: Callable[[], int]) -> Iterator[list[bytes]]:
    """The stream's lines, a block's worth at a time (the last line may lack its newline); a read error names the
    line reached (`lineno()`, the caller's count)."""
    rest = b""
    while True:
        try:
            block = stream.read(_CHUNK)
        except OSError as e:
            raise InputError(f"{name}: cannot read past line {lineno()}: {e.strerror or e}") from None
        if block:
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
        elif rest:
            lines, rest = [rest], b""
        else:
            return
        yield lines


def iter_code_texts(path: str | Path) -> Iterator[tuple[str, str, str]]:
    """(id, abstract, comment) of the snapshot's records, the texts squashed as their Papers hold them: all that
    finding code links needs, without building Papers (half the cost of reading a record).

    Every record `iter_snapshot` yields is here, in the same order; so may be a few it rejects for a field other
    than these three (a bad date, say), which the caller never asks about. Lines that are not JSON objects with an
    arXiv id and text (or absent) abstract and comment are skipped without a word: `iter_snapshot` reports them."""
    p = Path(path)
    stream, raw = open_input(p)
    loads = orjson.loads
    lineno = 0
    try:
        for lines in _blocks_of_lines(stream, str(p), lambda: lineno):
            lineno += len(lines)
            for line in lines:
                try:
                    rec = loads(line)
                except orjson.JSONDecodeError:
                    continue
                if rec.__class__ is not dict:
                    continue
                pid = rec.get("id")
                abstract = rec.get("abstract") or ""
                comment = rec.get("comments") or ""
                if (pid.__class__ is not str or not _ARXIV_ID(pid) or abstract.__class__ is not str
                        or comment.__class__ is not str):
                    continue
                yield pid, squash(abstract) if abstract else "", squash(comment) if comment else ""
    finally:
        stream.close()
        raw.close()


def _report(on_error: Callable[[SnapshotIssue], None] | None, path: str, line: int, message: str) -> None:
    if on_error is not None:
        on_error(SnapshotIssue(path, line, message))

