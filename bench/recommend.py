"""Recommendation quality: does the ranker find a researcher's next papers among everyone's?

Protocol (issue #9), on /work/shared/corpus/arxiv_snapshot_sample.jsonl.gz (one year of cs.CV/CL/AI listings):
an author is a researcher when they have 12-40 papers in the sample (name strings, undisambiguated); their library
is their first 60 % of papers by listing date; the targets are their papers listed in the 60 days after the last
library paper; the candidates are everyone's papers of those days. Author names are blanked from every text, and
no method sees author lists. Scored by recall@50 and nDCG@50 (binary gains), averaged over researchers.

Researchers are split by a stable hash of the name: a quarter are the development set (where RankOptions were
tuned), the rest the test set; figures are reported on the test set only (`--split dev` shows the other).

Methods, all measured here in the same run on the same papers:
- paperscope ranker (src/paperscope/semantic/ranker.py, the default of `recommend`): each candidate's tf-idf
  cosine to the library's profile (its mean cosine to the library papers; unigrams and bigrams, terms in over a
  tenth of the papers dropped, term rarity counted over the database's papers (up to 100,000, as the service samples
  its store));
- arxiv-sanity-lite, re-implemented from its published description: a tf-idf of title+abstract (word 1-2 grams,
  sublinear tf, English stop words, max_df 0.1, min_df 5, 20k features) and a LinearSVC (C=0.01, balanced class
  weights) trained with the library as positives and every other paper in the database as negatives;
- zotero-arxiv-daily, re-implemented from its published description: the library sorted newest first, weights
  1/(1+log10(position+1)) normalised to sum 1, score = weighted sum of cosines (here with paperscope's default
  embedder);
- paperscope's previous `recommend`: the mean of the three best recency-weighted cosines (half-life 180 days).

Run:  PYTHONPATH=src nice -n 10 python bench/recommend.py [--split test|dev|all] [--max-authors N]
Embeddings are cached in bench/data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
import zlib
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from paperscope.semantic.embed import DEFAULT_MODEL, load_embedder, paper_text
from paperscope.semantic.ranker import DocFreq, PaperSet, RankOptions, rank, term_ids

SNAPSHOT = Path("/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz")
DATA = Path(__file__).parent / "data"
K = 50
WINDOW_DAYS = 60
DF_SAMPLE = 100_000  # papers whose terms give the ranker its term rarity, as service.meaning samples the store


def load(path: Path) -> tuple[list[str], list[str], list[date], list[list[str]]]:
    """ids, texts with every author name of the paper blanked, listing dates, author lists (dated papers only)."""
    ids, texts, days, authors = [], [], [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            d = r.get("listing_date") or r.get("update_date")
            if not d or r.get("source") != "daily-arxiv-ai-enhanced":
                continue  # the 2007 snapshot head and the Atom records are no part of the one-year stream
            names = [a.strip() for a in (r.get("authors") or "").split(",") if a.strip()]
            text = paper_text(r.get("title") or "", r.get("abstract") or "")
            low = text.lower()
            for n in sorted(names, key=len, reverse=True):
                if len(n) > 3 and n.lower() in low:  # rare: test first, a regex per name is slow
                    text = re.sub(re.escape(n), " ", text, flags=re.IGNORECASE)
                    low = text.lower()
            ids.append(r["id"])
            texts.append(text)
            days.append(date.fromisoformat(d[:10]))
            authors.append(names)
    return ids, texts, days, authors


def embeddings(ids: list[str], texts: list[str]) -> np.ndarray:
    key = hashlib.sha1(("\n".join(ids) + "\x00" + "\n".join(texts)).encode()).hexdigest()[:12]
    path = DATA / f"recommend_{DEFAULT_MODEL}_{key}.npy"
    if path.exists():
        return np.load(path)
    DATA.mkdir(parents=True, exist_ok=True)
    vecs = load_embedder().embed(texts)
    np.save(path, vecs)
    return vecs


def researchers(days: list[date], authors: list[list[str]]) -> list[tuple[str, list[int], list[int], date]]:
    """(name, library rows, target rows, last library day) for every author with 12-40 papers and a target."""
    by_author: dict[str, list[int]] = defaultdict(list)
    for i, names in enumerate(authors):
        for n in set(names):
            by_author[n].append(i)
    out = []
    for name in sorted(by_author):
        rows = by_author[name]
        if not 12 <= len(rows) <= 40:
            continue
        rows = sorted(rows, key=lambda i: (days[i], i))
        n_lib = int(round(0.6 * len(rows)))
        lib = rows[:n_lib]
        t0 = days[lib[-1]]
        end = t0 + timedelta(days=WINDOW_DAYS)
        targets = [i for i in rows[n_lib:] if t0 < days[i] <= end]
        if targets:
            out.append((name, lib, targets, t0))
    return out


def split_of(name: str) -> str:
    return "dev" if zlib.crc32(name.encode()) % 4 == 0 else "test"


def metrics(order: np.ndarray, pool: np.ndarray, targets: set[int]) -> tuple[float, float]:
    top = pool[order[:K]]
    hits = np.array([int(i) in targets for i in top], dtype=np.float64)
    dcg = float((hits / np.log2(np.arange(2, len(hits) + 2))).sum())
    ideal = float((1.0 / np.log2(np.arange(2, min(len(targets), K) + 2))).sum())
    return hits.sum() / len(targets), dcg / ideal


# ------------------------------------------------------------------------------------------------ peers
class SanityLite:
    """tf-idf + LinearSVC as arxiv-sanity-lite describes it; the vectoriser is fitted once on the whole corpus."""

    def __init__(self, texts: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(strip_accents="unicode", lowercase=True, analyzer="word", stop_words="english",
                              token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
                              max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
                              max_df=0.1, min_df=5)
        self.x = vec.fit_transform(texts)

    def scores(self, lib: list[int], db: np.ndarray, pool: np.ndarray) -> np.ndarray:
        from sklearn.svm import LinearSVC

        y = np.isin(db, lib).astype(int)
        clf = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
        clf.fit(self.x[db], y)
        return clf.decision_function(self.x[pool])


def zotero_daily(vecs: np.ndarray, lib: list[int], days: list[date], pool: np.ndarray) -> np.ndarray:
    newest_first = sorted(lib, key=lambda i: (days[i], i), reverse=True)
    w = 1.0 / (1.0 + np.log10(np.arange(len(newest_first)) + 1))
    w = w / w.sum()
    return (vecs[pool] @ vecs[newest_first].T * w[None, :]).sum(axis=1) * 10


def paperscope_previous(vecs: np.ndarray, lib: list[int], days: list[date], t0: date,
                        pool: np.ndarray) -> np.ndarray:
    w = np.array([0.5 ** (max((t0 - days[i]).days, 0) / 180) for i in lib], dtype=np.float32)
    weighted = vecs[pool] @ vecs[lib].T * w[None, :]
    top = -np.sort(-weighted, axis=1)[:, :3]
    return top.mean(axis=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=["test", "dev", "all"], default="test")
    ap.add_argument("--max-authors", type=int, default=0, help="evaluate only the first N researchers (by hash)")
    ap.add_argument("--only", default="", help="comma list of methods to run")
    ap.add_argument("--options", default="", help='RankOptions as JSON, e.g. {"knn_weight": 2}')
    args = ap.parse_args()
    if not SNAPSHOT.exists():
        print(f"{SNAPSHOT} not found: this benchmark needs the shared corpus", file=sys.stderr)
        return 2

    t = time.perf_counter()
    ids, texts, days, authors = load(SNAPSHOT)
    vecs = embeddings(ids, texts)
    memo: dict[str, int] = {}
    terms = [term_ids(t, memo) for t in texts]  # once per paper
    day_arr = np.array([d.toordinal() for d in days])
    people = [p for p in researchers(days, authors) if args.split == "all" or split_of(p[0]) == args.split]
    people.sort(key=lambda p: zlib.crc32(p[0].encode()))
    if args.max_authors:
        people = people[: args.max_authors]
    print(f"{len(ids)} papers, {len(people)} researchers ({args.split}); "
          f"{sum(len(p[2]) for p in people)} targets; loaded in {time.perf_counter() - t:.0f} s", flush=True)
    methods = ["ranker", "sanity-lite", "zotero-daily", "paperscope-previous"]
    if args.only:
        methods = [m for m in methods if m in args.only.split(",")]
    options = RankOptions(**json.loads(args.options)) if args.options else RankOptions()
    sample = np.random.default_rng(0).choice(len(ids), size=min(DF_SAMPLE, len(ids)), replace=False)
    doc_freq = DocFreq.of([terms[i] for i in np.sort(sample)])
    sanity = SanityLite(texts) if "sanity-lite" in methods else None
    got: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    spent: dict[str, float] = {m: 0.0 for m in methods}
    for n, (name, lib, targets, t0) in enumerate(people):
        lo, hi = t0.toordinal(), t0.toordinal() + WINDOW_DAYS
        pool = np.flatnonzero((day_arr > lo) & (day_arr <= hi))
        tset = set(targets)
        for m in methods:
            s = time.perf_counter()
            if m == "ranker":
                pos = PaperSet([ids[i] for i in lib], [texts[i] for i in lib], vecs[lib],
                               dates=[days[i] for i in lib], terms=[terms[i] for i in lib])
                cands = PaperSet([ids[i] for i in pool], [texts[i] for i in pool], vecs[pool],
                                 terms=[terms[i] for i in pool])
                ranked = rank(cands, pos, doc_freq=doc_freq, today=t0, limit=K, options=options)
                row_of = {ids[i]: j for j, i in enumerate(pool)}
                order = np.array([row_of[r.id] for r in ranked])
            else:
                if m == "sanity-lite":
                    assert sanity is not None
                    sc = sanity.scores(lib, np.flatnonzero(day_arr <= hi), pool)
                elif m == "zotero-daily":
                    sc = zotero_daily(vecs, lib, days, pool)
                else:
                    sc = paperscope_previous(vecs, lib, days, t0, pool)
                order = np.argsort(-sc, kind="stable")
            spent[m] += time.perf_counter() - s
            got[m].append(metrics(order, pool, tset))
        if (n + 1) % 25 == 0:
            print(f"  {n + 1}/{len(people)} " + "  ".join(
                f"{m} {np.mean([g[0] for g in got[m]]):.3f}" for m in methods), flush=True)

    print(f"\n{'method':22} {'recall@50':>10} {'nDCG@50':>9} {'s/researcher':>13}")
    res = {m: (float(np.mean([g[0] for g in got[m]])), float(np.mean([g[1] for g in got[m]]))) for m in methods}
    for m in methods:
        print(f"{m:22} {res[m][0]:10.4f} {res[m][1]:9.4f} {spent[m] / max(len(people), 1):13.3f}")
    peers = [m for m in methods if m != "ranker"]
    if "ranker" in res and peers:
        best = max(peers, key=lambda m: res[m][0])
        print(f"\nranker / best peer ({best}): recall@50 {res['ranker'][0] / res[best][0]:.2f}x, "
              f"nDCG@50 {res['ranker'][1] / res[best][1]:.2f}x (aim: 1.2x recall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
