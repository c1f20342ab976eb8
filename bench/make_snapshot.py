"""Generate a large arXiv-snapshot-shaped JSON lines file for the import benchmarks.

Every text field comes from a REAL record of the shared corpus sample (/work/shared/corpus/
arxiv_snapshot_sample.jsonl.gz, see SOURCES.md section 5): each generated paper takes its title, abstract,
comments and journal/DOI fields from one real paper, its author list (and `authors_parsed`) from another and
its categories from a third. Ids are new and unique (new-style `YYMM.NNNN`/`YYMM.NNNNN`, consecutive within
each month as arXiv assigns them), spread over 2007-04 .. 2026-08 in proportion to arXiv's monthly submissions of
each year (MONTHLY below, rounded from arXiv's public submission statistics), and each paper gets 1-5 versions
dated in the snapshot's own RFC 2822 form. Output is deterministic for a given --seed.

Categories follow arXiv's mix, not the sample's: the sample is almost all cs, while arXiv's primary archives
are roughly a third cs in recent years and a tenth in 2007. Each paper draws its primary archive from SHARES
(interpolated by year); a cs paper takes a real category list of the sample, any other a subject class of its
archive from arXiv's taxonomy (with a cross-list in a third of cases). Texts stay those of the real (mostly cs)
papers: the benchmark's costs depend on their lengths and vocabulary, not on their subject.

    python bench/make_snapshot.py --n 1000000 --out bench/data/snapshot_1m.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

SAMPLE = Path("/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz")
FIRST_MONTH = (2007, 4)  # the first month of new-style ids
LAST_MONTH = (2026, 8)
END = datetime(2026, 8, 31, 23, 59, 59, tzinfo=timezone.utc)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
VERSION_COUNTS = (1, 2, 3, 4, 5)
VERSION_WEIGHTS = (0.55, 0.28, 0.10, 0.045, 0.025)  # most papers are never revised; few reach v5
KEYS = ("id", "submitter", "authors", "title", "comments", "journal-ref", "doi", "report-no", "categories",
        "license", "abstract", "versions", "update_date", "authors_parsed")


def rfc2822(dt: datetime) -> str:
    """The snapshot's version date form: 'Mon, 2 Apr 2007 19:18:42 GMT' (day not zero-padded)."""
    return f"{WEEKDAYS[dt.weekday()]}, {dt.day} {MONTHS[dt.month - 1]} {dt.year} {dt:%H:%M:%S} GMT"


def load_pools(path: Path) -> dict[str, list[Any]]:
    """Read the real records once and keep the parts that get recombined."""
    texts, authors, categories, licenses = [], [], [], []
    with open(path, "rb") as probe:
        is_gzip = probe.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if is_gzip else open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            r = orjson.loads(line)
            texts.append((r["title"], r.get("abstract") or "", r.get("comments"), r.get("journal-ref"),
                          r.get("doi"), r.get("report-no")))
            if r.get("authors_parsed"):
                authors.append((r.get("authors") or "", r["authors_parsed"]))
            if r.get("categories"):
                categories.append(r["categories"])
            if r.get("license"):
                licenses.append(r["license"])
    if not texts or not authors or not categories:
        raise SystemExit(f"make_snapshot: {path} has no usable records")
    from paperscope.taxonomy import CATEGORIES

    classes: dict[str, list[str]] = {}
    for c in sorted(CATEGORIES):
        if "." in c:
            a, sub = c.split(".", 1)
            classes.setdefault(a, []).append(sub)
    cs = [c for c in categories if c.split()[0].startswith("cs.")] or categories
    return {"texts": texts, "authors": authors, "categories": categories, "licenses": licenses or [None],
            "cs_categories": cs, "classes": classes, "all_categories": sorted(c for c in CATEGORIES if "." in c)}


# Average new submissions per month, by year (rounded from arXiv's submission statistics).
MONTHLY = {2007: 5200, 2008: 5500, 2009: 5800, 2010: 6500, 2011: 6900, 2012: 7300, 2013: 7900, 2014: 8100,
           2015: 8800, 2016: 9400, 2017: 10300, 2018: 11700, 2019: 13000, 2020: 15000, 2021: 15100, 2022: 15500,
           2023: 17400, 2024: 20500, 2025: 24000, 2026: 26000}
# Share of primary archives in 2007 and in 2026 (linear in between), rounded from arXiv's statistics.
SHARES = {"cs": (0.10, 0.40), "math": (0.25, 0.15), "cond-mat": (0.13, 0.07), "astro-ph": (0.13, 0.06),
          "hep-th": (0.05, 0.02), "hep-ph": (0.06, 0.03), "quant-ph": (0.05, 0.05), "physics": (0.07, 0.07),
          "stat": (0.02, 0.03), "eess": (0.00, 0.05), "gr-qc": (0.03, 0.02), "math-ph": (0.02, 0.01),
          "q-bio": (0.02, 0.01), "nucl-th": (0.02, 0.01), "hep-ex": (0.015, 0.005), "nlin": (0.015, 0.005),
          "q-fin": (0.01, 0.005), "econ": (0.00, 0.01), "hep-lat": (0.01, 0.005)}


def month_counts(n: int, rng: random.Random) -> list[tuple[int, int, int]]:
    """How many papers each month gets: proportional to arXiv's monthly submissions that year."""
    months = []
    y, m = FIRST_MONTH
    while (y, m) <= LAST_MONTH:
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    weights = [float(MONTHLY[y]) for y, _ in months]
    total = sum(weights)
    counts = [int(n * w / total) for w in weights]
    for i in rng.sample(range(len(months)), n - sum(counts)):
        counts[i] += 1
    out = []
    for (y, m), c in zip(months, counts, strict=True):
        cap = 9999 if y < 2015 else 99999  # ids had 4 digits after the dot until 2014, 5 since 2015
        if c > cap:
            raise SystemExit(f"make_snapshot: --n {n} needs {c} ids in {y}-{m:02d}, more than the {cap} possible")
        out.append((y, m, c))
    return out


def archive_weights(year: int) -> tuple[list[str], list[float]]:
    t = (year - 2007) / (2026 - 2007)
    names = list(SHARES)
    return names, [a + (b - a) * t for a, b in SHARES.values()]


def categories_for(archive: str, pools: dict[str, list[Any]], rng: random.Random) -> str:
    """A category list whose primary is in `archive`: a real cs list of the sample, or taxonomy subject classes."""
    if archive == "cs":
        return str(rng.choice(pools["cs_categories"]))
    classes = pools["classes"].get(archive)
    first = f"{archive}.{rng.choice(classes)}" if classes else archive
    if rng.random() < 1 / 3:
        other = rng.choice(pools["all_categories"])
        if other != first:
            return f"{first} {other}"
    return first


def make_record(pid: str, y: int, m: int, pools: dict[str, list[Any]], rng: random.Random) -> dict[str, Any]:
    """One snapshot object: real text from three different real papers, new id and dates."""
    title, abstract, comments, jref, doi, rno = rng.choice(pools["texts"])
    authors, parsed = rng.choice(pools["authors"])
    first = rng.choice(parsed)
    submitter = " ".join(x for x in (first[1], first[0]) if x)
    day = rng.randint(1, 28)
    created = datetime(y, m, day, rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), tzinfo=timezone.utc)
    versions = [{"version": "v1", "created": rfc2822(created)}]
    when = created
    for k in range(2, rng.choices(VERSION_COUNTS, VERSION_WEIGHTS)[0] + 1):
        when = when + timedelta(days=rng.expovariate(1 / 60), seconds=rng.randint(60, 86_000))
        if when > END:
            break
        versions.append({"version": f"v{k}", "created": rfc2822(when)})
    updated = when.date()
    if rng.random() < 0.3:  # metadata edits (journal-ref, DOI) move update_date past the last version
        updated = min(END.date(), updated + timedelta(days=rng.randint(1, 400)))
    names, weights = pools["archive_weights"][y]
    values = (pid, submitter, authors, title, comments, jref, doi, rno,
              categories_for(rng.choices(names, weights)[0], pools, rng),
              rng.choice(pools["licenses"]) if rng.random() < 0.7 else None, abstract, versions,
              updated.isoformat(), parsed)
    return dict(zip(KEYS, values, strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of records (default 1,000,000)")
    ap.add_argument("--out", type=Path, required=True, help="output file; a .gz name writes gzip")
    ap.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    ap.add_argument("--sample", type=Path, default=SAMPLE, help="real snapshot-shaped records to resample")
    ap.add_argument("--level", type=int, default=1, help="gzip level for .gz output (default 1: fast)")
    args = ap.parse_args(argv)
    if not args.sample.exists():
        where = "the shared corpus (/work/shared) is absent" if not Path("/work/shared").exists() else "it is missing"
        print(f"make_snapshot: cannot read {args.sample}: {where}; pass --sample PATH to a snapshot-shaped "
              ".jsonl[.gz] of real records", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    pools = load_pools(args.sample)
    plan = month_counts(args.n, rng)
    pools["archive_weights"] = {y: archive_weights(y) for y in MONTHLY}  # type: ignore[assignment]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    raw = open(args.out, "wb")
    # mtime=0 keeps the gzip header, and so the whole file, identical between runs with the same seed.
    out = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=args.level, mtime=0) if args.out.suffix == ".gz" else raw
    from tqdm import tqdm

    dumps = orjson.dumps
    batch: list[bytes] = []
    with tqdm(total=args.n, unit="rec", unit_scale=True, desc=args.out.name) as bar:
        for y, m, count in plan:
            width = 4 if y < 2015 else 5
            for seq in range(1, count + 1):
                batch.append(dumps(make_record(f"{y % 100:02d}{m:02d}.{seq:0{width}d}", y, m, pools, rng)))
                if len(batch) >= 10_000:
                    out.write(b"\n".join(batch) + b"\n")
                    bar.update(len(batch))
                    batch.clear()
        if batch:
            out.write(b"\n".join(batch) + b"\n")
            bar.update(len(batch))
    out.close()
    raw.close()
    print(f"wrote {args.n:,} records to {args.out} ({args.out.stat().st_size / 1e6:,.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
