"""The long kill -9 run: SIGKILL at N seeded points (default 20) of a first import, a re-import, `embed`,
`novelty` and `score` of the bundled sample; after each, the integrity checks (PRAGMA integrity_check and FTS5's
with rank=1) and a rerun that must converge to an uninterrupted run's library and search results.

    PYTHONPATH=src python bench/reliability/kill_suite.py [--points 20] [--seed 1]

Prints one line per job (passed/points, kills that landed) and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "reliability"))
from killing import SAMPLE, cli, delays, integrity, killed, snapshot  # noqa: E402

JOBS = {  # job -> (commands run before, the command killed, its longest seeded delay in seconds)
    "first import": ([], ["import", "--no-embed", str(SAMPLE)], 1.8),
    "re-import": ([["import", "--no-embed", str(SAMPLE)]], ["import", "--no-embed", str(SAMPLE)], 1.8),
    "embed": ([["import", "--no-embed", str(SAMPLE)]], ["embed"], 6.0),
    "novelty": ([["import", "--no-embed", str(SAMPLE)], ["embed"]], ["novelty"], 3.0),
    "score": ([["import", "--no-embed", str(SAMPLE)], ["embed"], ["novelty"]], ["score"], 3.0),
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, (job, (before, cmd, longest)) in enumerate(JOBS.items()):
            clean = Path(tmp) / f"clean{n}.db"
            for c in [*before, cmd]:
                assert cli(clean, *c).returncode == 0
            want = snapshot(clean)
            ok = landed = 0
            t0 = time.perf_counter()
            for i, delay in enumerate(delays(args.seed + n, args.points, longest)):
                db = Path(tmp) / f"{n}-{i}.db"
                for c in before:
                    assert cli(db, *c).returncode == 0
                landed += killed(db, cmd, delay)
                try:
                    integrity(db, index=False)
                    assert cli(db, *cmd).returncode == 0
                    integrity(db)
                    assert snapshot(db) == want
                    assert cli(db, "check").returncode == 0
                    ok += 1
                except (AssertionError, Exception) as e:
                    failed += 1
                    print(f"  {job}: kill at {delay}s FAILED: {e}")
            print(f"{job:13s} {ok}/{args.points} converged, {landed} kills landed mid-run, "
                  f"{time.perf_counter() - t0:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
