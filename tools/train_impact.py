"""Train paperscope's pre-trained impact model on real papers with real citation counts.

Data: ../shared/corpus/citations/ (see its SOURCES.md): conference papers with Google Scholar counts
(field = the venue's category proxy) and arXiv cs papers with Semantic Scholar counts (no field), and
Google Scholar author profiles for the h-index of authors matched by name. Target: the citation
percentile within one count source x year x field (arXiv papers: x year).

Conference papers carry their venue as an arXiv comment would ("Accepted to CVPR 2022 (oral)"), half
of them (by a stable hash) none, so that the model also learns papers that name no venue.

Split: a paper is held out when crc32(normalised title) % 5 == 0 (a title, so that one paper found in
both sets lands on one side). Training uses the rest, 2018-2024 (2025 papers had too little time to be
cited); every figure reported is on held-out papers of 2018-2023.

Learners compared in the same run, on the same split: ridge on the embedding (the baseline to beat),
ridge on tf-idf words, and the shipped stack (out-of-fold ridge scores of embedding and words, the
embedding's top principal components and the metadata, into LightGBM). The stack is written to
src/paperscope/scoring/models/<name>.npz with its held-out quality and the embedder it was trained with;
the numpy inference in paperscope.scoring.impact is checked against LightGBM's own predictions.

Needs (training only): pip install 'paperscope[train]' (scikit-learn, lightgbm, scipy).
    python tools/train_impact.py                       # ~4 minutes on 2 cores
    python tools/train_impact.py --fixture tests/fixtures/citations/heldout.jsonl.gz
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import math
import random
import re
import sys
import time
import unicodedata
import zlib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperscope.scoring.impact import (
    DEFAULT_IMPACT_MODEL,
    FIELDS,
    FORMAT,
    META_COLUMNS,
    PROBE_TEXTS,
    ImpactInput,
    TreeEnsemble,
    WordModel,
    load_impact_model,
    save_impact_model,
)
from paperscope.semantic.embed import DEFAULT_MODEL, load_embedder, paper_text

DATA = ROOT.parent.parent / "shared" / "corpus" / "citations"
if not DATA.is_dir():
    DATA = Path("/work/shared/corpus/citations")
VERSION = 1
N_COMPONENTS = 32
TRAIN_YEARS = (2018, 2024)
REPORT_YEARS = (2018, 2023)
LGBM: dict[str, Any] = {"n_estimators": 400, "learning_rate": 0.045, "num_leaves": 31, "min_child_samples": 40,
                        "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.5, "reg_lambda": 1.0,
                        "max_bin": 63, "random_state": 0, "verbose": -1, "n_jobs": 2}
TFIDF: dict[str, Any] = {"min_df": 5, "max_features": 40000, "ngram_range": (1, 2), "sublinear_tf": True,
                         "lowercase": True, "token_pattern": r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b", "dtype": np.float64}
WORD_ALPHA, EMB_ALPHA = 3.0, 10.0


def norm_title(t: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", " ", (t or "").lower()).strip()


def norm_name(n: str) -> str:
    n = unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z ]+", " ", n).split())


def held_out(title: str | None) -> bool:
    """The papers never trained on; every reported figure is on these."""
    return zlib.crc32(norm_title(title).encode()) % 5 == 0


def _read(name: str) -> list[dict[str, Any]]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _percentiles(keys: list[Any], counts: list[int]) -> np.ndarray:
    """100 x (rank - 1) / (n - 1) within each key, ties averaged (as aiscore.citation_percentiles)."""
    from scipy.stats import rankdata

    out = np.full(len(keys), 50.0)
    groups: dict[Any, list[int]] = collections.defaultdict(list)
    for i, k in enumerate(keys):
        groups[k].append(i)
    for ix in groups.values():
        if len(ix) > 1:
            out[ix] = 100.0 * (rankdata([counts[i] for i in ix]) - 1) / (len(ix) - 1)
    return out


def comment_for(rec: dict[str, Any]) -> str:
    """The arXiv comment a conference paper would carry: its acceptance (rejected papers: a submission).

    Half of the papers (by a stable hash) carry none, as many arXiv papers name no venue: otherwise
    every training paper with a field would name one, and the trees would read "a field but no venue"
    as "rejected" (the only such papers) and mark down every fresh arXiv paper.
    """
    if zlib.crc32(f"venue:{rec['source_path']}#{rec['source_id']}".encode()) % 2:
        return ""
    venue = {"CORL": "CoRL", "AUTOML": "AutoML"}.get(rec["venue"], rec["venue"])
    status = (rec.get("status") or "").lower()
    if status in ("reject", "withdraw"):
        return f"Submitted to {venue} {rec['year']}"
    return f"Accepted to {venue} {rec['year']}" + (f" ({status})" if status in ("oral", "spotlight") else "")


def load_rows() -> list[dict[str, Any]]:
    """Every paper as {input, target, cohort, venue_year, field, year, held_out}."""
    h_of: dict[str, int] = {}
    for p in _read("author_profiles_gs.jsonl.gz"):
        if p.get("h_index_all") is not None:
            k = norm_name(p["name"])
            h_of[k] = max(h_of.get(k, 0), int(p["h_index_all"]))
    conf, naid = _read("conference_papers_gs.jsonl.gz"), _read("arxiv_cs_s2.jsonl.gz")
    rows = []
    pct = _percentiles([("gs", r["year"], r["category_proxy"]) for r in conf], [r["citation_count"] for r in conf])
    for r, y in zip(conf, pct):
        hs = [h_of[norm_name(a)] for a in r["authors"] or [] if norm_name(a) in h_of]
        inp = ImpactInput(id=f"{r['source_path']}#{r['source_id']}", title=r["title"] or "",
                          abstract=r["abstract"] or "", category=r["category_proxy"], year=int(r["year"]),
                          n_authors=len(r["authors"]) if r["authors"] else None, comment=comment_for(r),
                          author_h=float(max(hs)) if hs else None)
        rows.append({"input": inp, "target": float(y), "venue_year": f"{r['venue']} {r['year']}",
                     "field": r["category_proxy"], "citations": int(r["citation_count"]), "source": "google_scholar",
                     "venue": r["venue"], "status": r.get("status"), "authors": r["authors"]})
    pct = _percentiles([("s2", r["year"]) for r in naid], [r["citation_count"] for r in naid])
    for r, y in zip(naid, pct):
        inp = ImpactInput(id=f"naid:{r['naid_uuid']}", title=r["title"] or "", abstract=r["abstract"] or "",
                          year=int(r["year"]))
        rows.append({"input": inp, "target": float(y), "venue_year": f"arXiv {r['year']}", "field": "arXiv cs",
                     "citations": int(r["citation_count"]), "source": "semantic_scholar", "venue": None,
                     "status": None, "authors": None})
    for row in rows:
        row["year"] = row["input"].year
        row["held_out"] = held_out(row["input"].title)
    return rows


# --- measuring ----------------------------------------------------------------------------------------


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic) if len(a) > 2 else math.nan


def quality(pred: np.ndarray, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Held-out Spearman overall (pooled), per field, and the mean within venue x year (weighted by size)."""
    y = np.array([r["target"] for r in rows])
    fields = np.array([r["field"] for r in rows])
    per_field = {f: (spearman(pred[fields == f], y[fields == f]), int((fields == f).sum()))
                 for f in [*FIELDS, "arXiv cs"] if (fields == f).sum() > 2}
    groups: dict[str, list[int]] = collections.defaultdict(list)
    for i, r in enumerate(rows):
        groups[r["venue_year"]].append(i)
    within = [(spearman(pred[ix], y[ix]), len(ix)) for ix in groups.values() if len(ix) >= 20]
    wvy = float(np.average([s for s, _ in within], weights=[n for _, n in within]))
    return {"spearman": spearman(pred, y), "n": len(rows), "per_field": per_field, "within_venue_year": wvy}


def show(name: str, q: dict[str, Any]) -> str:
    cells = " ".join(f"{f.replace('cs.', '')}={s:.3f}" for f, (s, _) in q["per_field"].items())
    return f"{name:34s} all={q['spearman']:.3f} within-venue-year={q['within_venue_year']:.3f}  {cells}"


# --- training -------------------------------------------------------------------------------------------


def _oof(fit_predict: Any, n: int, train_ix: np.ndarray, folds: int = 5) -> np.ndarray:
    """Out-of-fold predictions for training rows (so the trees see scores as unseen papers get them)."""
    out = np.zeros(n)
    perm = np.random.default_rng(0).permutation(train_ix)
    for k in range(folds):
        val = perm[k::folds]
        fit_ix = np.setdiff1d(perm, val)
        out[val] = fit_predict(fit_ix, val)
    return out


def trees_from_lightgbm(booster: Any) -> TreeEnsemble:
    """Flatten LightGBM's dump into TreeEnsemble arrays (each node's expected value kept for attribution)."""
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    roots: list[int] = []

    def add(node: dict[str, Any]) -> int:
        i = len(feature)
        feature.append(-1)
        threshold.append(0.0)
        left.append(-1)
        right.append(-1)
        if "leaf_value" in node:
            value.append(float(node["leaf_value"]))
            return i
        if node["decision_type"] != "<=" or node.get("missing_type", "None") not in ("None", "NaN"):
            raise SystemExit(f"unsupported LightGBM split {node['decision_type']}/{node.get('missing_type')}")
        value.append(float(node["internal_value"]))
        feature[i], threshold[i] = int(node["split_feature"]), float(node["threshold"])
        left[i] = add(node["left_child"])
        right[i] = add(node["right_child"])
        return i

    for tree in booster.dump_model()["tree_info"]:
        roots.append(add(tree["tree_structure"]))
    return TreeEnsemble(np.array(feature, dtype=np.int64), np.array(threshold), np.array(left, dtype=np.int64),
                        np.array(right, dtype=np.int64), np.array(value), np.array(roots, dtype=np.int64))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embedder", default=DEFAULT_MODEL, help="embedding model name (default: the shipped one)")
    ap.add_argument("--name", default=DEFAULT_IMPACT_MODEL, help="model file name under scoring/models/")
    ap.add_argument("--fixture", type=Path, help="also write a held-out sample (300 papers) for the tests here")
    ap.add_argument("--report", type=Path, help="write the held-out figures as JSON here")
    args = ap.parse_args(argv)

    import lightgbm as lgb
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge

    t0 = time.time()
    rows = load_rows()
    inputs = [r["input"] for r in rows]
    y = np.array([r["target"] for r in rows])
    years = np.array([r["year"] for r in rows])
    hold = np.array([r["held_out"] for r in rows])
    train_ix = np.where(~hold & (years >= TRAIN_YEARS[0]) & (years <= TRAIN_YEARS[1]))[0]
    test_ix = np.where(hold & (years >= REPORT_YEARS[0]) & (years <= REPORT_YEARS[1]))[0]
    test_rows = [rows[i] for i in test_ix]
    print(f"{len(rows)} papers; training on {len(train_ix)}, reporting on {len(test_ix)} held out "
          f"({time.time() - t0:.0f}s)", flush=True)

    embedder = load_embedder(args.embedder)
    vecs = embedder.embed([paper_text(x.title, x.abstract) for x in inputs]).astype(np.float64)
    print(f"embedded with {embedder.name} ({time.time() - t0:.0f}s)", flush=True)

    # Baseline: plain ridge on the embedding.
    def emb_ridge(fit_ix: np.ndarray, pred_ix: np.ndarray) -> np.ndarray:
        return Ridge(alpha=EMB_ALPHA).fit(vecs[fit_ix], y[fit_ix]).predict(vecs[pred_ix])

    emb_full = Ridge(alpha=EMB_ALPHA).fit(vecs[train_ix], y[train_ix])
    results = {"ridge on embedding (baseline)": quality(emb_full.predict(vecs[test_ix]), test_rows)}
    print(show("ridge on embedding (baseline)", results["ridge on embedding (baseline)"]), flush=True)

    texts = [x.text() for x in inputs]
    tfidf = TfidfVectorizer(**TFIDF).fit([texts[i] for i in train_ix])
    tmat = tfidf.transform(texts)
    word_full = Ridge(alpha=WORD_ALPHA, solver="sparse_cg").fit(tmat[train_ix], y[train_ix])
    results["ridge on tf-idf words"] = quality(word_full.predict(tmat[test_ix]), test_rows)
    print(show("ridge on tf-idf words", results["ridge on tf-idf words"]), flush=True)

    def word_ridge(fit_ix: np.ndarray, pred_ix: np.ndarray) -> np.ndarray:
        return Ridge(alpha=WORD_ALPHA, solver="sparse_cg").fit(tmat[fit_ix], y[fit_ix]).predict(
            tmat[pred_ix])

    emb_score = emb_full.predict(vecs)
    word_score = word_full.predict(tmat)
    emb_score[train_ix] = _oof(emb_ridge, len(rows), train_ix)[train_ix]
    word_score[train_ix] = _oof(word_ridge, len(rows), train_ix)[train_ix]
    print(f"out-of-fold text scores ({time.time() - t0:.0f}s)", flush=True)

    e = vecs[train_ix]
    pc_mean = e.mean(axis=0)
    _, evecs = np.linalg.eigh((e - pc_mean).T @ (e - pc_mean) / len(e))
    comps = evecs[:, ::-1][:, :N_COMPONENTS].T
    # Eigenvectors have no inherent sign; fix it so that the same data gives the same model.
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = np.ascontiguousarray(comps * signs[:, None])

    words = WordModel({t: int(i) for t, i in tfidf.vocabulary_.items()}, tfidf.idf_.astype(float),
                      word_full.coef_.astype(float), float(word_full.intercept_))
    check = np.random.default_rng(1).choice(len(rows), 300, replace=False)
    drift = float(np.abs(words.score([texts[i] for i in check]) - word_full.predict(tmat[check])).max())
    if drift > 1e-6:
        raise SystemExit(f"numpy word model differs from scikit-learn's by {drift}")

    columns = ("embedding", "words", *[f"pc{k}" for k in range(N_COMPONENTS)], *META_COLUMNS)
    from paperscope.scoring.impact import meta_features

    meta = np.array([[m[c] for c in META_COLUMNS] for m in map(meta_features, inputs)])
    x = np.column_stack([emb_score, word_score, (vecs - pc_mean) @ comps.T, meta])
    gbm = lgb.LGBMRegressor(**LGBM).fit(x[train_ix], y[train_ix])
    results["shipped: stack into LightGBM"] = quality(gbm.predict(x[test_ix]), test_rows)
    print(show("shipped: stack into LightGBM", results["shipped: stack into LightGBM"]), flush=True)
    print(f"trained ({time.time() - t0:.0f}s)", flush=True)

    trees = trees_from_lightgbm(gbm.booster_)
    mine, points = trees.predict_with_points(x[test_ix])
    drift = float(np.abs(mine - gbm.predict(x[test_ix])).max())
    if drift > 1e-6 or float(np.abs(trees.base + points.sum(axis=1) - mine).max()) > 1e-6:
        raise SystemExit(f"numpy trees differ from LightGBM's by {drift}")

    q = results["shipped: stack into LightGBM"]
    n_conf = sum(1 for i in train_ix if rows[i]["source"] == "google_scholar")
    header = {
        "format": FORMAT, "version": VERSION, "embedder": embedder.name, "embedder_dim": int(embedder.dim),
        "columns": list(columns), "meta_columns": list(META_COLUMNS), "emb_intercept": float(emb_full.intercept_),
        "word_intercept": float(word_full.intercept_),
        "quality": {"spearman": q["spearman"], "n": q["n"], "per_field": q["per_field"],
                    "split": "crc32(title) % 5 == 0, 2018-2023",
                    "trained_on": f"{n_conf:,} conference papers (Google Scholar counts) and "
                                  f"{len(train_ix) - n_conf:,} arXiv cs papers (Semantic Scholar counts), "
                                  f"{TRAIN_YEARS[0]}-{TRAIN_YEARS[1]}"},
        "extra": {"within_venue_year": q["within_venue_year"], "lightgbm": {k: v for k, v in LGBM.items()},
                  "peers": {k: {"spearman": v["spearman"], "within_venue_year": v["within_venue_year"]}
                            for k, v in results.items()}},
    }
    terms = np.array(sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.__getitem__))
    arrays = {"probe_vectors": embedder.embed(list(PROBE_TEXTS)).astype(np.float32), "emb_coef": emb_full.coef_,
              "pc_mean": pc_mean, "pc_components": comps, "terms": terms, "idf": tfidf.idf_,
              "word_coef": word_full.coef_, "tree_feature": trees.feature.astype(np.int16),
              "tree_threshold": trees.threshold, "tree_left": trees.left.astype(np.int32),
              "tree_right": trees.right.astype(np.int32), "tree_value": trees.value, "tree_roots": trees.roots}
    out = ROOT / "src" / "paperscope" / "scoring" / "models" / f"{args.name}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    save_impact_model(out, arrays, header)
    load_impact_model.cache_clear()
    model = load_impact_model(out)
    again = np.array([p.score for p in model.predict([inputs[i] for i in test_ix[:500]], vecs[test_ix[:500]])])
    drift = float(np.abs(again - np.clip(gbm.predict(x[test_ix[:500]]), 0, 100)).max())
    if drift > 1e-4:
        raise SystemExit(f"shipped model's predictions differ from training's by {drift}")
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size / 1e6:.1f} MB, {time.time() - t0:.0f}s in all)")

    if args.report:
        args.report.write_text(json.dumps({k: {**v, "per_field": {f: list(s) for f, s in v["per_field"].items()}}
                                           for k, v in results.items()}, indent=1))
    if args.fixture:
        write_fixture(args.fixture, test_rows)
    return 0


def write_fixture(path: Path, test_rows: list[dict[str, Any]], n: int = 300) -> None:
    """A seeded sample of held-out papers (2018-2023), in the shape bench/ and the tests read."""
    picked = random.Random(9).sample(test_rows, n)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in picked:
            x = r["input"]
            f.write(json.dumps({"id": x.id, "title": x.title, "abstract": x.abstract, "category": x.category,
                                "year": x.year, "n_authors": x.n_authors, "comment": x.comment,
                                "author_h": x.author_h, "field": r["field"], "venue_year": r["venue_year"],
                                "citations": r["citations"], "count_source": r["source"],
                                "target_percentile": round(r["target"], 4)}, sort_keys=True) + "\n")
    print(f"wrote {path} ({n} held-out papers)")


if __name__ == "__main__":
    raise SystemExit(main())
