"""One stage of the library `bench/scale.py` left behind, redone by two checkouts of paperscope in turn.

    git worktree add /tmp/before HEAD~1
    python bench/stage_ab.py --papers 2900000 --stage novelty --before /tmp/before --rounds 1

The machines here drift in speed by up to a third between runs an hour apart, so a change to one stage is measured
against the code before it on the same library, back to back (rounds alternate which goes first). Each run is a
fresh `paperscope` process (under a fresh helper, as in `bench/scale.py`), measured as that script measures a stage: wall seconds, cores busy, peak RSS of the
largest process and peak memory of all its processes. Stages:

  novelty   `paperscope novelty --all`: every paper against the earlier ones again, cohorts re-ranked
  score     `paperscope score` after its scores and progress mark are removed: a first AI Score of every paper
  import    `paperscope import SNAPSHOT --no-embed` into an empty library of its own (made afresh each run, then
            removed; the library scale.py left is not touched): the snapshot import, code links and lists included

Prints each run, the medians and the ratio after / before.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale import DATA, snapshot, stage  # noqa: E402

STAGES = {"novelty": ["novelty", "--all", "--json"], "score": ["score", "--json"], "import": []}


def _forget_scores(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("DELETE FROM scores")
        conn.execute("DELETE FROM state WHERE key LIKE 'score:%'")
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def one_run(root: Path, which: str, db: Path, config: Path, papers: int) -> dict[str, float]:
    args = STAGES[which]
    if which == "score":
        _forget_scores(db)
    if which == "import":
        fresh = DATA / f"stage_ab_import_{papers}"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        sys.path.insert(0, str(HERE.parent / "src"))
        from paperscope.service.pipeline import demo_config

        db, config = fresh / "library.db", fresh / "config.toml"
        demo_config(config)  # as scale.py writes it
        args = ["import", str(snapshot(papers)), "--no-embed", "--json"]
    try:
        secs, rss, _out, cpu, mem = stage(args, db, config, src=root / "src")
    finally:
        if which == "import":
            shutil.rmtree(db.parent, ignore_errors=True)
    return {"secs": round(secs, 1), "cores": round(cpu / secs, 2) if secs else 0.0, "peak_rss_gb": round(rss, 2),
            "all_processes_gb": round(mem, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papers", type=int, default=2_900_000, help="the size whose library scale.py left")
    ap.add_argument("--stage", choices=sorted(STAGES), required=True)
    ap.add_argument("--before", type=Path, required=True, help="a checkout of the code to compare against")
    ap.add_argument("--after", type=Path, default=HERE.parent, help="the code measured (default: this checkout)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    work = DATA / f"scale_{args.papers}"
    db, config = work / "library.db", work / "config.toml"
    if not db.exists() and args.stage != "import":
        sys.exit(f"{db}: no library; run python bench/scale.py --papers {args.papers} first")
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for r in range(args.rounds):
        order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
        for which in order:
            root = (args.before if which == "before" else args.after).resolve()
            got = one_run(root, args.stage, db, config, args.papers)
            runs[which].append(got)
            print(f"  {args.stage} {which:6s} {got['secs']:8.1f} s   {got['cores']:.2f} cores   peak RSS "
                  f"{got['peak_rss_gb']:.2f} GB, all processes {got['all_processes_gb']:.2f} GB", flush=True)
    med = {w: statistics.median(x["secs"] for x in rs) for w, rs in runs.items()}
    print(f"  median: before {med['before']:.1f} s, after {med['after']:.1f} s, after/before "
          f"{med['after'] / med['before']:.3f}")
    if args.out:
        args.out.write_text(json.dumps({"papers": args.papers, "stage": args.stage, "runs": runs, "median": med},
                                       indent=1))


if __name__ == "__main__":
    main()
