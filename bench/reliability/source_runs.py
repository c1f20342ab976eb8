"""Seeded fault-injected runs of every arXiv source against the fake arXiv, compared with a clean run.

    python bench/reliability/source_runs.py --runs 50            # the figure in docs/RELIABILITY.md
    python bench/reliability/source_runs.py --runs 5 --rate 0.6  # harsher, shorter

Each run reads the announcement feed, fetches the announced papers by id, pages a 25-result search and
harvests three OAI-PMH pages, all through one Pacer, while the server injects 429/503 with Retry-After,
timeouts, resets, mid-body drops, truncated 200s and empty pages (tests/reliability/fake_arxiv.py).
Prints per-run and total figures: faults by kind, runs identical to the clean run (ids, versions, texts),
duplicates, the smallest gap between two sends (client side, stamped by httpx's request hook just before
the bytes go out; and as the server saw arrivals, which lag by up to ~0.1 s because the server shares this
process and its GIL), and how many Retry-After answers were waited out (with a 0.25 s margin for that lag).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests" / "reliability"))

from fake_arxiv import FakeArxiv, FaultPlan  # noqa: E402
from source_runs import deliver  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--rate", type=float, default=0.4, help="chance that a request gets a fault")
    ap.add_argument("--pace", type=float, default=0.05, help="seconds between sends (arXiv's own is 3)")
    ap.add_argument("--timeout", type=float, default=0.3, help="client timeout; 'timeout' faults answer later")
    args = ap.parse_args()

    with FakeArxiv.clean() as arxiv:
        clean = deliver(arxiv, pace=args.pace)
    want = clean.keys()
    kinds: Counter[str] = Counter()
    same = dups = honoured = asked_to_wait = failed = 0
    min_client = min_server = float("inf")
    started = time.perf_counter()
    for seed in range(args.runs):
        plan = FaultPlan(seed=seed, rate=args.rate, timeout_delay=args.timeout * 2)
        with FakeArxiv(plan) as arxiv:
            try:
                got = deliver(arxiv, pace=args.pace, timeout=args.timeout, seed=seed)
            except Exception as e:  # a run that fails is a finding: count it, show it, go on
                failed += 1
                print(f"seed {seed}: FAILED {type(e).__name__}: {e}")
                continue
            requests, faults = list(arxiv.requests), list(arxiv.faults)
        kinds.update(f.kind for f in faults)
        ok = got.keys() == want and got.announced == clean.announced and got.deleted == clean.deleted
        same += ok
        dups += got.duplicates()
        min_client = min(min_client, got.min_gap())
        arrivals = [r.at for r in requests]
        min_server = min(min_server, min(b - a for a, b in pairwise(arrivals)))
        for f in faults:
            if f.kind in ("429", "503"):
                asked_to_wait += 1
                later = [r.at for r in requests if r.at > f.at]
                honoured += not later or later[0] - f.at >= plan.retry_after - 0.25
        print(f"seed {seed:3d}: {len(requests):3d} requests, {len(faults):2d} faults, "
              f"{'same as clean' if ok else 'DIFFERENT'}, {got.duplicates()} duplicates, {got.seconds:.1f}s")
    total = sum(kinds.values())
    print()
    print(f"runs: {args.runs}, failed: {failed}, identical to the clean run: {same}/{args.runs}")
    print(f"faults injected: {total} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    print(f"duplicates: {dups}; Retry-After honoured: {honoured}/{asked_to_wait}")
    print(f"smallest gap between sends: client {min_client * 1000:.1f} ms, server arrivals "
          f"{min_server * 1000:.1f} ms (pace {args.pace * 1000:.0f} ms)")
    print(f"wall time: {time.perf_counter() - started:.1f}s")
    return 0 if failed == 0 and same == args.runs and dups == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
