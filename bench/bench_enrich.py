"""Papers per second of the citation client layer (OpenAlex first, Semantic Scholar for the rest) against a
local server answering from real recorded records, with pacing off.

Peer, measured in the same run against the same server: the per-paper lookup many scripts do, one
`GET /works/doi:10.48550/arXiv.<id>` per paper with a plain httpx.Client (which also misses merged works).

    python bench/bench_enrich.py [--papers 5000] [--runs 5] [--peer-papers 500]
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from paperscope.sources.citations import fetch_citations
from paperscope.sources.http import Pacer, PoliteClient
from paperscope.sources.openalex import OpenAlex
from paperscope.sources.semanticscholar import SemanticScholar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
cs = importlib.import_module("citation_server")  # the local server and the record builders live with the tests

FIX = ROOT / "tests" / "fixtures"
CORPUS = Path("/work/shared/corpus/arxiv_papers.jsonl.gz")


def arxiv_ids(n: int) -> tuple[list[str], str]:
    """Real arXiv ids from the shared corpus when it is there, else made-up ones of the same shape."""
    if CORPUS.exists():
        ids = []
        with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
            for line in f:
                ids.append(json.loads(line)["id"])
                if len(ids) == n:
                    return ids, str(CORPUS)
    return [f"2501.{k:05d}" for k in range(n)], "generated ids"


def world(ids: list[str]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """80 % arXiv preprints and 10 % merged published works in OpenAlex, the last 10 % only in S2."""
    works_src: list[dict[str, Any]] = []
    for name in ("peneira_2024_works_search_subset.json", "openalexpro_2025_works_filter_cites_cursor.json"):
        works_src += json.loads((FIX / "openalex" / name).read_text())["results"]
    s2_src = json.loads((FIX / "semanticscholar" / "s2py_2023_paper_batch_3ids_full_fields.json").read_text())
    works, papers = [], {}
    for k, aid in enumerate(ids):
        template = works_src[k % len(works_src)]
        share = k % 10
        if share < 8:
            works.append(cs.as_arxiv_preprint(template, aid, k))
        elif share == 8:
            works.append(cs.as_merged(template, aid, k))
        else:
            papers[f"ARXIV:{aid}"] = cs.as_s2_arxiv(s2_src[k % len(s2_src)], aid)
    return works, papers


def run_ours(ids: list[str], oa_url: str, s2_url: str) -> tuple[float, int]:
    with PoliteClient(oa_url, pacer=Pacer(0.0)) as oa_client, PoliteClient(s2_url, pacer=Pacer(0.0)) as s2_client:
        t = time.perf_counter()
        got = fetch_citations(ids, OpenAlex(oa_client), SemanticScholar(s2_client))
        return time.perf_counter() - t, len(got)


def run_peer(ids: list[str], oa_url: str) -> tuple[float, int]:
    found = 0
    with httpx.Client(base_url=oa_url) as client:
        t = time.perf_counter()
        for aid in ids:
            r = client.get(f"/works/doi:10.48550/arXiv.{aid}")
            if r.status_code == 200:
                r.json()["cited_by_count"]
                found += 1
        return time.perf_counter() - t, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer-papers", type=int, default=500, help="the peer is slow; it gets a prefix of the ids")
    args = ap.parse_args()

    ids, origin = arxiv_ids(args.papers)
    works, papers = world(ids)
    oa, s2 = cs.FakeOpenAlex(works), cs.FakeSemanticScholar(papers)
    with cs.CitationServer(oa) as oa_server, cs.CitationServer(s2) as s2_server:
        ours, peer = [], []
        for _ in range(args.runs):
            oa_server.requests.clear()
            s2_server.requests.clear()
            secs, found = run_ours(ids, oa_server.url, s2_server.url + "/graph/v1")
            ours.append(len(ids) / secs)
            requests = (len(oa_server.requests), len(s2_server.requests))
            psecs, pfound = run_peer(ids[: args.peer_papers], oa_server.url)
            peer.append(args.peer_papers / psecs)
    ours_med, peer_med = statistics.median(ours), statistics.median(peer)
    print(f"ids: {len(ids)} from {origin}; {len(works)} OpenAlex works, {len(papers)} S2-only papers (built from real records)")
    print(f"fetch_citations (batched, pacing off): {ours_med:,.0f} papers/s  median of {args.runs} "
          f"[{min(ours):,.0f}..{max(ours):,.0f}]; found {found}/{len(ids)}; "
          f"{requests[0]} OpenAlex + {requests[1]} S2 requests")
    print(f"peer, one GET /works/doi:... per paper (httpx): {peer_med:,.0f} papers/s  median of {args.runs} "
          f"[{min(peer):,.0f}..{max(peer):,.0f}]; found {pfound}/{args.peer_papers}")
    print(f"ratio ours/peer: {ours_med / peer_med:.1f}x")


if __name__ == "__main__":
    main()
