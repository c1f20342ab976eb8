"""Latency of `author_profile` in a long-running process (the Library open, caches warm), through the author
index against the full-text path it replaced (every paper sharing the surname's words, every author string on
them compared in Python), both measured in this run on the same library and names; it also checks that both
paths give the same answer (the same profile, or the same list of candidates when the name is ambiguous).

    python bench/make_snapshot.py --n 300000 --out /tmp/ppl_300k.jsonl.gz
    python -m paperscope --db /tmp/ppl.db import /tmp/ppl_300k.jsonl.gz --no-embed
    python bench/author_profile.py --db /tmp/ppl.db --names 30

Names: the first authors of --names random papers (seeded), plus a few very common surnames with an initial.
Figures: p50/p95 over the names of the median of --repeat calls after one warm-up call per path.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

COMMON = ["X. Wang", "Y. Zhang", "J. Li", "Wang"]


def pick_names(conn: Any, n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    top = conn.execute("SELECT max(pk) FROM papers").fetchone()[0]
    names: list[str] = []
    while len(names) < n:
        row = conn.execute("SELECT authors_json FROM papers WHERE pk = ?", (rnd.randint(1, top),)).fetchone()
        authors = orjson.loads(row[0]) if row else []
        if authors:
            a = authors[0]
            name = a if isinstance(a, str) else a[0]
            if name not in names:
                names.append(name)
    return names


def outcome(call: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, a comparable answer) of one profile call."""
    from paperscope.errors import PaperscopeError
    from paperscope.service.people import AmbiguousAuthor

    t = time.perf_counter()
    try:
        r = call()
        answer: Any = orjson.dumps(r.to_dict(), option=orjson.OPT_SORT_KEYS)
    except AmbiguousAuthor as e:
        answer = ("ambiguous", [(p.name, p.names, p.paper_ids, p.openalex_id) for p in e.people])
    except PaperscopeError as e:
        answer = (type(e).__name__, str(e))
    return time.perf_counter() - t, answer


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--names", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--no-old", action="store_true", help="skip the full-text path (it is slow on big libraries)")
    args = ap.parse_args()

    from paperscope.library import Library
    from paperscope.service.people import author_profile

    lib = Library.open(args.db, readonly=True)
    store = lib.store
    if store.author_index_stale():
        sys.exit(f"{args.db}: the author index is not filled; open it once as a writer (e.g. `paperscope stats`)")
    names = pick_names(store.conn, args.names, args.seed) + COMMON
    indexed = store.author_index

    def old_index(*args: Any, **kwargs: Any) -> None:
        return None  # what a library without the author index answers: use the full-text path

    print(f"{store.count():,} papers, {len(names)} names, median of {args.repeat} warm calls each")
    new_t: list[float] = []
    old_t: list[float] = []
    same = differ = 0
    for name in names:
        store.author_index = indexed  # type: ignore[method-assign]
        outcome(lambda: author_profile(lib, name))
        runs = [outcome(lambda: author_profile(lib, name)) for _ in range(args.repeat)]
        t_new, ans_new = statistics.median(r[0] for r in runs), runs[0][1]
        new_t.append(t_new)
        line = f"{t_new * 1000:8.1f} ms"
        if not args.no_old:
            store.author_index = old_index  # type: ignore[method-assign]
            outcome(lambda: author_profile(lib, name))
            runs = [outcome(lambda: author_profile(lib, name)) for _ in range(args.repeat)]
            t_old, ans_old = statistics.median(r[0] for r in runs), runs[0][1]
            old_t.append(t_old)
            ok = ans_old == ans_new
            same += ok
            differ += not ok
            line += f"  old {t_old * 1000:8.1f} ms  x{t_old / t_new:6.1f}  {'same' if ok else 'DIFFERENT'}"
        kind = ans_new[0] if isinstance(ans_new, tuple) else "profile"
        print(f"{line}  {kind:9}  {name}")
    store.author_index = indexed  # type: ignore[method-assign]
    print(f"author index: p50 {pct(new_t, 0.5) * 1000:.1f} ms  p95 {pct(new_t, 0.95) * 1000:.1f} ms  "
          f"max {max(new_t) * 1000:.1f} ms")
    if old_t:
        print(f"full-text path: p50 {pct(old_t, 0.5) * 1000:.1f} ms  p95 {pct(old_t, 0.95) * 1000:.1f} ms  "
              f"max {max(old_t) * 1000:.1f} ms")
        print(f"ratio (old/new): p50 x{pct(old_t, 0.5) / pct(new_t, 0.5):.1f}  p95 x{pct(old_t, 0.95) / pct(new_t, 0.95):.1f}"
              f"  answers same {same}/{same + differ}")


if __name__ == "__main__":
    main()
