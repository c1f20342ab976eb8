"""Atom-parsing speed: paperscope's parser against the `arxiv` package's own parser and feedparser.

All three read the same bytes (a 2,000-entry API response built from real records by make_atom_feed.py)
and extract the same fields per entry: id, version, title, abstract, published, updated, authors (with
affiliations where the parser can see them; feedparser cannot), comment, journal_ref, doi, primary
category and categories. `arxiv._feed.parse` is the lxml-based parser arxiv 4.x uses inside
`Client.results`; feedparser's entries are mapped to the same fields after parsing. Runs are interleaved
(ours, arxiv, feedparser, ours, ...) so machine load falls on all of them alike.

    python bench/make_atom_feed.py --out bench/data/atom_2000.xml
    pip install arxiv feedparser        # bench only
    python bench/bench_atom.py bench/data/atom_2000.xml --repeat 7

Prints the median entries/s of each (by CPU time of the process; wall time alongside) and the ratios
ours/arxiv and ours/feedparser.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperscope.sources import atom


def ours(data: bytes) -> int:
    return len(atom.parse_feed(data).entries)


def ours_stdlib(data: bytes) -> int:
    """Our parser with xml.etree instead of lxml underneath (what a install without lxml gets)."""
    saved = atom._PARSER
    atom._PARSER = None  # parse_xml falls back to xml.etree when no lxml parser is set
    try:
        return len(atom.parse_feed(data).entries)
    finally:
        atom._PARSER = saved


def arxiv_parser() -> Callable[[bytes], int] | None:
    try:
        from arxiv import _feed  # arxiv 4.x: the module Client.results parses each page with
    except ImportError:
        return None

    def run(data: bytes) -> int:
        parsed = _feed.parse(data)
        if parsed.malformed:
            raise RuntimeError(f"arxiv could not parse the feed: {parsed.error}")
        return len(parsed.results)

    return run


def feedparser_parser() -> Callable[[bytes], int] | None:
    try:
        import feedparser
    except ImportError:
        return None

    def run(data: bytes) -> int:
        d = feedparser.parse(data)
        out: list[dict[str, Any]] = []
        for e in d.entries:
            # The same fields ours extracts; feedparser flattens authors (no per-author affiliations).
            out.append({
                "id": e.get("id", ""),
                "title": " ".join(e.get("title", "").split()),
                "abstract": " ".join(e.get("summary", "").split()),
                "published": e.get("published_parsed"),
                "updated": e.get("updated_parsed"),
                "authors": [a.get("name", "") for a in e.get("authors", [])],
                "comment": e.get("arxiv_comment", ""),
                "journal_ref": e.get("arxiv_journal_ref", ""),
                "doi": e.get("arxiv_doi", ""),
                "primary": (e.get("arxiv_primary_category") or {}).get("term", ""),
                "categories": [t.get("term") for t in e.get("tags", [])],
            })
        return len(out)

    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("feed", type=Path, nargs="?", default=Path("bench/data/atom_2000.xml"))
    ap.add_argument("--repeat", type=int, default=7, help="runs per parser (median reported; at least 5)")
    ap.add_argument("--no-feedparser", action="store_true", help="skip feedparser (it is slow)")
    args = ap.parse_args(argv)
    if not args.feed.exists():
        print(f"{args.feed} not found: run bench/make_atom_feed.py first", file=sys.stderr)
        return 1
    data = args.feed.read_bytes()
    repeat = max(5, args.repeat)

    runners: dict[str, Callable[[bytes], int]] = {"paperscope": ours, "paperscope (stdlib xml)": ours_stdlib}
    if (a := arxiv_parser()) is not None:
        runners["arxiv._feed"] = a
    else:
        print("arxiv not installed: pip install arxiv", file=sys.stderr)
    if not args.no_feedparser:
        if (f := feedparser_parser()) is not None:
            runners["feedparser"] = f
        else:
            print("feedparser not installed: pip install feedparser", file=sys.stderr)

    counts = {name: run(data) for name, run in runners.items()}  # warm-up, and the entry counts must agree
    if len(set(counts.values())) != 1:
        print(f"parsers disagree on the entry count: {counts}", file=sys.stderr)
        return 1
    n = next(iter(counts.values()))
    # CPU time of this process is the figure: on a shared machine, wall time also counts the time spent
    # waiting for a core. Wall time is printed alongside.
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    wall: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeat):
        for name, run in runners.items():
            c0, w0 = time.process_time(), time.perf_counter()
            run(data)
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)

    rate = {name: n / statistics.median(ts) for name, ts in cpu.items()}
    wall_rate = {name: n / statistics.median(ts) for name, ts in wall.items()}
    print(f"{args.feed}: {n} entries, {len(data) / 1e6:.1f} MB, median of {repeat} interleaved runs")
    lxml_note = "lxml" if atom._PARSER is not None else "xml.etree (lxml not installed)"
    print(f"  {'parser':<26} {'entries/s (CPU)':>16} {'(wall)':>10}")
    for name, r in rate.items():
        note = f"  [{lxml_note}]" if name == "paperscope" else ""
        print(f"  {name:<26} {r:>16,.0f} {wall_rate[name]:>10,.0f}{note}")
    for peer in ("arxiv._feed", "feedparser", "paperscope (stdlib xml)"):
        if peer in rate:
            print(f"  ratio paperscope / {peer:<24} {rate['paperscope'] / rate[peer]:.2f}x"
                  f"  (wall {wall_rate['paperscope'] / wall_rate[peer]:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
