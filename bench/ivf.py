"""IvfIndex (semantic/ivf.py) against hnswlib (semantic/index.py's VectorIndex), same run.

Data: the 57,821 real papers of /work/shared/corpus/arxiv_snapshot_sample.jsonl.gz embedded
with the shipped model (cached in /tmp/ivf_vecs.npy + /tmp/ivf_days.npy, days = first
submission), and synthetic sizes made from them: each synthetic row is a random real vector
plus a random vector of norm 0.3, renormalised, with a day drawn uniformly from 2007-01-01 ..
2026-12-31. Synthetic rows are easier than real ones (each has ~n/57,821 noisy siblings), so
the real-size figures are the honest recall figures.

Per size it prints: build time and disk size (IVF float16 and int8; hnswlib graph + npz),
recall@10 against exact search for `similar` queries, recall@10 and mean |novelty error| for
nearest-earlier queries (novelty = 1 - mean cos of the 10 neighbours; truth from float32
brute force), fresh-process open+search (a new python process: imports, open, one query; page
cache warm), warm single-query p50, add(1,000) (durable) and nearest-earlier for those 1,000,
bulk nearest-earlier throughput (a child process, with its peak RSS, 1 and 2 threads). The
hnswlib peer: build, disk, recall, fresh-process load+search, warm p50, add(1,000), and
nearest-earlier as a filtered knn_query (the graph holds every day), up to --hnsw-max rows.
Time figures are noisy on a shared machine: compare the ratios printed in the same run.

    PYTHONPATH=src python bench/ivf.py [--sizes real,1000000] [--hnsw-max 300000] [--bulk 20000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from paperscope.semantic.index import VectorIndex  # noqa: E402
from paperscope.semantic.ivf import IvfIndex  # noqa: E402

CORPUS = Path("/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz")
CACHE_V, CACHE_D = Path("/tmp/ivf_vecs.npy"), Path("/tmp/ivf_days.npy")
K = 10
DAY0 = date(2007, 1, 1).toordinal() - 719163
DAY1 = date(2026, 12, 31).toordinal() - 719163


def real_vectors() -> tuple[np.ndarray, np.ndarray]:
    if CACHE_V.exists() and CACHE_D.exists():
        return np.load(CACHE_V), np.load(CACHE_D)
    from email.utils import parsedate_to_datetime

    from paperscope.semantic.embed import load_embedder, paper_text
    from paperscope.semantic.novelty import to_days

    texts, dates = [], []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if not r.get("abstract"):
                continue
            texts.append(paper_text(r["title"], r["abstract"]))
            v = r.get("versions")
            dates.append(
                parsedate_to_datetime(v[0]["created"]).date().isoformat() if v else r["update_date"]
            )
    x = np.asarray(load_embedder().embed(texts), dtype=np.float32)
    d = to_days(dates).astype(np.int32)
    np.save(CACHE_V, x)
    np.save(CACHE_D, d)
    return x, d


def synthetic(x: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = np.empty((n, x.shape[1]), np.float32)
    for s in range(0, n, 200_000):
        e = min(n, s + 200_000)
        noise = rng.standard_normal((e - s, x.shape[1])).astype(np.float32)
        noise *= 0.3 / np.linalg.norm(noise, axis=1, keepdims=True)
        blk = x[rng.integers(0, len(x), e - s)] + noise
        y[s:e] = blk / np.linalg.norm(blk, axis=1, keepdims=True)
    return y, rng.integers(DAY0, DAY1 + 1, n).astype(np.int32)


def truths(x, days, qi, k=K):
    """Exact top k (excluding the query) and exact top k strictly earlier, float32 brute force."""
    sim_k, ear_k, ear_s = [], [], []
    for s in range(0, len(qi), 50):
        q = x[qi[s : s + 50]]
        sims = q @ x.T
        sims[np.arange(len(q)), qi[s : s + 50]] = -np.inf
        sim_k.append(np.argsort(-sims, axis=1)[:, :k])
        sims[days[None, :] >= days[qi[s : s + 50]][:, None]] = -np.inf
        o = np.argsort(-sims, axis=1)[:, :k]
        ear_k.append(o)
        ear_s.append(np.take_along_axis(sims, o, axis=1))
    return np.vstack(sim_k), np.vstack(ear_k), np.vstack(ear_s)


def recall(found, truth, valid=None):
    out = []
    for i in range(len(truth)):
        t = truth[i] if valid is None else truth[i][valid[i]]
        if len(t):
            out.append(len(set(found[i].tolist()) & set(t.tolist())) / len(t))
    return float(np.mean(out))


def novelty_err(sims, true_sims):
    ok = np.isfinite(true_sims).all(axis=1)
    a = 1 - np.mean(np.where(np.isfinite(sims), sims, 0), axis=1)
    b = 1 - np.mean(true_sims, axis=1)
    return float(np.mean(np.abs(a - b)[ok]))


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def child(code: str) -> dict:
    """Run code in a fresh python; it prints one JSON line. Adds wall time and peak RSS."""
    pre = "import json,time,sys\nsys.path.insert(0, %r)\n" % str(SRC)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
    post = (
        "\nhwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]"
        "\nout['rss_mb']=int(hwm)/1024\nprint(json.dumps(out))"
    )
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", pre + code + post], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode:
        raise RuntimeError(r.stderr)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["wall"] = wall
    return out


def p50(fn, reps):
    ts = []
    for i in range(reps):
        t = time.perf_counter()
        fn(i)
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def bench_size(label, x, days, args, work: Path):
    n = len(x)
    rng = np.random.default_rng(1)
    keys = np.arange(n, dtype=np.int64)
    qi = rng.choice(n, args.queries, replace=False)
    t = time.perf_counter()
    sim_t, ear_t, ear_s = truths(x, days, qi)
    print(f"\n== {label}: n = {n:,} ({args.queries} sampled queries; truth {time.perf_counter() - t:.0f} s)")
    ear_valid = np.isfinite(ear_s)
    new_x, _ = synthetic(x, 1000, np.random.default_rng(7))
    new_keys = np.arange(n, n + 1000, dtype=np.int64)
    new_days = np.full(1000, int(days.max()) + 1, np.int32)
    q1 = x[qi]

    res = {}
    for dtype in args.dtypes.split(","):
        folder = work / f"ivf-{dtype}"
        t = time.perf_counter()
        idx = IvfIndex.build(folder, keys, x, days, dtype=dtype, exact_below=args.exact_below)
        build_s = time.perf_counter() - t
        print(f"IVF {dtype}: build {build_s:.1f} s, {idx.lists} lists, disk {du(folder) / 2**20:.0f} MiB")
        for p in args.nprobes:
            f, s = idx.search(q1, K + 1, nprobe=p)
            f = np.array([[v for v in row if v != qi[i]][:K] for i, row in enumerate(f)])
            nb, ns, _ = idx.nearest_earlier(qi, K, nprobe=p)
            print(
                f"  nprobe {p:3d}: similar recall@10 {recall(f, sim_t):.3f}   nearest-earlier recall@10 "
                f"{recall(nb, ear_t, ear_valid):.3f}, mean |novelty error| {novelty_err(ns, ear_s):.4f}"
            )
        res[dtype] = (idx, folder, build_s)

    dtype = args.dtypes.split(",")[0]
    idx, folder, build_s = res[dtype]
    print(f"IVF {dtype} at nprobe {idx.nprobe} (default):")
    warm = p50(lambda i: idx.search(q1[i % len(q1)], K), 100)
    code = (
        "t=time.perf_counter()\nimport numpy as np\nfrom paperscope.semantic.ivf import IvfIndex\n"
        f"t0=time.perf_counter(); idx=IvfIndex.open({str(folder)!r}); t1=time.perf_counter()\n"
        f"q=idx.vectors([{int(qi[0])}])\nk,s=idx.search(q,10,exclude={{{int(qi[0])}}})\n"
        "out={'imports':t0-t,'open':t1-t0,'open_search':time.perf_counter()-t}"
    )
    fresh = child(code)
    bulk_keys = rng.choice(n, min(n, args.bulk), replace=False)
    np.save(work / "bulk.npy", bulk_keys)
    code = (
        "import numpy as np\nfrom paperscope.semantic.ivf import IvfIndex\n"
        f"idx=IvfIndex.open({str(folder)!r}); keys=np.load({str(work / 'bulk.npy')!r})\n"
        "t=time.perf_counter(); nb,s,ne=idx.nearest_earlier(keys,10)\n"
        "t1=time.perf_counter(); nb,s,ne=idx.nearest_earlier(keys,10,threads=2)\n"
        "out={'bulk':t1-t,'bulk2':time.perf_counter()-t1}"
    )
    bulk = child(code)
    t = time.perf_counter()
    idx.add(new_keys, new_x, new_days)
    add_s = time.perf_counter() - t
    t = time.perf_counter()
    idx.nearest_earlier(new_keys, K)
    ne_new = time.perf_counter() - t
    print(
        f"  fresh process: imports {fresh['imports'] * 1000:.0f} ms, open {fresh['open'] * 1000:.0f} ms, imports+open+search {fresh['open_search'] * 1000:.0f} ms, "
        f"whole process {fresh['wall']:.2f} s, peak RSS {fresh['rss_mb']:.0f} MB\n"
        f"  warm search p50 {warm * 1000:.2f} ms\n"
        f"  bulk nearest-earlier: {len(bulk_keys):,} queries in {bulk['bulk']:.1f} s = "
        f"{len(bulk_keys) / bulk['bulk']:,.0f} q/s; threads=2: {len(bulk_keys) / bulk['bulk2']:,.0f} q/s "
        f"(child peak RSS {bulk['rss_mb']:.0f} MB)\n"
        f"  add(1,000) {add_s * 1000:.0f} ms; nearest-earlier for those 1,000 {ne_new * 1000:.0f} ms"
    )

    if n > args.hnsw_max:
        print(f"hnswlib: skipped above --hnsw-max {args.hnsw_max:,}")
        return
    vi = VectorIndex(dim=x.shape[1], exact_below=0, threads=args.threads)
    t = time.perf_counter()
    vi.add(keys, x)
    h_build = time.perf_counter() - t
    path = work / "hnsw.vindex"
    vi.save(path)
    h_disk = du(path) + du(Path(str(path) + ".hnsw"))
    f, _ = vi.search(q1, K + 1)
    f = np.array([[v for v in row if v != qi[i]][:K] for i, row in enumerate(f)])
    h_rec = recall(f, sim_t)
    h_warm = p50(lambda i: vi.search(q1[i % len(q1)], K), 100)
    code = (
        "t=time.perf_counter()\nimport numpy as np\nfrom paperscope.semantic.index import VectorIndex\n"
        f"t0=time.perf_counter(); vi=VectorIndex.load({str(path)!r}); t1=time.perf_counter()\n"
        f"q=vi.vectors([{int(qi[0])}])\nk,s=vi.search(q,11)\n"
        "out={'imports':t0-t,'open':t1-t0,'open_search':time.perf_counter()-t}"
    )
    h_fresh = child(code)
    # Nearest-earlier with hnswlib: a filter per query (the graph holds every day).
    allowed = [set(np.flatnonzero(days < days[i]).tolist()) for i in qi[:50]]
    t = time.perf_counter()
    hk, hs = [], []
    for i, a in zip(qi[:50], allowed):
        kk, ss = vi._ann.knn_query(x[i : i + 1], k=K, filter=a.__contains__)
        hk.append(kk[0])
        hs.append(1 - ss[0])
    h_ne = (time.perf_counter() - t) / 50
    h_ear = recall(np.array(hk), ear_t[:50], ear_valid[:50])
    t = time.perf_counter()
    vi.add(new_keys, new_x)
    h_add = time.perf_counter() - t
    i_fresh, i_warm = fresh["open_search"], warm
    print(
        f"hnswlib (VectorIndex, M=16, efC=100, ef=64, {args.threads} threads): build {h_build:.1f} s "
        f"(IVF/hnswlib {build_s / h_build:.2f}x), disk {h_disk / 2**20:.0f} MiB (IVF/hnswlib {du(folder) / h_disk:.2f}x)\n"
        f"  similar recall@10 {h_rec:.3f}; nearest-earlier by filter: recall@10 {h_ear:.3f}, "
        f"{h_ne * 1000:.1f} ms/query = {1 / h_ne:,.0f} q/s (IVF bulk 1 thread is {len(bulk_keys) / bulk['bulk'] * h_ne:.1f}x faster)\n"
        f"  fresh process: imports {h_fresh['imports'] * 1000:.0f} ms, load {h_fresh['open'] * 1000:.0f} ms, imports+load+search "
        f"{h_fresh['open_search'] * 1000:.0f} ms (IVF/hnswlib {i_fresh / h_fresh['open_search']:.3f}x), "
        f"peak RSS {h_fresh['rss_mb']:.0f} MB\n"
        f"  warm search p50 {h_warm * 1000:.2f} ms (IVF/hnswlib {i_warm / h_warm:.2f}x); add(1,000) "
        f"{h_add * 1000:.0f} ms (IVF/hnswlib {add_s / h_add:.2f}x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="real,1000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--nprobes", default="8,16,32,64")
    ap.add_argument("--dtypes", default="int8,float16", help="the first is timed")
    ap.add_argument("--hnsw-max", type=int, default=300_000)
    ap.add_argument("--bulk", type=int, default=20_000)
    ap.add_argument("--exact-below", type=int, default=0, help="0: IVF even for the real size")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    args.nprobes = [int(v) for v in args.nprobes.split(",")]
    real_x, real_d = real_vectors()
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs; real vectors {real_x.shape}")
    for size in args.sizes.split(","):
        work = Path(tempfile.mkdtemp(prefix="ivfbench-"))
        try:
            if size == "real":
                bench_size("real papers", real_x, real_d, args, work)
            else:
                x, d = synthetic(real_x, int(size), np.random.default_rng(int(size)))
                bench_size(f"synthetic {int(size):,}", x, d, args, work)
                del x, d
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
