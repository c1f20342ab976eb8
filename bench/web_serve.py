"""`paperscope serve` under load, with an import writing to the same library, against Datasette as the peer.

    python bench/web_serve.py [--sample PATH] [--seconds 10] [--connections 64]

Imports the 57,821-paper real sample (../shared/corpus/arxiv_snapshot_sample.jsonl.gz) into a temporary library,
starts `paperscope serve` and `datasette` on 127.0.0.1 over that same SQLite file, and, while a second process
keeps importing fresh papers into it, measures with wrk (64 connections, a fixed duration each):
the author page, a topic page and /api/search of paperscope (with its default 2-second page cache, and with
the cache off), and Datasette's HTML table page of `papers` (20 rows, facet suggestions off). Prints requests/s, p50, p99 and errors per target, and
each paperscope figure's ratio to Datasette's. Needs `wrk` (apt-get install wrk) and the bench + web extras.
Aim: >= 500 req/s and p99 <= 50 ms on a 2-core machine, 0 errors.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent.parent.parent / "shared" / "corpus" / "arxiv_snapshot_sample.jsonl.gz"
if not SAMPLE.exists():
    SAMPLE = Path("/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz")
TOPIC = ("LLM Agents", '(agent OR agentic) AND (LLM OR "language model")')


def cli(*args: str, db: Path, config: Path | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "paperscope", "--db", str(db)]
    if config:
        cmd += ["--config", str(config)]
    return cmd + list(args)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}) before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"no answer from {url} in {timeout:.0f} s")


def writer_files(sample: Path, out: Path, rounds: int, per_round: int) -> list[Path]:
    """Snapshot files of papers under fresh ids (3001.xxxxx...), so every import round really writes."""
    lines = []
    with gzip.open(sample, "rt", encoding="utf-8") as f:
        for line in f:
            lines.append(line)
            if len(lines) >= per_round:
                break
    files = []
    for r in range(rounds):
        path = out / f"writer_{r}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for i, line in enumerate(lines):
                d = json.loads(line)
                d["id"] = f"{3001 + r:04d}.{i:05d}"
                f.write(json.dumps(d) + "\n")
        files.append(path)
    return files


def busiest_author(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    counts: Counter[str] = Counter()
    for (raw,) in con.execute("SELECT authors FROM papers LIMIT 20000"):
        text = raw.decode() if isinstance(raw, bytes) else raw
        if text.startswith("["):  # JSON list of names or [name, affiliations]
            counts.update(a if isinstance(a, str) else a[0] for a in json.loads(text))
        else:  # a bulk import keeps arXiv's own "A, B and C" line
            counts.update(n.strip() for n in re.split(r",\s*|\s+and\s+", text) if n.strip())
    con.close()
    return counts.most_common(1)[0][0]


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout

    def lat(p: str) -> float:
        m = re.search(rf"^\s*{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m[1]) * _UNIT[m[2]] if m else float("nan")

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx[1]) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    if total == 0:
        errors = max(errors, connections)  # nothing came back in time: every connection timed out
    return {"rps": rps, "p50": lat("50"), "p99": lat("99"), "errors": errors, "requests": total}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per target")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--keep", type=Path, help="keep the temporary folder here")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install wrk")
    if not shutil.which("datasette"):
        raise SystemExit("needs datasette: pip install 'paperscope[bench]'")
    tmp = Path(tempfile.mkdtemp(prefix="paperscope-web-"))
    db, cfg = tmp / "library.db", tmp / "config.toml"
    cfg.write_text(f'[[topics]]\nname = "{TOPIC[0]}"\nquery = \'{TOPIC[1]}\'\n', encoding="utf-8")
    env = {**os.environ, "PAPERSCOPE_WEB_TOKEN": "bench-token"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        t = time.perf_counter()
        subprocess.run(cli("import", str(args.sample), "--no-embed", db=db, config=cfg), check=True, env=env,
                       stdout=subprocess.DEVNULL)
        n = sqlite3.connect(db).execute("SELECT count(*) FROM papers").fetchone()[0]
        print(f"library: {n:,} papers imported in {time.perf_counter() - t:.0f} s ({db})")
        files = writer_files(args.sample, tmp, rounds=12, per_round=5000)
        name = busiest_author(db)

        def start(cmd: list[str], url: str, extra_env: dict[str, str] | None = None) -> str:
            p = subprocess.Popen(cmd, env={**env, **(extra_env or {})}, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            procs.append(p)
            wait_up(url, p)
            return url

        ps_port, ds_port = free_port(), free_port()
        ps = start(cli("serve", "--port", str(ps_port), db=db, config=cfg), f"http://127.0.0.1:{ps_port}/api/stats")
        # facet suggestions off: they run extra queries per view that the paperscope pages have no match for
        ds = start(["datasette", "serve", str(db), "--host", "127.0.0.1", "--port", str(ds_port),
                    "--setting", "suggest_facets", "off"],
                   f"http://127.0.0.1:{ds_port}/library/papers.json?_size=1")
        ps = ps.rsplit("/api/", 1)[0]
        ds = f"http://127.0.0.1:{ds_port}/library/papers?_size=20"  # 20 rows, as /api/search returns
        targets = [
            ("author page", f"/author/{quote(name)}"),
            ("topic page", "/topic/llm-agents"),
            ("/api/search", "/api/search?q=%22language+model%22+AND+agent&limit=20"),
        ]
        for _, path in targets:  # warm: first builds (author lookup, page cache, SQLite page cache)
            urllib.request.urlopen(ps + path, timeout=120).read()
        urllib.request.urlopen(ds, timeout=60).read()

        def uncached(path: str) -> str:
            """A fresh server with the cache off for one target: requests wrk gave up on must not pile
            up into the next measurement."""
            port = free_port()
            start(cli("serve", "--port", str(port), db=db, config=cfg), f"http://127.0.0.1:{port}/api/stats",
                  {"PAPERSCOPE_WEB_CACHE_SECONDS": "0"})
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120).read()
            return f"http://127.0.0.1:{port}"

        # the writer: imports round after round of fresh papers into the same file, for the whole run
        script = ("import subprocess, sys\n"
                  "for f in sys.argv[2:]:\n"
                  "    subprocess.run([sys.executable, '-m', 'paperscope', '--db', sys.argv[1], 'import', f, "
                  "'--no-embed'], check=True, stdout=subprocess.DEVNULL)\n")
        writer = subprocess.Popen([sys.executable, "-c", script, str(db), *map(str, files)], env=env,
                                  stderr=subprocess.PIPE)
        procs.append(writer)
        time.sleep(1.0)
        rows = []
        peer = wrk(ds, args.seconds, args.connections)
        rows.append(("Datasette table page (peer)", peer))
        for label, path in targets:
            rows.append((f"paperscope {label}", wrk(ps + path, args.seconds, args.connections)))
        for label, path in targets:
            base = uncached(path)
            rows.append((f"paperscope {label}, cache off", wrk(base + path, args.seconds, args.connections)))
            server = procs.pop()
            server.kill()  # not terminate: uvicorn would first finish the builds wrk gave up on
            server.wait(20)
        still = writer.poll() is None
        after = sqlite3.connect(db).execute("SELECT count(*) FROM papers").fetchone()[0]
        print(f"writer: {after - n:,} papers imported during the run"
              f"{' (still importing at the end)' if still else ' (finished before the end: rerun with more rounds)'}")
        load = os.getloadavg()
        print(f"\n{args.connections} connections, {args.seconds} s per target, wrk -t2; author: {name!r}; "
              f"load average {load[0]:.1f} on {os.cpu_count()} cores\n")
        print(f"{'target':44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs peer':>8}")
        for label, r in rows:
            print(f"{label:44} {r['rps']:8.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:7d} "
                  f"{r['rps'] / peer['rps'] if peer['rps'] else float('inf'):7.2f}x")
        ok = [r for label, r in rows if "peer" not in label and "cache off" not in label]
        met = all(r["rps"] >= 500 and r["p99"] <= 50 and r["errors"] == 0 for r in ok)
        print(f"\naim (>= 500 req/s, p99 <= 50 ms, 0 errors, default settings): {'met' if met else 'NOT met'}")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
