"""Embedding quality and speed: the default embedder against all-MiniLM-L6-v2 (sentence-transformers).

Task: embed every title and every abstract of N real papers; for each title, rank all
abstracts by cosine similarity; recall@1 / recall@10 = share of titles whose own abstract
comes first / in the top 10. Papers are the held-out ones (crc32(id) % 10 == 0, never used
to train the default model) of /work/shared/corpus/arxiv_snapshot_sample.jsonl.gz; `--set ood`
uses arxiv_papers.jsonl.gz instead (time series / GNN / trajectory papers, other topics than
the training set; ids that are also in the snapshot are left out).
Speed: abstracts embedded per second (the abstract pass is timed; titles are printed too).
Also: how many of each abstract's 10 nearest abstracts the two models share.

    python bench/embed_quality.py [--n 5000] [--set heldout|ood] [--skip-minilm]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
import zlib
from pathlib import Path

import numpy as np

from paperscope.errors import ConfigError
from paperscope.semantic import load_embedder

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
WS = re.compile(r"\s+")


def clean(s: str) -> str:
    return WS.sub(" ", s or "").strip()


def papers(which: str, n: int) -> list[tuple[str, str]]:
    snap = CORPUS / "arxiv_snapshot_sample.jsonl.gz"
    rows: list[tuple[str, str, str]] = []
    snap_ids: set[str] = set()
    with gzip.open(snap, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            snap_ids.add(r["id"])
            if which == "heldout" and zlib.crc32(r["id"].encode()) % 10 == 0:
                rows.append((r["id"], clean(r["title"]), clean(r["abstract"])))
    if which == "ood":
        with gzip.open(CORPUS / "arxiv_papers.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if r["id"] not in snap_ids:
                    rows.append((r["id"], clean(r["title"]), clean(r["abstract"])))
    rows = [r for r in rows if r[1] and r[2]]
    rng = np.random.default_rng(0)
    pick = sorted(rng.choice(len(rows), min(n, len(rows)), replace=False))
    return [(rows[i][1], rows[i][2]) for i in pick]


def recall(t: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    sims = t @ a.T
    rank = (sims > np.diag(sims)[:, None]).sum(axis=1)
    return float((rank < 1).mean()), float((rank < 10).mean())


def top10(a: np.ndarray) -> np.ndarray:
    sims = a @ a.T
    np.fill_diagonal(sims, -np.inf)
    return np.argpartition(-sims, 10, axis=1)[:, :10]


def run(name: str | None, data: list[tuple[str, str]]) -> dict:
    t0 = time.perf_counter()
    emb = load_embedder(name)
    load_s = time.perf_counter() - t0
    titles, abstracts = [t for t, _ in data], [a for _, a in data]
    emb.embed(abstracts[:64])  # warm-up: first-call allocations are not throughput
    t0 = time.perf_counter()
    tv = emb.embed(titles)
    title_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    av = emb.embed(abstracts)
    abs_s = time.perf_counter() - t0
    r1, r10 = recall(tv, av)
    out = {
        "name": emb.name,
        "dim": emb.dim,
        "load_s": load_s,
        "r1": r1,
        "r10": r10,
        "abs_per_s": len(data) / abs_s,
        "titles_per_s": len(data) / title_s,
        "av": av,
    }
    print(
        f"{emb.name:<24} dim {emb.dim:>3}  recall@1 {r1:.4f}  recall@10 {r10:.4f}  "
        f"abstracts/s {out['abs_per_s']:>8.1f}  titles/s {out['titles_per_s']:>9.1f}  "
        f"load {load_s:.1f}s",
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--set", choices=("heldout", "ood"), default="heldout")
    ap.add_argument("--skip-minilm", action="store_true")
    args = ap.parse_args()
    if not (CORPUS / "arxiv_snapshot_sample.jsonl.gz").exists():
        print(f"skipped: corpus not found at {CORPUS}")
        return
    data = papers(args.set, args.n)
    words = np.median([len(a.split()) for _, a in data])
    print(f"{len(data)} papers ({args.set}), median abstract {words:.0f} words")
    ours = run(None, data)
    if args.skip_minilm:
        return
    try:
        peer = run("minilm", data)
    except ConfigError as e:  # the 'minilm' extra is not installed
        print(f"peer skipped: {e}")
        return
    a, b = top10(ours["av"]), top10(peer["av"])
    shared = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b)])
    print(
        f"ratio default/minilm: speed x{ours['abs_per_s'] / peer['abs_per_s']:.1f}, "
        f"recall@1 {ours['r1'] / peer['r1']:.3f}, recall@10 {ours['r10'] / peer['r10']:.3f}; "
        f"abstract->abstract top-10 shared with minilm: {shared:.3f}"
    )


if __name__ == "__main__":
    main()
