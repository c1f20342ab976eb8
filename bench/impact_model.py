"""Held-out quality of the shipped AI Score impact model beside its peers, measured in the same run.

Papers: the held-out part (crc32(title) % 5 == 0) of ../shared/corpus/citations, 2018-2023 (see
tools/train_impact.py). Target: citation percentile within count source x year x field. Figures:
Spearman pooled per field and overall, and the mean Spearman within one venue and year (weighted by
size; the measure issue #9 quoted). Peers:
  - the old formula, 0.45 x novelty percentile + 0.40 x author h-index percentile + 0.15 x code, with
    novelty = 1 - mean cosine to the 10 nearest papers of earlier years (as paperscope computes it) and
    the h-index of authors found among the Scholar profiles;
  - ridge on the embedding alone (numpy, alpha 10), trained on the training part.

    python bench/impact_model.py
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools")]

from train_impact import REPORT_YEARS, TRAIN_YEARS, load_rows, quality

from paperscope.scoring.aiscore import FORMULA_WEIGHTS, PaperFeatures, paper_scores
from paperscope.scoring.impact import meta_features, pretrained_model
from paperscope.semantic.embed import load_embedder, paper_text


def _cohort_percentiles(values: np.ndarray, keys: list[object]) -> np.ndarray:
    from scipy.stats import rankdata

    out = np.full(len(values), 50.0)
    for k in set(keys):
        ix = np.array([i for i, kk in enumerate(keys) if kk == k])
        if len(ix) > 1:
            out[ix] = 100 * (rankdata(values[ix]) - 1) / (len(ix) - 1)
    return out


def main() -> int:
    t0 = time.time()
    rows = load_rows()
    years = np.array([r["year"] for r in rows])
    hold = np.array([r["held_out"] for r in rows])
    train = np.where(~hold & (years >= TRAIN_YEARS[0]) & (years <= TRAIN_YEARS[1]))[0]
    test = np.where(hold & (years >= REPORT_YEARS[0]) & (years <= REPORT_YEARS[1]))[0]
    test_rows = [rows[i] for i in test]
    embedder = load_embedder()
    vecs = embedder.embed([paper_text(r["input"].title, r["input"].abstract) for r in rows]).astype(np.float64)
    print(f"{len(test)} held-out papers, {len(train)} training papers, embedded with {embedder.name} "
          f"({time.time() - t0:.0f}s)")

    results = {}
    model = pretrained_model(embedder.name)
    t = time.perf_counter()
    shipped = np.array([p.score for p in model.predict([rows[i]["input"] for i in test], vecs[test])])
    shipped_s = time.perf_counter() - t
    results[f"shipped: {model.label}"] = quality(shipped, test_rows)
    # The same papers as a fresh arXiv listing shows them when no venue is named yet.
    bare = [replace(rows[i]["input"], comment="") for i in test]
    results["shipped, no venue named"] = quality(np.array([p.score for p in model.predict(bare, vecs[test])]),
                                                 test_rows)

    # Peer 1: the old formula, through paper_scores' own last-resort path.
    y = np.array([r["target"] for r in rows])
    nov = np.full(len(rows), np.nan)
    for year in sorted(set(years[test].tolist())):
        mine = test[years[test] == year]
        earlier = np.where(years < year)[0]
        if len(earlier) < 10:
            continue
        sims = vecs[mine] @ vecs[earlier].T
        nov[mine] = 1 - np.sort(sims, axis=1)[:, -10:].mean(axis=1)
    keys = [(rows[i]["source"], rows[i]["year"], rows[i]["field"]) for i in test]
    ok = ~np.isnan(nov[test])
    nov_pct = np.where(ok, _cohort_percentiles(np.nan_to_num(nov[test]), keys), np.nan)
    hs = np.array([np.nan if rows[i]["input"].author_h is None else rows[i]["input"].author_h for i in test])
    known = ~np.isnan(hs)
    h_pct = np.full(len(test), np.nan)
    if known.any():
        order = np.sort(hs[known])
        h_pct[known] = 100 * np.searchsorted(order, hs[known], side="right") / len(order)
    feats = [PaperFeatures(arxiv_id=str(k), year=rows[i]["year"], category=rows[i]["field"],
                           has_code=bool(meta_features(rows[i]["input"])["has_code"]))
             for k, i in enumerate(test)]
    rep = paper_scores(feats, {}, novelty={str(k): None if np.isnan(v) else float(v) for k, v in enumerate(nov_pct)},
                       author_h={str(k): float(v) for k, v in enumerate(h_pct) if not np.isnan(v)},
                       pretrained=model, embedder="(none: measuring the formula)")
    assert rep.method == "formula", rep.reason
    formula = np.array([rep.scores[str(k)] for k in range(len(test))])
    results[f"old formula ({'/'.join(f'{w:.2f}' for w in FORMULA_WEIGHTS.values())})"] = quality(formula, test_rows)

    # Peer 2: ridge on the embedding alone.
    xm, ym = vecs[train].mean(axis=0), y[train].mean()
    xc = vecs[train] - xm
    w = np.linalg.solve(xc.T @ xc + 10.0 * np.eye(xc.shape[1]), xc.T @ (y[train] - ym))
    ridge = (vecs[test] - xm) @ w + ym
    results["ridge on embedding"] = quality(ridge, test_rows)

    fields = list(next(iter(results.values()))["per_field"])
    print(f"\nheld-out Spearman, {REPORT_YEARS[0]}-{REPORT_YEARS[1]} (n per field: "
          + ", ".join(f"{f} {results[next(iter(results))]['per_field'][f][1]}" for f in fields) + ")")
    print(f"{'model':44s} {'all':>6s} {'w/in venue-yr':>13s} " + " ".join(f"{f:>8s}" for f in fields))
    for name, q in results.items():
        print(f"{name:44s} {q['spearman']:6.3f} {q['within_venue_year']:13.3f} "
              + " ".join(f"{q['per_field'][f][0]:8.3f}" for f in fields))
    base = results["ridge on embedding"]
    top = results[f"shipped: {model.label}"]
    print(f"\nshipped / ridge on embedding: {top['spearman'] / base['spearman']:.2f}x overall, "
          f"{top['within_venue_year'] / base['within_venue_year']:.2f}x within venue-year")
    print(f"shipped model scores {len(test) / shipped_s:,.0f} papers/s with explanations (numpy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
