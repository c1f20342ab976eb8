"""Build the bundled demo sample (src/paperscope/data/sample.jsonl.gz) from ../shared/corpus.

The sample is real arXiv metadata (CC0) in the public snapshot's shape: papers matching the demo topics plus
a random spread of others, so that the demo digest and search have something real to show.
Usage: python tools/make_sample.py [--corpus ../shared/corpus] [--seed 7]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from pathlib import Path

TOPIC_PATTERNS = {
    "reward": re.compile(r"reward model|\bRLHF\b", re.I),
    "hallucination": re.compile(r"hallucinat", re.I),
    "diffusion": re.compile(r"diffusion model|score-based", re.I),
    "agents": re.compile(r"\bagents?\b", re.I),
}
PER_TOPIC = 600
RANDOM_OTHERS = 1200


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "src/paperscope/data/sample.jsonl.gz"))
    args = ap.parse_args()
    src = Path(args.corpus) / "arxiv_snapshot_sample.jsonl.gz"
    if not src.exists():
        raise SystemExit(f"{src}: not found (the corpus lives in ../shared/corpus)")
    records = [json.loads(line) for line in gzip.open(src, "rt", encoding="utf-8")]
    recent = [r for r in records if r.get("source") != "snapshot-head"]
    recent.sort(key=lambda r: (r["update_date"], r["id"]), reverse=True)
    chosen: dict[str, dict] = {}
    for pat in TOPIC_PATTERNS.values():
        hits = [r for r in recent if pat.search(r["title"] + " " + r["abstract"])]
        for r in hits[:PER_TOPIC]:
            chosen[r["id"]] = r
    rng = random.Random(args.seed)
    others = [r for r in records if r["id"] not in chosen]
    for r in rng.sample(others, RANDOM_OTHERS):
        chosen[r["id"]] = r
    # papers with a real version history (from the snapshot's head and the API responses) all come along
    for r in records:
        if r.get("versions"):
            chosen.setdefault(r["id"], r)
    keys = ("id", "submitter", "authors", "title", "comments", "journal-ref", "doi", "report-no", "categories",
            "license", "abstract", "versions", "update_date", "authors_parsed")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as f:
        for r in sorted(chosen.values(), key=lambda r: r["id"]):
            f.write(json.dumps({k: r.get(k) for k in keys}, ensure_ascii=False) + "\n")
    print(f"wrote {len(chosen)} papers to {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
