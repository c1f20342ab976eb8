"""Parse-only speed of the snapshot reader, against its floor: plain `orjson.loads` of every line.

Both sides read the same file the same way (4 MiB blocks, split on newlines, gzip when the file is), so the
ratio is the cost of turning decoded JSON into Papers (dates, authors, whitespace) on top of decoding it.

    python bench/make_snapshot.py --n 1000000 --out bench/data/snapshot_1m.jsonl
    python bench/bench_parse.py bench/data/snapshot_1m.jsonl --repeat 3

Prints the median lines/s of each over --repeat runs and the ratio (reader time / orjson time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import orjson

from paperscope.sources.snapshot import SnapshotIssue, iter_snapshot, open_input


def orjson_only(path: Path) -> int:
    """Decode every line with orjson and keep nothing: the floor any reader pays."""
    stream, raw = open_input(path)
    loads = orjson.loads
    n = 0
    rest = b""
    with stream, raw:
        while block := stream.read(1 << 22):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                loads(line)
            n += len(lines)
        if rest.strip():
            loads(rest)
            n += 1
    return n


def reader(path: Path) -> int:
    """Map every line to a Paper with iter_snapshot and keep nothing."""
    issues: list[SnapshotIssue] = []
    n = sum(1 for _ in iter_snapshot(path, on_error=issues.append))
    if issues:
        print(f"  ({len(issues)} lines skipped, first: {issues[0]})", file=sys.stderr)
    return n + len(issues)


def timed(fn, path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = fn(path)
    return time.perf_counter() - t0, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path, help="a snapshot file from bench/make_snapshot.py (.jsonl or .jsonl.gz)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side (median reported)")
    args = ap.parse_args(argv)
    if not args.path.exists():
        print(f"bench_parse: {args.path} not found; make it with bench/make_snapshot.py", file=sys.stderr)
        return 2
    base, mine = [], []
    lines = 0
    for i in range(args.repeat):  # interleaved, so drift in machine load hits both sides alike
        t, lines = timed(orjson_only, args.path)
        base.append(t)
        t, n = timed(reader, args.path)
        mine.append(t)
        print(f"run {i + 1}: orjson.loads {base[-1]:.2f} s, iter_snapshot {mine[-1]:.2f} s ({n:,} lines)")
    b, m = statistics.median(base), statistics.median(mine)
    print(f"file: {args.path} ({args.path.stat().st_size / 1e6:,.0f} MB, {lines:,} lines)")
    print(f"orjson.loads per line : {lines / b:>12,.0f} lines/s  ({b / lines * 1e6:.2f} us/line)")
    print(f"iter_snapshot         : {lines / m:>12,.0f} lines/s  ({m / lines * 1e6:.2f} us/line)")
    print(f"ratio iter_snapshot / orjson.loads: {m / b:.2f}x the time; "
          f"{m / lines * 1e6:.1f} s per million lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
