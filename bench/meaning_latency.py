"""Per-call latency of `similar`, `search --semantic` and `recommend` in a long-running process, against the
per-call reload the first version did (every call read every vector and the index again), and the cold CLI cost.

    python bench/meaning_latency.py --papers 1000000          # builds bench/data/meaning_1000000.db first

The library is a snapshot generated from the real corpus (bench/make_snapshot.py), imported with `paperscope import
--no-embed`; its vectors are the shipped embedder's for a real-text subset and, for speed of building the
benchmark, category-centred synthetic unit vectors for the rest (`--real-embed` embeds every paper instead; the
latency of a lookup depends on the count and the index, not on what the vectors mean). Figures: median of
--repeat calls after the first, the first call, and the ratio against a fresh Library per call (the old path).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
QUERIES = ["reward hacking in preference optimisation", "noisy correspondence in image-text retrieval",
           "diffusion models for video generation", "graph neural networks for molecules",
           "hallucination in vision language models", "speculative decoding for large language models"]


def build(db: Path, n: int, real_embed: bool) -> None:
    from paperscope.semantic.embed import load_embedder, paper_text
    from paperscope.store.sqlite import SQLiteStore

    snap = HERE / "data" / f"snapshot_{n}.jsonl"
    if not snap.exists():
        subprocess.run([sys.executable, str(HERE / "make_snapshot.py"), "--n", str(n), "--out", str(snap)], check=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "paperscope", "--db", str(db), "import", str(snap), "--no-embed"],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"built library: {n:,} papers imported in {time.perf_counter() - t:.0f} s")
    emb = load_embedder()
    t = time.perf_counter()
    with SQLiteStore(db) as store:
        store.set_active_model(emb.name)
        rng = np.random.default_rng(7)
        centres: dict[str, np.ndarray] = {}
        real_every = 1 if real_embed else 50
        for rows in store.papers_to_embed(emb.name, batch=20_000):
            vecs = np.empty((len(rows), emb.dim), dtype=np.float32)
            real = [j for j, (i, *_rest) in enumerate(rows) if real_embed or zlib.crc32(i.encode()) % real_every == 0]
            if real:
                vecs[real] = emb.embed([paper_text(rows[j][2], rows[j][3]) for j in real])
            for j, (i, _v, title, _a) in enumerate(rows):
                if j in set(real):
                    continue
                key = title.split()[0].lower() if title.split() else ""
                c = centres.setdefault(key, rng.standard_normal(emb.dim).astype(np.float32))
                v = c + 0.8 * rng.standard_normal(emb.dim).astype(np.float32)
                vecs[j] = v / np.linalg.norm(v)
            store.save_embeddings(emb.name, [(i, v, vecs[j]) for j, (i, v, _t, _a) in enumerate(rows)])
    print(f"built vectors: {time.perf_counter() - t:.0f} s")


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--real-embed", action="store_true")
    ap.add_argument("--reload-repeat", type=int, default=2, help="calls of the per-call-reload peer (slow)")
    args = ap.parse_args()
    db = args.db or HERE / "data" / f"meaning_{args.papers}.db"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        build(db, args.papers, args.real_embed)

    from paperscope.config import Config
    from paperscope.library import Library
    from paperscope.service import meaning, papers

    lib = Library.open(db, Config(None), readonly=True)
    n = lib.store.count()
    rng = np.random.default_rng(1)
    ids = [r[0] for r in lib.store.conn.execute("SELECT arxiv_id FROM papers ORDER BY random() LIMIT 200")]
    libfile = HERE / "data" / "meaning_library.txt"
    libfile.write_text("\n".join(ids[:20]) + "\n", encoding="utf-8")

    calls = {
        "similar": lambda i: meaning.similar(lib, ids[20 + i % 150], k=10),
        "search --semantic": lambda i: papers.search(lib, QUERIES[i % len(QUERIES)], semantic=True, limit=20),
        "recommend": lambda i: meaning.recommend(lib, libfile, days=30, limit=20),
    }
    print(f"library: {n:,} papers, vectors of {lib.store.active_model()}")
    print(f"{'call':20} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'reload/call ms':>15} {'ratio':>7}  aim <= 20 ms")
    for name, fn in calls.items():
        first = timed(lambda: fn(0))
        warm = sorted(timed(lambda i=i: fn(i)) for i in range(1, args.repeat + 1))
        # the old path: a new Library (vectors and index loaded again) for every call
        reload = []
        for i in range(args.reload_repeat):
            fresh = Library.open(db, Config(None), readonly=True)
            peer = {"similar": lambda: meaning.similar(fresh, ids[20 + i], k=10),
                    "search --semantic": lambda: papers.search(fresh, QUERIES[i], semantic=True, limit=20),
                    "recommend": lambda: meaning.recommend(fresh, libfile, days=30, limit=20)}[name]
            reload.append(timed(peer))
            fresh.close()
        p50 = statistics.median(warm)
        r50 = statistics.median(reload)
        print(f"{name:20} {first:9.0f} {p50:8.1f} {warm[int(0.95 * (len(warm) - 1))]:8.1f} {r50:15.0f} "
              f"{r50 / p50:6.0f}x  {'MET' if p50 <= 20 else 'not met'}")
    cli = []
    for i in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "paperscope", "--db", str(db), "similar", ids[30 + i], "-k", "10"],
                       check=True, stdout=subprocess.DEVNULL)
        cli.append(time.perf_counter() - t)
    print(f"cold CLI `paperscope similar` (fresh process each, caches beside the library): "
          f"{', '.join(f'{c:.2f} s' for c in cli)}")
    _ = rng


if __name__ == "__main__":
    main()
