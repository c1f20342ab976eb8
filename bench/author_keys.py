"""Author-index keys per distinct author string, against the general parse they shortcut.

Every author string of every imported paper is keyed for the author index (`scoring.names.author_index_keys`,
cached per process): an import pays the key of each *distinct* string about once. The generated snapshots of
`bench/scale.py` reuse the corpus sample's author lists, so their 151,881 distinct names are keyed once whatever
the size, while a real snapshot of all arXiv holds some two million distinct strings (the sample's count grows as
its papers to the power ~0.68). This measures the key of each distinct name of the real sample with every cache
emptied first: the general path alone (the peer) and `author_index_keys` (its plain-name shortcut, then the
general path), same keys checked for every name.

    python bench/author_keys.py --rounds 5

Prints the median µs a name of each over the rounds, the ratio, and the share of names the shortcut takes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from paperscope.scoring import names as n  # noqa: E402
from paperscope.sources.snapshot import iter_snapshot  # noqa: E402

SAMPLE = Path("/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz")
CACHED = (n.author_index_keys, n.parse_name, n.display_name, n._compact, n._form)


def distinct_names(path: Path) -> list[str]:
    return list(dict.fromkeys(a.name for p in iter_snapshot(path) for a in p.authors))


def per_name_us(fn: Callable[[str], object], names: list[str]) -> float:
    for f in CACHED:
        f.cache_clear()
    t = time.perf_counter()
    for x in names:
        fn(x)
    return (time.perf_counter() - t) / len(names) * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=Path, default=SAMPLE, help="snapshot-shaped JSON lines of real papers")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    if not a.sample.exists():
        a.sample = HERE.parent / "src" / "paperscope" / "data" / "sample.jsonl.gz"
    names = distinct_names(a.sample)
    mismatched = [x for x in names if n.author_index_keys(x) != n._author_index_keys(x)]
    if mismatched:
        raise SystemExit(f"keys differ for {len(mismatched)} names, e.g. {mismatched[:3]}")
    fns: dict[str, Callable[[str], object]] = {"general": n._author_index_keys, "shortcut": n.author_index_keys}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(a.rounds):  # alternating which goes first
        for name in (list(fns) if i % 2 == 0 else list(fns)[::-1]):
            times[name].append(per_name_us(fns[name], names))
    general, shortcut = times["general"], times["shortcut"]
    g, s = statistics.median(general), statistics.median(shortcut)
    plain = sum(n._plain_parts(x) is not None for x in names) / len(names)
    print(f"{len(names):,} distinct author strings of {a.sample.name}; {plain:.0%} take the shortcut")
    print(f"  general parse (peer)   {g:6.2f} µs a name   (rounds: {', '.join(f'{x:.2f}' for x in general)})")
    print(f"  author_index_keys      {s:6.2f} µs a name   (rounds: {', '.join(f'{x:.2f}' for x in shortcut)})")
    print(f"  ratio {s / g:.3f}; for 2,000,000 distinct names {g * 2:.0f} -> {s * 2:.0f} core-s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
