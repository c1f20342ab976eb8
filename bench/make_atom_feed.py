"""Build a 2,000-entry arXiv API Atom response from real records, for the Atom-parsing benchmark.

Every entry is one REAL record of the shared corpus sample (/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz,
SOURCES.md section 5), written in the current export.arxiv.org/api/query format as recorded in
tests/fixtures/atom/arxivpy_2026_search_all_testing_s0_m10.xml: namespaces declared once on <feed>, the same
element order, the abs/pdf/doi links, `<category ... scheme=>` for every category and `<arxiv:primary_category>`.

Text is laid out as the current API lays it out (see the recorded file): titles on one line, abstracts
with their line folds joined and only paragraph breaks ('\n  ') kept.

All records with a version history are taken, then an even stride over the rest up to --n. Where a record
has no version dates (the crawler part of the sample stored none), `published` and `updated` are its listing
date at midnight UTC and the version is v1: the times are the only thing not taken from arXiv.

    python bench/make_atom_feed.py --n 2000 --out bench/data/atom_2000.xml
"""

from __future__ import annotations

import argparse
import ast
import email.utils
import gzip
import re
import sys
from datetime import timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson

SAMPLE = Path("/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz")
ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
_FOLD = re.compile(r"\n(?! )")


def _field(r: dict[str, Any], key: str) -> str:
    """The sample writes missing values as the string 'None'; treat that as empty."""
    v = r.get(key)
    return "" if v is None or v == "None" else str(v)


def _list(r: dict[str, Any], key: str) -> list[Any]:
    v = r.get(key)
    if isinstance(v, str):
        return ast.literal_eval(v) if v.startswith("[") else []
    return list(v or [])


def _unfold_title(title: str) -> str:
    return " ".join(title.split())


def _unfold_abstract(text: str) -> str:
    """Join line folds ('word\nword') but keep paragraph breaks ('\n  Word'), as the current API does."""
    return _FOLD.sub(" ", text.rstrip())


def _iso(rfc2822: str) -> str:
    dt = email.utils.parsedate_to_datetime(rfc2822).astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _authors(r: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(name, affiliations) in order; the verbatim snapshot lines carry affiliations in authors_parsed."""
    parsed = _list(r, "authors_parsed")
    if "source" not in r and parsed:
        out = []
        for p in parsed:
            name = " ".join(x for x in (p[1], p[0], p[2]) if x)
            affs = [p[3]] if len(p) > 3 and p[3] else []
            out.append((name, affs))
        return out
    return [(a.strip(), []) for a in _field(r, "authors").split(", ") if a.strip()]


def entry_xml(r: dict[str, Any]) -> str:
    """One <entry> in the API's current layout."""
    versions = _list(r, "versions")
    if versions:
        published = _iso(versions[0]["created"])
        updated = _iso(versions[-1]["created"])
        n = int(str(versions[-1]["version"]).lstrip("v"))
    else:
        day = _field(r, "listing_date") or _field(r, "update_date")
        published = updated = f"{day}T00:00:00Z"
        n = 1
    vid = f"{r['id']}v{n}"
    cats = _field(r, "categories").split()
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{escape(_unfold_title(_field(r, 'title')))}</title>",
        f"    <updated>{updated}</updated>",
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf" title="pdf"/>',
        f"    <summary>{escape(_unfold_abstract(_field(r, 'abstract')))}</summary>",
    ]
    lines += [f'    <category term={quoteattr(c)} scheme="{ARXIV_SCHEME}"/>' for c in cats]
    lines.append(f"    <published>{published}</published>")
    if comment := _field(r, "comments"):
        lines.append(f"    <arxiv:comment>{escape(comment)}</arxiv:comment>")
    if cats:
        lines.append(f"    <arxiv:primary_category term={quoteattr(cats[0])}/>")
    if jref := _field(r, "journal-ref"):
        lines.append(f"    <arxiv:journal_ref>{escape(jref)}</arxiv:journal_ref>")
    for name, affs in _authors(r):
        lines.append("    <author>")
        lines.append(f"      <name>{escape(name)}</name>")
        lines += [f"      <arxiv:affiliation>{escape(a)}</arxiv:affiliation>" for a in affs]
        lines.append("    </author>")
    if doi := _field(r, "doi"):
        lines.append(f"    <arxiv:doi>{escape(doi)}</arxiv:doi>")
        lines.append(f'    <link rel="related" href={quoteattr("https://doi.org/" + doi)} title="doi"/>')
    lines.append("  </entry>")
    return "\n".join(lines)


def feed_xml(records: list[dict[str, Any]], total: int, query: str = "cat:cs.CV") -> str:
    """A whole response page: header as the API writes it, then the entries."""
    n = len(records)
    q = escape(query)
    head = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns="http://www.w3.org/2005/Atom">',
        f"  <id>https://arxiv.org/api/paperscopeBench{n}</id>",
        f"  <title>arXiv Query: search_query={q}&amp;id_list=&amp;start=0&amp;max_results={n}</title>",
        "  <updated>2026-07-01T00:00:00Z</updated>",
        f'  <link href="https://arxiv.org/api/query?search_query={q}&amp;start=0&amp;max_results={n}&amp;id_list="'
        ' type="application/atom+xml"/>',
        f"  <opensearch:itemsPerPage>{n}</opensearch:itemsPerPage>",
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
        "  <opensearch:startIndex>0</opensearch:startIndex>",
    ]
    return "\n".join(head + [entry_xml(r) for r in records] + ["</feed>", ""])


def _updated_key(r: dict[str, Any]) -> str:
    versions = _list(r, "versions")
    return _iso(versions[-1]["created"]) if versions else _field(r, "listing_date") + "T00:00:00Z"


def pick(path: Path, n: int) -> tuple[list[dict[str, Any]], int]:
    """Every record with version dates, then an even stride over the others, up to n; and the pool size."""
    with gzip.open(path, "rb") as f:
        rows = [orjson.loads(line) for line in f if line.strip()]
    dated = [r for r in rows if _list(r, "versions")]
    rest = [r for r in rows if not _list(r, "versions")]
    want = max(0, n - len(dated))
    step = max(1, len(rest) // want) if want else len(rest) + 1
    chosen = (dated + rest[::step][:want])[:n]
    return chosen, len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--out", type=Path, default=Path("bench/data/atom_2000.xml"))
    ap.add_argument("--newest-first", action="store_true",
                    help="order entries by <updated>, newest first (as sortBy=lastUpdatedDate returns them)")
    ap.add_argument("--note", default="", help="an XML comment to put above <feed> (say where the data came from)")
    args = ap.parse_args(argv)
    if not args.sample.exists():
        print(f"sample not found: {args.sample}", file=sys.stderr)
        return 1
    records, total = pick(args.sample, args.n)
    if args.newest_first:
        records.sort(key=_updated_key, reverse=True)
    text = feed_xml(records, total)
    if args.note:
        decl, rest = text.split("\n", 1)
        note = args.note.replace("--", "- -")  # XML comments may not hold a double hyphen
        text = f"{decl}\n<!-- {note} -->\n{rest}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(records)} entries, {args.out.stat().st_size / 1e6:.1f} MB -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
