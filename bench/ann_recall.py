"""ANN recall@10 against exact search on real paper vectors, and query speed against numpy.

Embeds every paper of /work/shared/corpus (both arXiv files) with the default embedder, then
for 1,000 query papers compares each HNSW library's top 10 with the exact top 10.
Peer: exact numpy search (the ratio is ANN queries/s over exact queries/s).

    python bench/ann_recall.py [--queries 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np

from paperscope.semantic import VectorIndex, load_embedder, paper_text
from paperscope.semantic.index import top_k

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_texts() -> list[str]:
    texts, seen = [], set()
    for name in ("arxiv_snapshot_sample.jsonl.gz", "arxiv_papers.jsonl.gz"):
        with gzip.open(CORPUS / name, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if r["id"] not in seen and r.get("abstract"):
                    seen.add(r["id"])
                    texts.append(paper_text(r["title"], r["abstract"]))
    return texts


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / truth.shape[1] for a, b in zip(found, truth)]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()
    if not (CORPUS / "arxiv_snapshot_sample.jsonl.gz").exists():
        print(f"skipped: corpus not found at {CORPUS}")
        return
    emb = load_embedder()
    texts = corpus_texts()
    t0 = time.perf_counter()
    x = emb.embed(texts)
    print(
        f"{len(x)} papers embedded with {emb.name} (dim {emb.dim}) in {time.perf_counter() - t0:.1f}s"
    )
    keys = np.arange(len(x), dtype=np.int64)
    rng = np.random.default_rng(0)
    q = x[rng.choice(len(x), args.queries, replace=False)]
    k = args.k

    t0 = time.perf_counter()
    truth = np.concatenate([top_k(q[s : s + 256] @ x.T, keys, k)[0] for s in range(0, len(q), 256)])
    exact_qps = len(q) / (time.perf_counter() - t0)
    print(f"exact numpy: {exact_qps:,.0f} queries/s (peer)")
    print(f"{'library':<28}{'build s':>9}{'recall@10':>11}{'queries/s':>11}{'x exact':>9}")

    def report(name: str, build_s: float, found: np.ndarray, qs: float) -> None:
        print(
            f"{name:<28}{build_s:>9.1f}{recall(found, truth):>11.4f}{qs:>11,.0f}{qs / exact_qps:>9.1f}"
        )

    try:
        import hnswlib

        for ef in (32, 64, 128):
            t0 = time.perf_counter()
            h = hnswlib.Index(space="ip", dim=x.shape[1])
            h.init_index(max_elements=len(x), M=16, ef_construction=100, random_seed=100)
            h.add_items(x, keys, num_threads=args.threads)
            build = time.perf_counter() - t0
            h.set_ef(ef)
            t0 = time.perf_counter()
            labels, _ = h.knn_query(q, k=k, num_threads=args.threads)
            report(f"hnswlib M16 efc100 ef{ef}", build, labels, len(q) / (time.perf_counter() - t0))
    except ImportError:
        print("hnswlib not installed: skipped")
    try:
        from usearch.index import Index

        for ef in (32, 64, 128):
            t0 = time.perf_counter()
            u = Index(
                ndim=x.shape[1],
                metric="ip",
                dtype="f32",
                connectivity=16,
                expansion_add=100,
                expansion_search=ef,
            )
            u.add(keys, x, threads=args.threads)
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            m = u.search(q, k, threads=args.threads)
            report(f"usearch M16 efc100 ef{ef}", build, m.keys, len(q) / (time.perf_counter() - t0))
    except ImportError:
        print("usearch not installed: skipped")
    try:
        import faiss

        faiss.omp_set_num_threads(args.threads)
        for ef in (32, 64, 128):
            t0 = time.perf_counter()
            f = faiss.IndexHNSWFlat(x.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
            f.hnsw.efConstruction = 100
            f.add(x)
            build = time.perf_counter() - t0
            f.hnsw.efSearch = ef
            t0 = time.perf_counter()
            _, labels = f.search(q, k)
            report(f"faiss HNSWFlat M16 ef{ef}", build, labels, len(q) / (time.perf_counter() - t0))
    except ImportError:
        print("faiss not installed: skipped")

    # paperscope's own wrapper, as the store will use it (hnswlib underneath).
    t0 = time.perf_counter()
    idx = VectorIndex(dim=x.shape[1], exact_below=20_000, threads=args.threads)
    idx.add(keys, x)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    found, _ = idx.search(q, k)
    report("VectorIndex (hnswlib ef64)", build, found, len(q) / (time.perf_counter() - t0))
    allowed = keys % 2 == 0  # half the library, e.g. one category
    t0 = time.perf_counter()
    found, _ = idx.search(q, k, allowed=allowed)
    qs = len(q) / (time.perf_counter() - t0)
    sub = keys[allowed]
    truth_f = np.concatenate(
        [top_k(q[s : s + 256] @ x[sub].T, sub, k)[0] for s in range(0, len(q), 256)]
    )
    print(
        f"{'VectorIndex filtered (1/2)':<28}{'':>9}{recall(found, truth_f):>11.4f}{qs:>11,.0f}"
        f"{qs / exact_qps:>9.1f}"
    )


if __name__ == "__main__":
    main()
