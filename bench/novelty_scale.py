"""Novelty for a whole library: seconds per size, HNSW path against exact blocked search.

Sizes: the real corpus (both files of /work/shared/corpus, embedded with the default model,
dated by first submission), then 100k / 300k / 1M papers made from those real vectors
repeated with small noise (a random vector of norm 0.3 added, then renormalised) and real
dates shuffled. Peer: the exact blocked search (`exact_below` above the size), run where it
fits in time (the corpus and 100k). For every size, 500 sampled papers get their true
earlier neighbours by brute force, so neighbour recall@10 and novelty error are printed too.

    python bench/novelty_scale.py [--sizes 100000,300000,1000000] [--threads 1] [--exact-max 100000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import numpy as np

from paperscope.semantic import load_embedder, paper_text
from paperscope.semantic.novelty import novelty_arrays, to_days

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def first_submitted(r: dict) -> str:
    if r.get("versions"):
        return parsedate_to_datetime(r["versions"][0]["created"]).date().isoformat()
    return r.get("date_earliest") or r["update_date"]


def corpus() -> tuple[list[str], list[str]]:
    texts, dates, seen = [], [], set()
    for name in ("arxiv_snapshot_sample.jsonl.gz", "arxiv_papers.jsonl.gz"):
        with gzip.open(CORPUS / name, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if r["id"] in seen or not r.get("abstract"):
                    continue
                seen.add(r["id"])
                texts.append(paper_text(r["title"], r["abstract"]))
                dates.append(first_submitted(r))
    return texts, dates


def synthetic(x: np.ndarray, days: np.ndarray, n: int, rng: np.random.Generator):
    rows = rng.integers(0, len(x), size=n)
    noise = rng.standard_normal((n, x.shape[1])).astype(np.float32)
    noise *= 0.3 / np.linalg.norm(noise, axis=1, keepdims=True)
    y = x[rows] + noise
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return y, rng.permutation(days[rng.integers(0, len(days), size=n)])


def check(x, days, nb, sims, rng, k=10, sample=500) -> tuple[float, float, float]:
    """Neighbour recall@k, mean and max novelty error on sampled papers, against brute force."""
    rec, err = [], []
    for i in rng.choice(len(x), size=sample, replace=False):
        earlier = np.flatnonzero(days < days[i])
        if len(earlier) < k:
            continue
        s = x[earlier] @ x[i]
        best = earlier[np.argpartition(-s, k - 1)[:k]]
        rec.append(len(set(best.tolist()) & set(nb[i].tolist())) / k)
        err.append(abs(np.sort(s)[-k:].mean() - sims[i].mean()))
    return float(np.mean(rec)), float(np.mean(err)), float(np.max(err))


def run(label: str, x, days, args, rng) -> None:
    def timed(exact: bool):
        t0 = time.perf_counter()
        out = novelty_arrays(
            x, days, k=10, exact_below=(len(x) + 1) if exact else 0, threads=args.threads
        )
        return time.perf_counter() - t0, out

    ann_s, (_, nb, sims) = timed(exact=False)
    rec, mean_err, max_err = check(x, days, nb, sims, rng)
    line = (
        f"{label:<22} n={len(x):>9,}  hnsw {ann_s:>7.1f}s  ({len(x) / ann_s:>8,.0f} papers/s)  "
        f"recall@10 {rec:.4f}  novelty error mean {mean_err:.4f} max {max_err:.4f}"
    )
    if len(x) <= args.exact_max:
        ex_s, _ = timed(exact=True)
        line += f"  | exact {ex_s:.1f}s, hnsw/exact time ratio {ann_s / ex_s:.2f}"
    print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--exact-max", type=int, default=100_000)
    args = ap.parse_args()
    if not (CORPUS / "arxiv_snapshot_sample.jsonl.gz").exists():
        print(f"skipped: corpus not found at {CORPUS}")
        return
    rng = np.random.default_rng(0)
    texts, dates = corpus()
    emb = load_embedder()
    t0 = time.perf_counter()
    x = emb.embed(texts)
    days = to_days(dates)
    print(
        f"corpus: {len(x):,} papers embedded with {emb.name} in {time.perf_counter() - t0:.1f}s; "
        f"{len(np.unique(days))} distinct days; threads={args.threads}",
        flush=True,
    )
    run("real corpus", x, days, args, rng)
    for n in (int(s) for s in args.sizes.split(",") if s):
        y, d = synthetic(x, days, n, rng)
        run("synthetic", y, d, args, rng)
        del y, d


if __name__ == "__main__":
    main()
