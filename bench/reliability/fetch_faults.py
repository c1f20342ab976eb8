"""The long end-to-end fault run: `service.ingest.fetch` into a fresh library per seed against a fake arXiv
injecting faults, rerun (up to --attempts fetches) while it reports errors; every library must equal a clean
run's (ids, versions, titles, abstracts) with no duplicates.

    PYTHONPATH=src python bench/reliability/fetch_faults.py [--runs 50] [--rate 0.4] [--attempts 4] [--streak 3]

Prints the converged count, the faults injected by kind, the fetches each run needed, and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "reliability"))
from fake_arxiv import KINDS, FakeArxiv, FaultPlan  # noqa: E402
from fetch_runs import fetch_until_ok  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--rate", type=float, default=0.4)
    ap.add_argument("--attempts", type=int, default=4)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--streak", type=int, default=3, help="most faults in a row (over 6 outlasts the retries)")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated fault kinds")
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        with FakeArxiv.clean() as arxiv:
            want = fetch_until_ok(arxiv, Path(tmp) / "clean.db", attempts=1)
        assert want.ok, want.errors
        converged = dups = 0
        kinds: Counter[str] = Counter()
        fetches: Counter[int] = Counter()
        for seed in range(args.first_seed, args.first_seed + args.runs):
            with FakeArxiv(FaultPlan(seed=seed, rate=args.rate, max_in_a_row=args.streak,
                                     kinds=args.kinds.split(","))) as arxiv:
                got = fetch_until_ok(arxiv, Path(tmp) / f"run{seed}.db", attempts=args.attempts)
                kinds.update(f.kind for f in arxiv.faults)
            fetches[got.fetches] += 1
            dups += got.duplicates
            same = got.ok and got.papers == want.papers and got.duplicates == 0
            converged += same
            if not same:
                print(f"  seed {seed}: FAILED after {got.fetches} fetches ({len(got.papers)} papers, "
                      f"{got.duplicates} duplicates): {got.errors}")
    print(f"{converged}/{args.runs} libraries equal the clean run's ({len(want.papers)} papers), "
          f"{dups} duplicates, fault rate {args.rate}, streaks up to {args.streak}, {time.perf_counter() - t0:.0f} s")
    print(f"faults injected: {sum(kinds.values())} ({', '.join(f'{k}: {n}' for k, n in kinds.most_common())})")
    print("fetches needed: " + ", ".join(f"{n}: {c} runs" for n, c in sorted(fetches.items())))
    return 0 if converged == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
