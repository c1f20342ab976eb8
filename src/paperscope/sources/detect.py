"""Recognise an input file by its content, not its name, and read it with the matching reader.

    snapshot  JSON lines whose first object has an "id" (arXiv's metadata snapshot)
    atom      an Atom <feed> (a saved arXiv API response)
    oai       an <OAI-PMH> document (a saved ListRecords/GetRecord response)

Gzip is recognised by its magic bytes whatever the file is called.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import orjson

from paperscope.errors import InputError, SourceError
from paperscope.models import Paper
from paperscope.sources.snapshot import SnapshotIssue, iter_snapshot, open_input

Format = Literal["snapshot", "atom", "oai"]
_PEEK = 64 * 1024  # enough for an XML prolog with comments, or the first line of any real snapshot
_ATOM_NS = "http://www.w3.org/2005/Atom"
# The first element after the XML declaration, comments, processing instructions and whitespace.
_FIRST_TAG = re.compile(rb"\s*<([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)([^>]*)>")
_SKIPPABLE = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.S)


def _peek(path: Path) -> bytes:
    stream, raw = open_input(path)
    try:
        return stream.read(_PEEK)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    finally:
        stream.close()
        raw.close()


def detect_format(path: str | Path) -> Format:
    """Tell a snapshot (JSON lines), an Atom feed and an OAI-PMH response apart by their first bytes."""
    p = Path(path)
    head = _peek(p)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()  # a UTF-8 byte-order mark, then blank space
    if not text:
        raise InputError(f"{p}: file is empty")
    if text[:1] == b"{":
        return _json_kind(p, text)
    if text[:1] == b"<":
        return _xml_kind(p, text)
    raise InputError(f"{p}: not a snapshot, Atom feed or OAI-PMH file; it starts with {_shown(text)}")


def _json_kind(p: Path, text: bytes) -> Format:
    line = text.split(b"\n", 1)[0]
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        if b"\n" not in text:  # a first line longer than the peek: judge by its start
            if re.match(rb'\{\s*"id"\s*:', text):
                return "snapshot"
        raise InputError(f"{p}: line 1 is not a JSON object; it starts with {_shown(line)}") from None
    if isinstance(obj, dict) and "id" in obj:
        return "snapshot"
    keys = ", ".join(list(obj)[:5]) if isinstance(obj, dict) else type(obj).__name__
    raise InputError(f"{p}: line 1 is JSON without an \"id\" (keys: {keys}); expected arXiv snapshot lines")


def _xml_kind(p: Path, text: bytes) -> Format:
    pos = 0
    while m := _SKIPPABLE.match(text, pos):
        if m.end() == pos:
            break
        pos = m.end()
    m = _FIRST_TAG.match(text, pos)
    if not m:
        raise InputError(f"{p}: XML without a readable first element; it starts with {_shown(text)}")
    tag, attrs = m.group(1).decode("ascii", "replace"), m.group(2)
    local = tag.rsplit(":", 1)[-1]
    if local == "feed" and _ATOM_NS.encode() in attrs:
        return "atom"
    if local == "OAI-PMH":
        return "oai"
    raise InputError(f"{p}: XML whose root is <{tag}>, not an Atom <feed> or <OAI-PMH> document")


def _shown(b: bytes) -> str:
    return repr(b[:40].decode("utf-8", "replace"))


def read_file(
    path: str | Path,
    on_error: Callable[[SnapshotIssue], None] | None = None,
    progress: bool = False,
) -> Iterator[Paper]:
    """Read Papers from a snapshot, Atom or OAI-PMH file, whichever it is; unreadable records go to on_error.

    `progress` shows a bar for snapshots (the only kind big enough to need one)."""
    p = Path(path)
    kind = detect_format(p)
    if kind == "snapshot":
        yield from iter_snapshot(p, on_error=on_error, progress=progress)
        return
    data, problem = _read_all(p)
    name = str(p)
    try:
        if kind == "atom":
            from paperscope.sources.atom import read_feed_file  # another module's reader, loaded only when needed

            feed = read_feed_file(data, name)
            papers, skipped, stopped = feed.entries, feed.skipped, feed.stopped
        else:
            from paperscope.sources.oai import read_page_file

            page = read_page_file(data, name)
            papers, skipped, stopped = page.papers, page.skipped, page.stopped
    except SourceError as e:
        raise InputError(f"{p}: {e}") from None
    if on_error is not None:
        for message in skipped:
            on_error(SnapshotIssue(name, 0, message))
    yield from papers
    # Every record before the damage has been handed over; now say where the file broke off.
    stopped = stopped or problem
    if stopped:
        if on_error is None:
            raise InputError(f"{p}: {stopped}")
        on_error(SnapshotIssue(name, 0, stopped))


def _read_all(p: Path) -> tuple[bytes, str]:
    """The file's bytes, and what went wrong decompressing it ('' when nothing did)."""
    stream, raw = open_input(p)
    try:
        data = stream.read()
    except OSError as e:
        raise InputError(f"{p}: cannot read: {e.strerror or e}") from None
    finally:
        stream.close()
        raw.close()
    problem = getattr(stream, "problem", "")
    return data, (f"{problem}; what came before the damage was read" if problem else "")
