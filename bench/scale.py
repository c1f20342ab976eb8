"""The whole of arXiv on one laptop: every stage from an empty library to a scored one, the daily increment, and reads.

    python bench/scale.py --papers 2900000                 # one size
    python bench/scale.py --papers 100000 300000 1000000 2900000   # growth: each stage per size, factor per 10x
    python bench/scale.py --papers 2900000 --reads         # only the reads again, on the library a run left

The snapshot of each size is generated from the real corpus by bench/make_snapshot.py (ids, dates and categories
in arXiv's proportions over 2007-2026; texts of real papers), once, into bench/data/. Each stage runs as its own
`paperscope` process, the way a researcher runs it, and is measured by wall time, the largest process's peak RSS,
the peak memory of all its processes together (worker processes included; proportional set sizes, sampled each
second) and how many cores were busy on average (CPU seconds of all its processes / wall seconds):

  import (snapshot -> library with full-text index and code links), embed (vectors + the vector index beside the
  library), novelty (every paper against the earlier ones, percentiles in cohorts), score (AI Score),

then disk use, then the daily increment (1,000 new papers dated after the snapshot: import, embed, novelty, AI
Score and digest, in one process as `paperscope run` does them, each part timed), then reads: in one long-running
process the p50 of a topic digest, full-text search, `similar`, an author profile and a broad author name
("Wang", "Y. Li": reported, no aim); from fresh processes
`paperscope similar` (median of 3). Each figure is printed beside its aim from issue #12.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
AIMS = {  # at 2.9M papers (issue #12)
    "import": ("s", 180.0), "pipeline": ("s", 1800.0), "peak_rss": ("GB", 6.0), "peak_mem": ("GB", 6.0),
    "daily": ("s", 15.0),
    "digest_p50": ("ms", 10.0), "search_p50": ("ms", 50.0), "similar_p50": ("ms", 20.0), "author_p50": ("ms", 100.0),
    "similar_cold": ("s", 1.0),
}


# Names shared by thousands of authors (a bare surname, a surname with an initial): reported, no aim in #12.
BROAD_NAMES = ["Wang", "X. Wang", "Y. Li", "Zhang"]


def snapshot(n: int) -> Path:
    path = DATA / f"snapshot_{n}.jsonl.gz"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "make_snapshot.py"), "--n", str(n), "--out", str(path)], check=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return path


def run_stage(args: list[str], db: Path, config: Path, src: Path | None = None
              ) -> tuple[float, float, dict[str, Any], float, float]:
    """Run one `paperscope` command in a fresh process (the code of `src`, default this checkout's): (seconds, peak
    RSS in GB, its --json output, CPU seconds of it and its worker processes, peak memory of all its processes
    together in GB)."""
    import threading

    cmd = [sys.executable, "-m", "paperscope", "--db", str(db), "--config", str(config), *args]
    env = {**os.environ, "PYTHONPATH": str(src or ROOT / "src")}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = [0.0]

    def watch() -> None:  # once a second: the stage's worker processes count too
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_pss_gb(proc.pid))
            time.sleep(1.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    secs = time.perf_counter() - t
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"stage {' '.join(args)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    rss = _child_peak_gb()
    try:
        data = json.loads(out) if out.strip() else {}
    except ValueError:
        data = {"output": out.decode()[-500:]}
    return secs, rss, data, _child_cpu_s(), max(peak[0], rss)


def tree_pss_gb(root: int) -> float:
    """Memory of a process and all its descendants in GB: the sum of their proportional set sizes (a page shared
    by n of them counts 1/n in each), from Linux's /proc; 0 elsewhere."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0.0
    for d in entries:
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    kb, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                kb += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
        except OSError:
            pass  # ended meanwhile
    return kb / 1e6


def _child_peak_gb() -> float:
    """Peak RSS of the child that just ended: resource reports the largest child so far, so each stage runs in a
    child of a fresh helper process (see `stage`)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6


def _child_cpu_s() -> float:
    """User + system CPU seconds of the children ended so far (a stage's reaped workers count in it)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def stage(args: list[str], db: Path, config: Path, src: Path | None = None
          ) -> tuple[float, float, dict[str, Any], float, float]:
    """One stage in a helper process whose only child is the stage, so its children's peak RSS and CPU time are
    the stage's (`src`: the code to run, default this checkout's)."""
    code = ("import json,sys; sys.path.insert(0, %r); from scale import run_stage; from pathlib import Path; "
            "s, r, d, c, m = run_stage(%r, Path(%r), Path(%r), %s); print(json.dumps([s, r, d, c, m]))"
            % (str(HERE), args, str(db), str(config), f"Path({str(src)!r})" if src else "None"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    secs, rss, data, cpu, mem = json.loads(out.stdout.strip().splitlines()[-1])
    return float(secs), float(rss), data, float(cpu), float(mem)


def disk_use(db: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in db.parent.glob(db.name + "*"):
        size = sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size
        out[p.name[len(db.name):] or "library"] = size / 1e9
    return out


def daily_file(n: int, out: Path, seed: int = 1) -> Path:
    """`n` new papers in the snapshot's shape, submitted on one day after the snapshot ends (2026-09-01), texts
    resampled from the 2.9M file's generator pools (make_snapshot's records)."""
    sys.path.insert(0, str(HERE))
    import make_snapshot as ms

    rng = random.Random(seed)
    pools = ms.load_pools(ms.SAMPLE)
    pools["archive_weights"] = {y: ms.archive_weights(y) for y in ms.MONTHLY}
    with gzip.open(out, "wb") as f:
        for i in range(1, n + 1):
            r = ms.make_record(f"2609.{i:05d}", 2026, 9, pools, rng)
            created = "Tue, 1 Sep 2026 10:00:00 GMT"
            r["versions"] = [{"version": "v1", "created": created}]
            r["update_date"] = "2026-09-01"
            f.write(json.dumps(r).encode() + b"\n")
    return out


def p50(fn: Any, args: list[Any], repeat: int = 1) -> float:
    times = []
    for a in args:
        for _ in range(repeat):
            t = time.perf_counter()
            fn(a)
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000.0


def daily_and_reads(db: Path, config: Path, n_new: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "src"))
    from paperscope.library import Library
    from paperscope.service import digest, ingest, meaning

    res: dict[str, float] = {}
    new = daily_file(n_new, DATA / f"daily_{n_new}.jsonl.gz")
    with Library.open(db, config) as lib:
        t0 = time.perf_counter()
        imported = ingest.import_files(lib, [new], embed=False)
        t1 = time.perf_counter()
        meaning.embed(lib)
        t2 = time.perf_counter()
        nov = meaning.novelty(lib)
        t3 = time.perf_counter()
        sc = meaning.score(lib)
        t4 = time.perf_counter()
        built = digest.build_digest(lib)
        text = digest.render_digest(built, "markdown")
        t5 = time.perf_counter()
        res.update(daily=t5 - t0, daily_import=t1 - t0, daily_embed=t2 - t1, daily_novelty=t3 - t2,
                   daily_score=t4 - t3, daily_digest=t5 - t4)
        print(f"  daily: {imported.files[0].new} new papers; novelty for {nov.papers} ({nov.reranked} percentiles "
              f"re-ranked), {sc.papers} scored, digest {len(text):,} chars")
    res.update(reads(db, config))
    return res


def reads(db: Path, config: Path) -> dict[str, float]:
    """The reads of a library, in one long-running process (read-only), then `similar` from fresh processes."""
    sys.path.insert(0, str(ROOT / "src"))
    from paperscope.library import Library
    from paperscope.service import digest, meaning, papers, people

    res: dict[str, float] = {}
    with Library.open(db, config, readonly=True) as lib:
        rng = random.Random(0)
        keys, ids = lib.store.key_id_table()
        sample = [ids[rng.randrange(len(ids))] for _ in range(30)]
        meaning.similar(lib, sample[0])  # the first call opens the index
        res["similar_p50"] = p50(lambda i: meaning.similar(lib, i), sample[1:])
        topics = [t.name for t in lib.topics]
        digest.topic_page(lib, topics[0])
        res["digest_p50"] = p50(lambda t: digest.topic_page(lib, t), topics, repeat=5)
        queries = ['"diffusion model"', "transformer AND segmentation", "reinforcement learning NOT survey",
                   "graph neural network", '"large language model" hallucination', "quantum error correction"]
        papers.search(lib, queries[0])
        res["search_p50"] = p50(lambda q: papers.search(lib, q), queries, repeat=3)
        names = []
        for p in lib.store.get_papers(sample[:12]):
            if p.authors:
                names.append(p.authors[0].name)
        people.author_profile(lib, names[0])
        res["author_p50"] = p50(lambda n: people.author_profile(lib, n), names[1:])

        def broad(name: str) -> None:  # names shared by thousands: a profile or the list of candidates
            try:
                people.author_profile(lib, name)
            except people.AmbiguousAuthor:
                pass

        broad(BROAD_NAMES[0])
        res["author_broad_p50"] = p50(broad, BROAD_NAMES, repeat=3)
        cold = []
        for i in sample[:3]:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "paperscope", "--db", str(db), "similar", i, "--json"], check=True,
                           capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
            cold.append(time.perf_counter() - t)
        res["similar_cold"] = statistics.median(cold)
    return res


def novelty_accuracy(db: Path, sample: int = 500, seed: int = 0) -> dict[str, float]:
    """Stored novelty (from the index's compressed vectors and probed lists) against exact search over every
    full-precision vector, for `sample` random scored papers: mean |difference| and Spearman."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    from paperscope.library import Library

    with Library.open(db, readonly=True) as lib:
        store = lib.store
        model = store.active_model()
        assert model
        rows = store.conn.execute("SELECT n.arxiv_id, n.value, n.k FROM novelty n WHERE n.model = ? AND n.value IS NOT "
                                  "NULL ORDER BY random() LIMIT ?", (model, sample)).fetchall()
        ids = [r[0] for r in rows]
        k = int(rows[0][2])
        q = store.embeddings_of(model, ids)
        qv = np.stack([q[i] for i in ids]).astype(np.float32)
        day_sql = ("SELECT CAST(julianday(substr(coalesce(published, updated), 1, 10)) - 2440587.5 AS INTEGER) "
                   "FROM papers WHERE arxiv_id = ?")
        qday = np.array([store.conn.execute(day_sql, (i,)).fetchone()[0] for i in ids])
        best = np.full((len(ids), k), -np.inf, dtype=np.float32)
        last = 0
        while True:  # every stored vector once, in batches
            b = store.embeddings_since(model, last, limit=200_000)
            if not len(b.keys):
                break
            sims = qv @ b.vectors.T
            sims[b.days[None, :] >= qday[:, None]] = -np.inf
            both = np.concatenate([best, sims], axis=1)
            best = -np.sort(-both, axis=1)[:, :k] if both.shape[1] <= 4 * k else \
                np.take_along_axis(both, np.argpartition(-both, k - 1, axis=1)[:, :k], axis=1)
            last = b.last
        exact = 1.0 - best.astype(np.float64).mean(axis=1)
        stored = np.array([r[1] for r in rows], dtype=np.float64)
        return novelty_agreement(exact, stored)


COPY_NOVELTY = 1e-3  # exact novelty below this: the k nearest earlier papers are copies of the paper's own text


def _spearman(a: "np.ndarray", b: "np.ndarray") -> float:
    import numpy as np

    if len(a) < 3:
        return float("nan")
    ranks = lambda x: np.argsort(np.argsort(x))  # noqa: E731
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def novelty_agreement(exact: "np.ndarray", stored: "np.ndarray") -> dict[str, float]:
    """Stored against exact novelty: over all the sampled papers, and apart for the papers whose k nearest earlier
    papers are copies of their own text. The generated snapshots reuse each of the sample's 57,821 real texts
    (about 50 times at 2.9M), so from its k+1-th use on a paper's exact novelty is 0 (to float rounding) and the
    order among those papers is the compressed vectors' rounding alone: a Spearman over all papers then measures
    how many copies the generator made, not how well the index ranks. A real library has few such papers."""
    import numpy as np

    copies = exact < COPY_NOVELTY
    rest = ~copies
    return {"novelty_abs_err": float(np.abs(exact - stored).mean()), "novelty_spearman": _spearman(exact, stored),
            "novelty_copies_share": float(copies.mean()),
            "novelty_abs_err_distinct": float(np.abs(exact[rest] - stored[rest]).mean()) if rest.any() else 0.0,
            "novelty_spearman_distinct": _spearman(exact[rest], stored[rest])}


def one_size(n: int, keep: bool, n_new: int) -> dict[str, float]:
    src = snapshot(n)
    work = DATA / f"scale_{n}"
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    db, config = work / "library.db", work / "config.toml"
    sys.path.insert(0, str(ROOT / "src"))
    from paperscope.service.pipeline import demo_config

    demo_config(config)
    res: dict[str, float] = {}
    print(f"== {n:,} papers ({src.name}); load average {os.getloadavg()[0]:.1f}", flush=True)
    for name, args in (("import", ["import", str(src), "--no-embed", "--json"]), ("embed", ["embed", "--json"]),
                       ("novelty", ["novelty", "--json"]), ("score", ["score", "--json"])):
        secs, rss, _, cpu, mem = stage(args, db, config)
        res[name], res[f"{name}_rss"], res[f"{name}_mem"], res[f"{name}_cores"] = secs, rss, mem, cpu / secs
        print(f"  {name:8s} {secs:8.1f} s   peak RSS {rss:5.2f} GB, all processes {mem:5.2f} GB   ({n / secs:,.0f} "
              f"papers/s, {cpu / secs:.2f} of {os.cpu_count()} cores busy)", flush=True)
    res["pipeline"] = res["import"] + res["embed"] + res["novelty"] + res["score"]
    res["peak_rss"] = max(res[f"{s}_rss"] for s in ("import", "embed", "novelty", "score"))
    res["peak_mem"] = max(res[f"{s}_mem"] for s in ("import", "embed", "novelty", "score"))
    disk = disk_use(db)
    res["disk_gb"] = sum(disk.values())
    print(f"  pipeline {res['pipeline']:8.1f} s   peak RSS {res['peak_rss']:.2f} GB, all processes "
          f"{res['peak_mem']:.2f} GB   disk {res['disk_gb']:.2f} GB ("
          + ", ".join(f"{k} {v:.2f}" for k, v in sorted(disk.items())) + ")", flush=True)
    res.update(novelty_accuracy(db))
    print(f"  novelty vs exact search, 500 random papers: mean |error| {res['novelty_abs_err']:.4f}, Spearman "
          f"{res['novelty_spearman']:.3f}; {res['novelty_copies_share']:.0%} of them have only copies of their own "
          f"text nearest (exact novelty 0); the others: mean |error| {res['novelty_abs_err_distinct']:.4f}, "
          f"Spearman {res['novelty_spearman_distinct']:.3f}", flush=True)
    res.update(daily_and_reads(db, config, n_new))
    for k in ("daily", "daily_import", "daily_embed", "daily_novelty", "daily_score", "daily_digest"):
        print(f"  {k:14s} {res[k]:7.2f} s", flush=True)
    for k in ("digest_p50", "search_p50", "similar_p50", "author_p50", "author_broad_p50"):
        print(f"  {k:14s} {res[k]:7.1f} ms", flush=True)
    print(f"  similar_cold   {res['similar_cold']:7.2f} s (fresh `paperscope similar`, median of 3)", flush=True)
    return res


def report(results: dict[int, dict[str, float]]) -> None:
    """Every figure of the largest size beside its aim, then each stage per size with its growth per 10x."""
    import math

    big = max(results)
    print(f"\nAims (issue #12) at {big:,} papers" + ("" if big >= 2_900_000 else " (aims are for 2.9M)"))
    for k, (unit, aim) in AIMS.items():
        if k not in results[big]:
            print(f"  {k:14s} not measured (a result file from before it was)")
            continue
        got = results[big][k]
        print(f"  {k:14s} {got:9.2f} {unit:2s}  aim <= {aim:g} {unit}  {'met' if got <= aim else 'NOT met'}")
    if len(results) > 1:
        sizes = sorted(results)
        print("\nGrowth (per size; factor per 10x papers = (t_last / t_first) ** (1 / log10(n_last / n_first)))")
        print("  " + " " * 12 + "  ".join(f"{n:>9,d}" for n in sizes))
        for k in ("import", "embed", "novelty", "score", "pipeline", "peak_rss", "peak_mem", "disk_gb", "daily", "similar_p50",
                  "search_p50", "author_p50", "author_broad_p50", "digest_p50", "similar_cold"):
            if not all(k in results[n] for n in sizes):
                continue
            row = "  ".join(f"{results[n][k]:9.2f}" for n in sizes)
            a1, a2 = sizes[0], sizes[-1]
            f = (results[a2][k] / max(results[a1][k], 1e-9)) ** (1 / math.log10(a2 / a1))
            print(f"  {k:12s}{row}   x{f:.1f} per 10x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, nargs="+", default=[2_900_000])
    ap.add_argument("--daily", type=int, default=1000, help="new papers in the daily increment")
    ap.add_argument("--keep", action="store_true", help="reuse an existing library of that size (skip no stage)")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "scale.json")
    ap.add_argument("--report", nargs="*", type=Path, help="only print the figures of these result files, merged")
    ap.add_argument("--reads", action="store_true",
                    help="only measure the reads again, on the library an earlier run left (writes nothing to it); "
                         "figures to bench/out/reads_<papers>.json")
    ap.add_argument("--accuracy", action="store_true",
                    help="only measure stored novelty against exact search again, on the library an earlier run left "
                         "(reads it only); figures to bench/out/novelty_accuracy_<papers>.json")
    a = ap.parse_args()
    if a.accuracy or a.reads:
        for n in a.papers:
            work = DATA / f"scale_{n}"
            if not (work / "library.db").exists():
                raise SystemExit(f"{work / 'library.db'}: no library; run python bench/scale.py --papers {n} first")
            if a.accuracy:
                name, got = f"novelty_accuracy_{n}", novelty_accuracy(work / "library.db")
                print(f"== novelty of the {n:,}-paper library against exact search, 500 random papers")
                lines = [f"  {k:26s} {v:8.4f}" for k, v in got.items()]
            else:
                name, got = f"reads_{n}", reads(work / "library.db", work / "config.toml")
                print(f"== reads of the {n:,}-paper library")
                lines = [f"  {k:16s} {v:9.2f} {'s' if k == 'similar_cold' else 'ms'}" for k, v in got.items()]
            print("\n".join(lines))
            out = HERE / "out" / f"{name}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(got, indent=1))
        return 0
    if a.report is not None:
        merged: dict[int, dict[str, float]] = {}
        for f in a.report or [a.out]:
            merged.update({int(k): v for k, v in json.loads(f.read_text()).items()})
        report(merged)
        return 0
    results: dict[int, dict[str, float]] = {}
    if a.out.exists():  # sizes measured by earlier runs join the growth table
        results = {int(k): v for k, v in json.loads(a.out.read_text()).items()}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    for n in a.papers:
        results[n] = one_size(n, a.keep, a.daily)
        a.out.write_text(json.dumps({str(k): v for k, v in sorted(results.items())}, indent=1))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
