"""Meaning: embeddings, explained novelty, similar papers and authors, hybrid search, recommendations, AI Score.

Every function takes the store and returns plain data with its inputs, so the CLI (and later the web app) only
renders. Vectors live in the library (per paper, version and model); the nearest-neighbour index is rebuilt from
them when its file beside the database is missing or stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from paperscope.errors import InputError, PaperscopeError
from paperscope.models import UTC, Figure, Paper
from paperscope.store.sqlite import SQLiteStore

# A nearest earlier paper this similar means a re-worded earlier work: the paper is not novel against it, whatever
# its other neighbours say. Per model, read off the top-1 similarities of real libraries (0.3 % of the sample's
# papers reach 0.75 with the static model; a sentence-level re-wording of an abstract scores about 0.8).
DUPLICATE_SIMILARITY = {"static-minilm-arxiv-v1": 0.78, "static-minilm-arxiv-v2": 0.78, "minilm": 0.9}
RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al.'s usual choice)
RECENCY_HALF_LIFE_DAYS = 180  # a library item added half a year ago weighs half as much


def _embedder(name: str | None = None) -> Any:
    from paperscope.semantic.embed import load_embedder

    return load_embedder(name)


# ------------------------------------------------------------------------------------------------ embed
def embed_library(store: SQLiteStore, *, model: str | None = None, replace: bool = False,
                  progress: Callable[[int], None] | None = None, batch: int = 2000) -> dict[str, Any]:
    """Embed every paper that has no vector from the model yet, or whose version changed since."""
    from paperscope.semantic.embed import paper_text

    emb = _embedder(model)
    store.set_active_model(emb.name, replace=replace)
    todo = store.count_to_embed(emb.name)
    done = 0
    for rows in store.papers_to_embed(emb.name, batch=batch):
        vecs = emb.embed([paper_text(t, a) for _, _, t, a in rows])
        store.save_embeddings(emb.name, [(i, v, vecs[j]) for j, (i, v, _, _) in enumerate(rows)])
        done += len(rows)
        if progress:
            progress(len(rows))
    if done:
        index_path(store, emb.name).unlink(missing_ok=True)  # rebuilt on next use
    return {"model": emb.name, "dim": emb.dim, "embedded": done, "asked": todo}


def index_path(store: SQLiteStore, model: str) -> Path:
    return Path(f"{store.path}.{model}.vindex")


@dataclass(slots=True)
class Vectors:
    """The library's vectors in memory: keys (paper pk), ids, matrix, dates and categories, and an index."""

    model: str
    keys: np.ndarray
    ids: list[str]
    mat: np.ndarray
    meta: list[tuple[str, str]]
    index: Any
    row_of: dict[str, int] = field(default_factory=dict)

    def vector(self, arxiv_id: str) -> np.ndarray:
        return self.mat[self.row_of[arxiv_id]]


def load_vectors(store: SQLiteStore) -> Vectors:
    """All vectors of the library's model with a nearest-neighbour index (kept in a file beside the library)."""
    from paperscope.semantic.index import VectorIndex

    model = store.active_model()
    if not model:
        raise PaperscopeError("the library has no embeddings yet: run `paperscope embed` first")
    keys, ids, mat, meta = store.embedding_matrix(model)
    path = index_path(store, model)
    index = None
    if store.path != ":memory:" and path.exists():
        try:
            index = VectorIndex.load(path)
            if len(index) != len(keys) or index.model != model:
                index = None
        except Exception:  # a damaged or old index file is only a cache: rebuild it
            index = None
    if index is None:
        index = VectorIndex(mat.shape[1] if len(keys) else 1, model=model)
        if len(keys):
            index.add(keys, mat)
        if store.path != ":memory:":
            index.save(path)
    return Vectors(model, keys, ids, mat, meta, index, {i: r for r, i in enumerate(ids)})


# ------------------------------------------------------------------------------------------------ novelty
def compute_library_novelty(store: SQLiteStore, *, k: int = 10, now: datetime | None = None,
                            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Novelty of every embedded paper against the papers first submitted before it; stored with evidence."""
    from paperscope.semantic.novelty import compute_novelty, novelty_percentiles

    v = load_vectors(store)
    if not len(v.keys):
        return {"papers": 0, "scored": 0}
    dates = [m[0] for m in v.meta]
    results = compute_novelty(v.keys, v.mat, dates, k=k, progress=progress)
    groups = [(m[1], m[0][:4]) for m in v.meta]
    pcts = novelty_percentiles(results, groups)
    id_of = dict(zip(v.keys.tolist(), v.ids))
    dup = DUPLICATE_SIMILARITY.get(v.model, 0.9)
    rows = []
    for r, pct in zip(results, pcts):
        reason = r.reason
        if r.neighbours and r.neighbours[0][1] >= dup:
            pct, reason = 0.0, f"near-duplicate of {id_of[r.neighbours[0][0]]} (similarity {r.neighbours[0][1]:.2f})"
        rows.append((id_of[r.key], r.novelty, pct, reason, [(id_of[n], s) for n, s in r.neighbours]))
    store.save_novelty(v.model, k, rows, now or datetime.now(UTC))
    return {"papers": len(rows), "scored": sum(1 for r in rows if r[1] is not None), "k": k, "model": v.model}


def explain_novelty(store: SQLiteStore, arxiv_id: str) -> dict[str, Any]:
    """A paper's novelty, its percentile, and the earlier papers it was measured against."""
    got = store.novelty_for([arxiv_id]).get(arxiv_id)
    if got is None:
        raise PaperscopeError(f"{arxiv_id}: no novelty yet (run `paperscope embed` then `paperscope novelty`)")
    nb = store.get_papers([n for n, _ in got["neighbours"]])
    sims = dict(got["neighbours"])
    return {"id": arxiv_id, "novelty": got["value"], "percentile": got["percentile"], "k": got["k"],
            "reason": got["reason"], "computed": got["computed"],
            "neighbours": [{"id": p.id, "title": p.title, "submitted": p.first_submitted.date().isoformat(),
                            "similarity": sims[p.id]} for p in nb]}


# ------------------------------------------------------------------------------------------------ similar
def similar_papers(store: SQLiteStore, arxiv_id: str, *, k: int = 10) -> list[tuple[Paper, float]]:
    """The k papers nearest in meaning to one paper of the library."""
    v = load_vectors(store)
    if arxiv_id not in v.row_of:
        raise PaperscopeError(f"{arxiv_id}: not embedded (is it in the library? run `paperscope embed`)")
    keys, sims = v.index.search(v.vector(arxiv_id)[None, :], k + 1)
    return _papers_for(store, keys[0], sims[0], exclude={arxiv_id})[:k]


def _papers_for(store: SQLiteStore, keys: np.ndarray, sims: np.ndarray,
                exclude: set[str] = frozenset()) -> list[tuple[Paper, float]]:  # type: ignore[assignment]
    ok = [(int(kk), float(s)) for kk, s in zip(keys, sims) if kk >= 0]
    ids = store.ids_for_keys([kk for kk, _ in ok])
    wanted = [(ids[kk], s) for kk, s in ok if kk in ids and ids[kk] not in exclude]
    papers = {p.id: p for p in store.get_papers([i for i, _ in wanted])}
    return [(papers[i], s) for i, s in wanted if i in papers]


def similar_authors(store: SQLiteStore, name: str, *, k: int = 10, author_id: str | None = None,
                    pool: int = 400) -> list[dict[str, Any]]:
    """Authors nearest in meaning (the mean of their papers' vectors), with shared co-authors as a bonus."""
    from paperscope.authors import find_author
    from paperscope.scoring.names import display_name, name_key

    person = find_author(store, name, author_id=author_id)
    v = load_vectors(store)
    mine = [i for i in person.paper_ids if i in v.row_of]
    if not mine:
        raise PaperscopeError(f"{person.name}: none of their papers is embedded yet (run `paperscope embed`)")
    centre = v.mat[[v.row_of[i] for i in mine]].mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    keys, _ = v.index.search(centre[None, :], pool)
    near = [p for p, _ in _papers_for(store, keys[0], np.zeros(len(keys[0])), exclude=set(mine))]
    me = name_key(person.name)
    my_coauthors = {name_key(a.name) for p in store.get_papers(mine) for a in p.authors} - {me}
    by_author: dict[str, list[str]] = defaultdict(list)
    spelled: dict[str, str] = {}
    coauthors_of: dict[str, set[str]] = defaultdict(set)
    for p in near:
        keys_here = [name_key(a.name) for a in p.authors]
        for a, key in zip(p.authors, keys_here):
            if key == me:
                continue
            by_author[key].append(p.id)
            spelled.setdefault(key, display_name(a.name))
            coauthors_of[key].update(keys_here)
    out = []
    for key, ids in by_author.items():
        vec = v.mat[[v.row_of[i] for i in ids]].mean(axis=0)
        sim = float(vec @ centre / max(float(np.linalg.norm(vec)), 1e-12))
        shared = len((coauthors_of[key] - {key}) & my_coauthors)
        score = 0.8 * sim + 0.2 * min(1.0, shared / 3)
        out.append({"name": spelled[key], "key": key, "score": round(score, 4), "similarity": round(sim, 4),
                    "shared_coauthors": shared, "papers_considered": len(ids),
                    "coauthor": key in my_coauthors})
    out.sort(key=lambda d: (-d["score"], d["name"]))
    return out[:k]


# ------------------------------------------------------------------------------------------------ search
def semantic_search(store: SQLiteStore, query: str, *, limit: int = 20, pool: int = 50) -> list[dict[str, Any]]:
    """Hybrid search: full-text (BM25) and vector results fused by reciprocal rank; each hit shows both ranks."""
    from paperscope.query import parse_query
    from paperscope.semantic.embed import paper_text

    text_hits = store.search(parse_query(query).to_fts5(), order="relevance", limit=pool)
    v = load_vectors(store)
    qv = _embedder(v.model).embed([paper_text(query, "")])
    keys, sims = v.index.search(qv, pool)
    vec_hits = _papers_for(store, keys[0], sims[0])
    fused: dict[str, dict[str, Any]] = {}
    for rank, p in enumerate(text_hits, 1):
        fused.setdefault(p.id, {"paper": p, "text_rank": None, "vector_rank": None, "similarity": None})
        fused[p.id]["text_rank"] = rank
    for rank, (p, s) in enumerate(vec_hits, 1):
        fused.setdefault(p.id, {"paper": p, "text_rank": None, "vector_rank": None, "similarity": None})
        fused[p.id]["vector_rank"] = rank
        fused[p.id]["similarity"] = round(s, 4)
    for d in fused.values():
        d["score"] = round(sum(1 / (RRF_K + r) for r in (d["text_rank"], d["vector_rank"]) if r), 6)
    return sorted(fused.values(), key=lambda d: (-d["score"], d["paper"].id))[:limit]


# ------------------------------------------------------------------------------------------------ recommend
@dataclass(slots=True)
class Recommendation:
    paper: Paper
    score: float
    resembles: list[tuple[str, str, float]]  # (library paper id, title, similarity)


@dataclass(slots=True)
class RecommendReport:
    recommendations: list[Recommendation]
    library_items: int
    matched: int
    unmatched: list[str]
    problems: list[str]


def recommend(store: SQLiteStore, library: str | Path, *, days: int = 30, limit: int = 20,
              threshold: float = 0.0, today: date | None = None,
              not_interested: Sequence[str] = ()) -> RecommendReport:
    """Rank recent papers by likeness to the researcher's own library; recent library items weigh more."""
    from paperscope.libraryfile import read_library

    lib = read_library(library)
    today = today or datetime.now(UTC).date()
    v = load_vectors(store)
    matched: dict[str, float] = {}
    unmatched: list[str] = []
    by_doi = store.ids_by_doi([it.doi for it in lib.items if it.doi and not it.arxiv_id])
    for it in lib.items:
        pid = it.arxiv_id or (by_doi.get(it.doi.lower()) if it.doi else None)
        if pid is None and it.title:
            hits = store.search(_title_match(it.title), limit=1) if _title_match(it.title) else []
            pid = hits[0].id if hits and _same_title(hits[0].title, it.title) else None
        if pid is None or pid not in v.row_of:
            unmatched.append(it.arxiv_id or it.doi or it.title or f"line {it.source_line}")
            continue
        age = (today - it.added).days if it.added else RECENCY_HALF_LIFE_DAYS
        matched[pid] = max(matched.get(pid, 0.0), 0.5 ** (max(age, 0) / RECENCY_HALF_LIFE_DAYS))
    if not matched:
        raise InputError(f"{library}: none of its {len(lib.items)} items is in the library with a vector "
                         "(import or fetch those papers, then `paperscope embed`)")
    skip = set(matched) | set(not_interested) | store.not_interested()
    since = (today - timedelta(days=days)).isoformat()
    cands = [i for i in store.recent_ids(since) if i in v.row_of and i not in skip]
    if not cands:
        return RecommendReport([], len(lib.items), len(matched), unmatched, lib.problems)
    lib_ids = list(matched)
    weights = np.array([matched[i] for i in lib_ids], dtype=np.float32)
    L = v.mat[[v.row_of[i] for i in lib_ids]]
    C = v.mat[[v.row_of[i] for i in cands]]
    sims = C @ L.T
    weighted = sims * weights[None, :]
    top = np.argsort(-weighted, axis=1)[:, :3]
    scores = np.take_along_axis(weighted, top, axis=1).mean(axis=1)
    order = np.argsort(-scores, kind="stable")
    titles = {p.id: p.title for p in store.get_papers(lib_ids)}
    picked = [int(i) for i in order if scores[i] >= threshold][:limit]
    papers = {p.id: p for p in store.get_papers([cands[i] for i in picked])}
    recs = [Recommendation(papers[cands[i]], round(float(scores[i]), 4),
                           [(lib_ids[j], titles.get(lib_ids[j], ""), round(float(sims[i, j]), 4)) for j in top[i]
                            if sims[i, j] > 0])
            for i in picked]
    return RecommendReport(recs, len(lib.items), len(matched), unmatched, lib.problems)


def library_fit(store: SQLiteStore, library: str | Path, ids: Sequence[str]) -> dict[str, float]:
    """How close each paper is to the researcher's library: its highest similarity to a library paper."""
    from paperscope.libraryfile import read_library

    lib = read_library(library)
    v = load_vectors(store)
    lib_ids = [it.arxiv_id for it in lib.items if it.arxiv_id in v.row_of]
    have = [i for i in ids if i in v.row_of]
    if not lib_ids or not have:
        return {}
    sims = v.mat[[v.row_of[i] for i in have]] @ v.mat[[v.row_of[i] for i in lib_ids]].T
    return {i: float(s) for i, s in zip(have, sims.max(axis=1))}


def _title_match(title: str) -> str:
    words = [w for w in "".join(c if c.isalnum() else " " for c in title).split() if len(w) > 1][:12]
    return "title : (" + " ".join('"' + w + '"' for w in words) + ")" if words else ""


def _same_title(a: str, b: str) -> bool:
    norm = lambda s: "".join(c for c in s.lower() if c.isalnum())  # noqa: E731
    return norm(a) == norm(b)


# ------------------------------------------------------------------------------------------------ AI Score
def compute_scores(store: SQLiteStore, *, now: datetime | None = None, min_train: int = 200) -> dict[str, Any]:
    """Per-paper AI Score for every embedded paper: a model trained on cited papers, or the documented formula."""
    from paperscope.scoring.aiscore import PaperFeatures, paper_scores

    v = load_vectors(store)
    papers = store.get_papers(v.ids)
    cites = store.citations_for(v.ids)
    novelty = {i: d["percentile"] for i, d in store.novelty_for(v.ids).items()}
    author_h = _author_h_percentiles(store, v.ids)
    feats = [PaperFeatures.from_paper(p, v.vector(p.id)) for p in papers]
    report = paper_scores(feats, {i: c["cited_by_count"] for i, c in cites.items()}, novelty=novelty,
                          author_h=author_h, min_train=min_train)
    store.save_scores([(i, float(s), report.method, report.inputs.get(i, {})) for i, s in report.scores.items()],
                      now or datetime.now(UTC))
    return {"papers": len(report.scores), "method": report.method, "reason": report.reason,
            "formula": report.formula, "held_out_spearman": report.held_out_spearman, "n_train": report.n_train,
            "n_holdout": report.n_holdout, "with_citations": report.n_with_citations}


def _author_h_percentiles(store: SQLiteStore, ids: Sequence[str]) -> dict[str, float]:
    """Per paper, the highest OpenAlex h-index among its authors, as a percentile of the known authors."""
    ships = store.authorships_for(ids)
    hs: dict[str, int] = {}
    for rows in ships.values():
        for r in rows:
            if r["openalex_id"] and r["openalex_id"] not in hs:
                st = store.author_stats(r["openalex_id"])
                if st and st["h_index"] is not None:
                    hs[r["openalex_id"]] = st["h_index"]
    if not hs:
        return {}
    values = np.sort(np.array(list(hs.values())))
    pct = {a: 100.0 * np.searchsorted(values, h, side="right") / len(values) for a, h in hs.items()}
    out = {}
    for pid, rows in ships.items():
        known = [pct[r["openalex_id"]] for r in rows if r["openalex_id"] in pct]
        if known:
            out[pid] = float(max(known))
    return out


def author_figures(store: SQLiteStore, paper_ids: Sequence[str], *, today: date,
                   weights: dict[str, float] | None = None) -> tuple[dict[str, float], dict[str, float],
                                                                      Figure, Figure]:
    """Per-paper novelty percentiles and scores, and the author's Novelty and Score figures with their inputs."""
    from paperscope.scoring.aiscore import DEFAULT_AUTHOR_WEIGHTS, author_score

    nov = {i: d["percentile"] for i, d in store.novelty_for(paper_ids).items() if d["percentile"] is not None}
    sc = {i: d["value"] for i, d in store.scores_for(paper_ids).items()}
    novelty_fig = Figure("Novelty", None, "— (run `paperscope novelty`)")
    if nov:
        mean = sum(nov.values()) / len(nov)
        novelty_fig = Figure("Novelty", round(mean, 1), "library (mean novelty percentile of their papers)",
                             {"papers scored": len(nov), "papers": len(paper_ids)})
    score_fig = Figure("Score", None, "— (run `paperscope score`)")
    if sc:
        papers = store.get_papers(paper_ids)
        year_ago = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=365)
        cites = store.citations_for(paper_ids)
        recent_cites = sum(c["counts_by_year"].get(today.year, 0) + c["counts_by_year"].get(today.year - 1, 0) // 2
                           for c in cites.values())
        momentum = {"papers_12m": sum(1 for p in papers if p.first_submitted >= year_ago),
                    "citations_12m": recent_cites}
        score_fig = author_score(list(sc.values()), None, novelty_fig.value,  # type: ignore[arg-type]
                                 momentum, weights or DEFAULT_AUTHOR_WEIGHTS)
    return nov, sc, novelty_fig, score_fig

