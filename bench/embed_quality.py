"""Embedding quality and speed: the default embedder against all-MiniLM-L6-v2 (sentence-transformers).

Task: embed every title and every abstract of N real papers; for each title, rank all
abstracts by cosine similarity; recall@1 / recall@10 = share of titles whose own abstract
comes first / in the top 10. Only papers that tools/build_static_model.py keeps out of
training (a stable hash, see its docstring) are used:
- in-domain (`heldout`): arxiv_snapshot_sample.jsonl.gz (arXiv cs, mostly CV/CL/AI);
- out of domain (`ood`): arxiv_papers.jsonl.gz (time series / GNN / trajectory), ids that are
  also in the snapshot left out;
- `conf` (optional): conference papers of citations/conference_papers_gs.jsonl.gz.
Speed: abstracts embedded per second (the abstract pass is timed; titles are printed too).
Also: how many of each abstract's 10 nearest abstracts the default and MiniLM share.

MiniLM's vectors of a set are cached under bench/data/ (git-ignored; ~3 minutes a set on
2 cores); its speed is still measured in every run, on --speed-n abstracts of each set.
`--extra DIR` adds other static model folders (e.g. an older default) to the same run.

    python bench/embed_quality.py [--n 5000] [--set heldout,ood] [--skip-minilm] [--extra DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

from paperscope.errors import ConfigError
from paperscope.semantic import DEFAULT_MODEL, load_embedder
from paperscope.semantic.embed import Embedder, StaticEmbedder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_static_model as build

CACHE = ROOT / "bench" / "data"
LABEL = {"heldout": "in-domain", "ood": "out of domain", "conf": "conference"}


def papers(which: str, n: int) -> list[tuple[str, str]]:
    """N held-out (title, abstract) pairs of a set, a fixed random sample."""
    source = {"heldout": "snapshot"}.get(which, which)
    snap_ids = {r["id"] for r, _, _ in build.records("snapshot")} if which == "ood" else set()
    rows = [
        (t, a)
        for r, t, a in build.records(source)
        if build.held_out(source, r) and r.get("id") not in snap_ids
    ]
    rng = np.random.default_rng(0)
    pick = sorted(rng.choice(len(rows), min(n, len(rows)), replace=False))
    return [rows[i] for i in pick]


def recall(t: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    sims = t @ a.T
    rank = (sims > np.diag(sims)[:, None]).sum(axis=1)
    return float((rank < 1).mean()), float((rank < 10).mean())


def top10(a: np.ndarray) -> np.ndarray:
    sims = a @ a.T
    np.fill_diagonal(sims, -np.inf)
    return np.argpartition(-sims, 10, axis=1)[:, :10]


def timed(emb: Embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    emb.embed(texts[:64])  # warm-up: first-call allocations are not throughput
    t0 = time.perf_counter()
    v = emb.embed(texts)
    return v, len(texts) / (time.perf_counter() - t0)


def run(emb: Embedder, data: list[tuple[str, str]], speed_n: int, cache: Path | None) -> dict:
    titles, abstracts = [t for t, _ in data], [a for _, a in data]
    if cache is not None and cache.exists():
        z = np.load(cache)
        tv, av = z["t"], z["a"]
        # Quality from the cached vectors; speed measured now, on a slice of the same abstracts.
        _, abs_s = timed(emb, abstracts[:speed_n])
        _, title_s = timed(emb, titles[:speed_n])
        note = f"cached vectors; speed on {min(speed_n, len(data))}"
    else:
        tv, title_s = timed(emb, titles)
        av, abs_s = timed(emb, abstracts)
        note = ""
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, t=tv, a=av)
    r1, r10 = recall(tv, av)
    print(
        f"  {emb.name:<24} recall@1 {r1:.4f}  recall@10 {r10:.4f}  "
        f"abstracts/s {abs_s:>8.1f}  titles/s {title_s:>9.1f}  {note}",
        flush=True,
    )
    return {"name": emb.name, "r1": r1, "r10": r10, "abs_per_s": abs_s, "av": av}


def cache_file(which: str, data: list[tuple[str, str]]) -> Path:
    h = hashlib.sha256("\x00".join(t + "\x01" + a for t, a in data).encode()).hexdigest()[:12]
    return CACHE / f"minilm-{which}-{len(data)}-{h}.npz"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--set", default="heldout,ood", help="comma list of heldout, ood, conf")
    ap.add_argument("--skip-minilm", action="store_true")
    ap.add_argument("--no-cache", action="store_true", help="re-embed with MiniLM, do not cache")
    ap.add_argument("--speed-n", type=int, default=1000, help="abstracts timed when cached")
    ap.add_argument("--extra", type=Path, action="append", default=[], help="another model folder")
    args = ap.parse_args()
    if not (build.CORPUS / "arxiv_snapshot_sample.jsonl.gz").exists():
        print(f"skipped: corpus not found at {build.CORPUS}")
        return
    ours = [load_embedder(None)] + [StaticEmbedder(d) for d in args.extra]
    peer: Embedder | None = None
    if not args.skip_minilm:
        try:
            peer = load_embedder("minilm", device="cpu")
        except ConfigError as e:  # the 'minilm' extra is not installed
            print(f"peer skipped: {e}")
    summary = []
    for which in args.set.split(","):
        data = papers(which, args.n)
        words = np.median([len(a.split()) for _, a in data])
        print(f"{LABEL[which]} ({which}): {len(data)} held-out papers, median abstract {words:.0f} words")
        results = [run(e, data, len(data), None) for e in ours]
        if peer is None:
            continue
        p = run(peer, data, args.speed_n, None if args.no_cache else cache_file(which, data))
        b = top10(p["av"])
        for o in results:
            shared = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(top10(o["av"]), b)])
            line = (
                f"  ratio {o['name']}/minilm ({LABEL[which]}): recall@1 {o['r1'] / p['r1']:.3f}, "
                f"recall@10 {o['r10'] / p['r10']:.3f}, speed x{o['abs_per_s'] / p['abs_per_s']:.1f}; "
                f"top-10 abstract neighbours shared {shared:.3f}"
            )
            print(line, flush=True)
            summary.append(line)
    if summary:
        print(f"summary (default = {DEFAULT_MODEL}):")
        print("\n".join(summary))


if __name__ == "__main__":
    main()
