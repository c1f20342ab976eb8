"""Run every benchmark in turn; each prints its figures and its ratio against the named peer.

    python bench/run_all.py            # everything (the 1M-paper import, digest and novelty take a while)
    python bench/run_all.py --quick    # smaller sizes, a few minutes

Needs ../shared/corpus for the real records (the generators say so clearly when it is missing) and the `bench`
extra for the peers (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def steps(quick: bool) -> list[list[str]]:
    n = "100000" if quick else "1000000"
    snap = HERE / "data" / f"snapshot_{n}.jsonl"
    db = HERE / "data" / f"library_{n}.db"
    return [
        ["make_atom_feed.py"],
        ["bench_atom.py"],
        ["make_snapshot.py", "--n", n, "--out", str(snap)],
        ["bench_parse.py", str(snap)],
        ["bench_import.py", "--n", n, "--file", str(snap), "--db", str(db)],
        ["bench_digest.py", "--db", str(db)],
        ["search_cost.py", str(db), "--repeat", "3"],
        ["bench_enrich.py"],
        ["codelinks_eval.py"],
        ["embed_quality.py", "--n", "1000" if quick else "5000"],
        ["ann_recall.py"],
        ["novelty_scale.py", *(["--sizes", "100000"] if quick else [])],
        ["embed_speed.py", "--papers", "5000" if quick else "20000"],
        ["score_speed.py", "--n", "2000" if quick else "5000"],
        ["ivf.py", "--sizes", "real" if quick else "real,1000000"],
        ["recommend.py", "--max-authors", "20" if quick else "60"],
        ["neardup_calibration.py"],
        ["scale.py", "--papers", *(["100000"] if quick else ["100000", "300000", "1000000", "2900000"])],
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="run only the scripts whose name contains this")
    args = ap.parse_args()
    failed = []
    for step in steps(args.quick):
        if args.only and args.only not in step[0]:
            continue
        script = HERE / step[0]
        if not script.exists():
            continue
        if step[0] == "make_snapshot.py" and Path(step[-1]).exists():
            continue
        print(f"\n=== {' '.join(step)}", flush=True)
        t = time.perf_counter()
        rc = subprocess.run([sys.executable, str(script), *step[1:]]).returncode
        print(f"=== {step[0]}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.perf_counter() - t:.0f} s", flush=True)
        if rc:
            failed.append(step[0])
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
