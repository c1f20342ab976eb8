"""Meaning: embeddings, explained novelty, similar papers and authors, recommendations, ratings, AI Score.

Vectors come from the Library's in-memory vector space (loaded once per process, reloaded when embeddings
change), and the embedder is the Library's cached one, so a long-running process answers in milliseconds.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paperscope.errors import InputError, NotFound, NotReady
from paperscope.library import Library
from paperscope.models import Figure, Paper
from paperscope.service.papers import Neighbour, NoveltyInfo, get_paper, novelty_info
from paperscope.service.collector import rare_collections
from paperscope.service.results import Result
from paperscope.service.novelty import NoveltyRun, novelty
from paperscope.service.score_workers import CHUNK as SCORE_WORKER_CHUNK
from paperscope.service.score_workers import PARALLEL_FROM as SCORE_PARALLEL_FROM
from paperscope.service.score_workers import ScorePool, library_file
from paperscope.store.api import PaperQuery, ToEmbed

if TYPE_CHECKING:
    from paperscope.scoring.aiscore import ScoreReport
    from paperscope.scoring.names import Identity
    from paperscope.semantic.ranker import DocFreq

RECENCY_HALF_LIFE_DAYS = 180  # a library item added half a year ago weighs half as much
RATINGS = ("up", "down", "not_interested", "none")

Progress = Callable[[int], None]


# ------------------------------------------------------------------------------------------------ embed
@dataclass(slots=True)
class EmbedResult(Result):
    model: str
    dim: int
    embedded: int
    asked: int


def embed(lib: Library, *, model: str | None = None, replace: bool = False, progress: Progress | None = None,
          batch: int = 2000) -> EmbedResult:
    """Embed every paper that has no vector from the model yet, or whose version changed since (a big backlog in
    one process per core)."""
    from paperscope.semantic.embed import StaticEmbedder, paper_text

    store = lib.store
    emb = lib.embedder(model or store.active_model())
    store.set_active_model(emb.name, replace=replace)
    # Papers the change log names since the last run, unless there is no mark yet (or the model changed): then
    # every paper is looked at once.
    mark, upto = f"embed:seq:{emb.name}", store.change_seq()
    seen = store.get_state(mark)
    if not replace and isinstance(seen, int) and seen <= upto:
        keys = [pk for seq, pk, _ in store.changed_since(seen) if seq <= upto]
        todo = len(set(keys))
        source = store.papers_to_embed(emb.name, batch=batch, keys=keys)
    else:
        todo = store.count_to_embed(emb.name)
        source = store.papers_to_embed(emb.name, batch=batch)
    done = 0
    workers = min(os.cpu_count() or 1, 4)
    if todo >= PARALLEL_FROM and workers > 1 and isinstance(emb, StaticEmbedder):
        done = _embed_in_processes(lib, emb.name, source, workers, progress)
    else:
        for rows in source:
            vecs = emb.embed([paper_text(t, a) for _, _, t, a in rows])
            store.save_embeddings(emb.name, [(i, v, vecs[j]) for j, (i, v, _, _) in enumerate(rows)])
            done += len(rows)
            if progress:
                progress(len(rows))
    store.set_state(mark, upto)
    if done:
        lib.vectors()  # the vector index beside the library takes the new vectors now, not at the first search
    return EmbedResult(emb.name, emb.dim, done, todo)


PARALLEL_FROM = 50_000  # papers to embed from which worker processes pay for their start (~1 s each)


def _embed_in_processes(lib: Library, name: str, source: Iterable[list[ToEmbed]], workers: int,
                        progress: Progress | None) -> int:
    """Texts go to `workers` processes, a few batches ahead; vectors are written in order as they come back."""
    from collections import deque
    from concurrent.futures import Future

    from paperscope.semantic.embed import EmbedderPool, paper_text

    store = lib.store
    done = 0
    pending: deque[tuple[list[ToEmbed], Future[np.ndarray]]] = deque()

    def write_oldest() -> None:
        nonlocal done
        rows, fut = pending.popleft()
        vecs = fut.result()
        store.save_embeddings(name, [(i, v, vecs[j]) for j, (i, v, _, _) in enumerate(rows)])
        done += len(rows)
        if progress:
            progress(len(rows))

    with EmbedderPool(name, workers) as pool:
        for rows in source:
            pending.append((rows, pool.submit([paper_text(t, a) for _, _, t, a in rows])))
            if len(pending) >= 2 * workers:
                write_oldest()
        while pending:
            write_oldest()
    return done


# ------------------------------------------------------------------------------------------------ novelty
# novelty() and NoveltyRun live in service/novelty.py; imported above, so callers may name them from here.


@dataclass(slots=True)
class NoveltyExplained(Result):
    id: str
    novelty: NoveltyInfo


def explain_novelty(lib: Library, paper_id: str) -> NoveltyExplained:
    """A paper's novelty, its percentile, and the earlier papers it was measured against."""
    p = get_paper(lib, paper_id)
    got = novelty_info(lib, p.id)
    if got is None:
        raise NotReady(f"{p.id}: no novelty yet", needs="novelty" if lib.store.active_model() else "embed")
    return NoveltyExplained(p.id, got)


# ------------------------------------------------------------------------------------------------ similar
@dataclass(slots=True)
class SimilarHit(Result):
    paper: Paper
    similarity: float


@dataclass(slots=True)
class SimilarResult(Result):
    id: str
    hits: list[SimilarHit]


def _hits(lib: Library, near: list[tuple[str, float]]) -> list[SimilarHit]:
    papers = {p.id: p for p in lib.store.get_papers([i for i, _ in near])}
    return [SimilarHit(papers[i], round(s, 4)) for i, s in near if i in papers]


def similar(lib: Library, paper_id: str, *, k: int = 10) -> SimilarResult:
    """The k papers nearest in meaning to one paper of the library."""
    p = get_paper(lib, paper_id)
    v = lib.vectors()
    if p.id not in v:
        raise NotReady(f"{p.id}: not embedded yet", needs="embed")
    return SimilarResult(p.id, _hits(lib, v.nearest(v.vector(p.id), k, exclude={p.id})))


@dataclass(slots=True)
class SimilarAuthor(Result):
    name: str
    key: str
    score: float
    similarity: float
    shared_coauthors: int
    papers_considered: int
    coauthor: bool


@dataclass(slots=True)
class SimilarAuthorsResult(Result):
    name: str
    authors: list[SimilarAuthor]


def similar_authors(lib: Library, name: str, *, k: int = 10, author_id: str | None = None,
                    pool: int = 400) -> SimilarAuthorsResult:
    """Authors nearest in meaning (the mean of their papers' vectors), with shared co-authors as a bonus."""
    from paperscope.service.people import find_author

    return similar_to_person(lib, find_author(lib.store, name, author_id=author_id), k=k, pool=pool)


def similar_to_person(lib: Library, person: Identity, *, k: int = 10, pool: int = 400) -> SimilarAuthorsResult:
    """`similar_authors` of a person already found (NotReady when none of their papers is embedded)."""
    from paperscope.scoring.names import display_name, name_key

    store = lib.store
    v = lib.vectors()
    mine = v.present(person.paper_ids)
    if not mine:
        raise NotReady(f"{person.name}: none of their papers is embedded yet", needs="embed")
    centre = v.rows(mine).mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    near = [h.paper for h in _hits(lib, v.nearest(centre, pool, exclude=set(mine)))]
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
    keys = list(by_author)
    if not keys:  # nobody else near (a library of one author's papers)
        return SimilarAuthorsResult(display_name(person.name), [])
    near_ids = list(dict.fromkeys(pid for ids in by_author.values() for pid in ids))
    near_rows = v.rows(near_ids)  # one read of the store, not one an author
    row_of = {pid: i for i, pid in enumerate(near_ids)}
    # each author's papers summed in one pass (the mean's direction: its cosine with the centre is the same)
    rows = np.fromiter((row_of[pid] for key in keys for pid in by_author[key]), dtype=np.intp)
    starts = np.cumsum([0] + [len(by_author[key]) for key in keys[:-1]])
    sums = np.add.reduceat(near_rows[rows].astype(np.float64), starts, axis=0)
    sims = (sums @ centre) / np.maximum(np.linalg.norm(sums, axis=1), 1e-12)
    out = []
    for key, sim in zip(keys, sims.tolist()):
        shared = len((coauthors_of[key] - {key}) & my_coauthors)
        score = 0.8 * sim + 0.2 * min(1.0, shared / 3)
        out.append(SimilarAuthor(spelled[key], key, round(score, 4), round(sim, 4), shared, len(by_author[key]),
                                 key in my_coauthors))
    out.sort(key=lambda d: (-d.score, d.name))
    return SimilarAuthorsResult(display_name(person.name), out[:k])


# ------------------------------------------------------------------------------------------------ recommend
@dataclass(slots=True)
class Resemblance(Result):
    id: str
    title: str
    similarity: float


@dataclass(slots=True)
class WhyTerm(Result):
    term: str
    weight: float  # its part of the word score: tf-idf in the paper × weight in the library's profile


@dataclass(slots=True)
class Why(Result):
    """Why a paper is recommended: the library papers it shares most words with (tf-idf cosine), the terms that
    add most to its score, the two parts of the score, and the rated-down paper it is nearest (if any)."""

    papers: list[Resemblance]
    terms: list[WhyTerm]
    words: float  # cosine to the library's tf-idf profile (minus the rated-down profile's)
    embedding: float  # mean cosine of its three nearest library papers in the embedding
    near_disliked: list[Resemblance] = field(default_factory=list)


@dataclass(slots=True)
class Recommendation(Result):
    paper: Paper
    score: float  # the z-scored words part plus a share of the z-scored embedding part: 0 is the window's average
    why: Why

    @property
    def resembles(self) -> list[Resemblance]:
        """The library papers it resembles most (the digest labels recommendations with them)."""
        return self.why.papers

    @property
    def terms(self) -> list[str]:
        return [t.term for t in self.why.terms]


@dataclass(slots=True)
class RecommendResult(Result):
    recommendations: list[Recommendation]
    library_items: int
    matched: int
    unmatched: list[str]
    problems: list[str]
    since: date | None = None
    until: date | None = None


def _library_ids(lib: Library, library: str | Path, today: date) -> tuple[dict[str, float], list[str], int,
                                                                          list[str]]:
    """Library-file items found in the library with a vector: id -> recency weight; and what was not found."""
    parsed = lib.library_file(library)
    v = lib.vectors()
    store = lib.store
    matched: dict[str, float] = {}
    unmatched: list[str] = []
    by_doi = store.ids_by_doi([it.doi for it in parsed.items if it.doi and not it.arxiv_id])
    for it in parsed.items:
        pid = it.arxiv_id or (by_doi.get(it.doi.lower()) if it.doi else None)
        if pid is None and it.title:
            words = _title_words(it.title)
            hits = store.search(PaperQuery(title_words=words), limit=1) if words else []
            pid = hits[0].id if hits and _same_title(hits[0].title, it.title) else None
        if pid is None or pid not in v:
            unmatched.append(it.arxiv_id or it.doi or it.title or f"line {it.source_line}")
            continue
        age = (today - it.added).days if it.added else RECENCY_HALF_LIFE_DAYS
        matched[pid] = max(matched.get(pid, 0.0), 0.5 ** (max(age, 0) / RECENCY_HALF_LIFE_DAYS))
    return matched, unmatched, len(parsed.items), list(parsed.problems)


def rated_up(lib: Library) -> list[str]:
    """The papers the researcher rated up (👍): with no library file, they are the library."""
    return [i for i, r in lib.store.ratings().items() if r == "up"]


def newest_announcement(lib: Library) -> date:
    """The day of the newest paper in the library (what `--days` counts back from), else today."""
    newest = lib.store.search(PaperQuery(), order="date", limit=1)
    return newest[0].updated.date() if newest else lib.today()


def recommend(lib: Library, library: str | Path | None = None, *, days: int | None = None,
              since: date | None = None, until: date | None = None, limit: int = 20, threshold: float = 0.0,
              today: date | None = None) -> RecommendResult:
    """Rank papers of a window (`since`..`until`, or the last `days` before the newest paper in the library)
    by likeness to the researcher's own library (semantic/ranker.py); 👍 papers count double in it, 👎 and
    not-interested ones are left out and push their look-alikes down. Without a library file the 👍 papers
    alone are the library. Each recommendation says why."""
    path = library or lib.settings.library_file
    store = lib.store
    rated = store.ratings()
    if not path and "up" not in rated.values():
        raise InputError("no library file given and no paper rated up (👍) yet: set library_file in the config, "
                         "or rate papers up")
    day = today or lib.today()
    if since is None:
        end = until or newest_announcement(lib)
        since = end - timedelta(days=days if days is not None else int(lib.settings.recommend_days))
    matched: dict[str, float] = {}
    unmatched: list[str] = []
    problems: list[str] = []
    n_items = 0
    if path:
        matched, unmatched, n_items, problems = _library_ids(lib, str(Path(str(path)).expanduser()), day)
    v = lib.vectors()
    for pid, r in rated.items():
        if r == "up" and pid in v:
            matched.setdefault(pid, 1.0)
    if not matched:
        raise InputError(f"{path}: none of its {n_items} items is in the library with a vector "
                         "(import or fetch those papers, then embed them)" if path else
                         "none of the papers rated up (👍) is embedded yet (run `paperscope embed`)")
    skip = set(matched) | store.not_interested() | {i for i, r in rated.items() if r == "down"}
    # the window comes from the vector space's own dates: no scan of the papers table per call
    cands = [i for i in v.submitted_between(since.isoformat(), until.isoformat() if until else None)
             if i not in skip]
    if not cands:
        return RecommendResult([], n_items, len(matched), unmatched, problems, since, until)
    from paperscope.semantic.ranker import LIKED_WEIGHT, PaperSet, rank

    lib_ids = list(matched)
    liked = {i for i, r in rated.items() if r == "up"}
    disliked = [i for i in sorted(store.not_interested() | {i for i, r in rated.items() if r == "down"}) if i in v]

    def paper_set(pids: list[str]) -> tuple[PaperSet, dict[str, Paper]]:
        got = {p.id: p for p in store.get_papers(pids)}
        pids = [i for i in pids if i in got]
        ps = [got[i] for i in pids]
        return PaperSet(pids, [f"{p.title} {p.abstract}" for p in ps], v.rows(pids),  # words only: no tidying
                        titles=[p.title for p in ps],
                        weights=[LIKED_WEIGHT if i in liked else 1.0 for i in pids]), got

    positives, _ = paper_set(lib_ids)
    negatives, _ = paper_set(disliked)
    candidates, papers = paper_set(cands)
    if not len(positives):
        raise InputError(f"{path}: none of its {n_items} items is in the library with a vector "
                         "(import or fetch those papers, then embed them)" if path else
                         "none of the papers rated up (👍) is in the library any more")
    ranked = rank(candidates, positives, negatives, doc_freq=_doc_freq(lib), limit=limit)
    disliked_title = dict(zip(negatives.ids, negatives.titles or []))
    recs = [Recommendation(papers[r.id], round(r.score, 4), Why(
        [Resemblance(i, t, round(sim, 4)) for i, t, sim in r.similar],
        [WhyTerm(t, round(w, 4)) for t, w in r.terms],
        round(r.model_score, 4), round(r.neighbour_score, 4),
        [Resemblance(i, disliked_title.get(i, ""), round(sim, 4)) for i, sim in r.disliked_similar]))
        for r in ranked if r.score >= threshold]
    return RecommendResult(recs, n_items, len(matched), unmatched, problems, since, until)


DF_SAMPLE = 100_000  # papers whose terms say how rare each term is in the field


def _doc_freq(lib: Library) -> DocFreq:
    """Term document frequencies over the library's embedded papers (an evenly spaced sample beyond DF_SAMPLE),
    saved beside the library and recounted when it has grown by a tenth: a bounded, once-a-while cost."""
    from paperscope.semantic.ranker import HASH_BITS, DocFreq, term_ids

    v = lib.vectors()
    stamp = f"{v.model}:{DF_SAMPLE}:{HASH_BITS}b2"
    path = lib.store.cache_path("recommend-df.npz")
    if path is not None and path.is_file():
        try:
            with np.load(path) as z:
                # a term's rarity moves slowly: recount when the library has grown by a tenth, not per embed
                if str(z["stamp"]) == stamp and len(v) <= 1.1 * int(z["papers"]):
                    return DocFreq(z["terms"], z["counts"], int(z["docs"]))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt
    n = len(v)
    sample = v.sample_ids(DF_SAMPLE)
    memo: dict[str, int] = {}
    parts: list[DocFreq] = []
    for at in range(0, len(sample), 10_000):  # papers in chunks: memory stays small
        papers = lib.store.get_papers(sample[at:at + 10_000])
        parts.append(DocFreq.of([term_ids(f"{p.title} {p.abstract}", memo) for p in papers]))
    df = DocFreq.merge(parts)
    if path is not None:
        try:
            tmp = path.with_name(path.name + ".tmp.npz")
            np.savez(tmp, stamp=np.array(stamp), terms=df.terms, counts=df.counts, docs=np.array(df.docs),
                     papers=np.array(n))
            tmp.replace(path)
        except OSError:
            pass  # a read-only disk: recomputed next process
    return df


def library_fit(lib: Library, library: str | Path | None, ids: Sequence[str]) -> dict[str, float]:
    """How close each paper is to the researcher's library: its highest similarity to a library paper (with no
    library file, to a paper they rated up)."""
    v = lib.vectors()
    if library:
        parsed = lib.library_file(library)
        lib_ids = v.present([it.arxiv_id for it in parsed.items if it.arxiv_id])
    else:
        lib_ids = v.present(rated_up(lib))
    have = v.present(list(ids))
    if not lib_ids or not have:
        return {}
    sims = v.rows(have) @ v.rows(lib_ids).T
    return {i: float(s) for i, s in zip(have, sims.max(axis=1))}


def _title_words(title: str) -> tuple[str, ...]:
    return tuple(w for w in "".join(c if c.isalnum() else " " for c in title).split() if len(w) > 1)[:12]


def _same_title(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return "".join(c for c in s.lower() if c.isalnum())

    return norm(a) == norm(b)


@dataclass(slots=True)
class RatingResult(Result):
    id: str
    rating: str
    ratings: int  # how many papers the researcher has rated


def rate(lib: Library, paper_id: str, rating: str) -> RatingResult:
    """Record 👍 ('up'), 👎 ('down'), 'not_interested', or take a rating back ('none'); the next
    recommendation ranking uses it."""
    if rating not in RATINGS:
        raise InputError(f"unknown rating {rating!r}: choose one of {', '.join(RATINGS)}")
    p = get_paper(lib, paper_id)
    if rating == "not_interested":
        lib.store.mark_not_interested([p.id], lib.now())
    else:
        lib.store.rate(p.id, rating, lib.now())
    return RatingResult(p.id, rating, len(lib.store.ratings()))


def mark_not_interested(lib: Library, ids: Sequence[str]) -> None:
    lib.store.mark_not_interested(list(ids), lib.now())


# ------------------------------------------------------------------------------------------------ AI Score
@dataclass(slots=True)
class ScoreRun(Result):
    papers: int
    method: str
    reason: str
    formula: str | None
    held_out_spearman: float | None
    n_train: int
    n_holdout: int
    with_citations: int


SCORE_CHUNK = 50_000


@rare_collections()
def score(lib: Library, *, min_train: int = 200, full: bool = False) -> ScoreRun:
    """AI Score of every embedded paper: a model trained on the library's cited papers when it has enough (every
    paper scored again, since citations move), else the pretrained impact model for the papers embedded since the
    last run only (a paper's pretrained score depends on nothing else), in chunks of bounded memory."""
    from paperscope.scoring.aiscore import HOLDOUT, MIN_FIT

    store = lib.store
    v = lib.vectors()
    needed = max(1, min_train)
    while needed - round(needed * HOLDOUT) < MIN_FIT:
        needed += 1
    local = store.count_with_citations() >= needed
    key = f"score:progress:{v.model}"
    saved = store.get_state(key)
    state = saved if isinstance(saved, dict) else {}
    epoch = store.embeddings_epoch()
    resume = not full and not local and state.get("epoch") == epoch and state.get("method") != "model"
    last = int(state["rowid"]) if resume and isinstance(state.get("rowid"), int) else 0  # type: ignore[arg-type]
    if local:
        return _score_all(lib, v.model, min_train, key, epoch)
    run = ScoreRun(0, str(state.get("method") or "pretrained"), str(state.get("reason") or ""), None, None, 0, 0, 0)

    def save(report: ScoreReport, upto: int) -> None:
        nonlocal run
        store.save_scores([(i, float(sc), report.method, report.inputs.get(i, {}))
                           for i, sc in report.scores.items()], lib.now())
        run = ScoreRun(run.papers + len(report.scores), report.method, report.reason, report.formula,
                       report.held_out_spearman, report.n_train, report.n_holdout,
                       run.with_citations + report.n_with_citations)
        store.set_state(key, {"epoch": epoch, "rowid": upto, "method": report.method, "reason": report.reason})

    workers = min(os.cpu_count() or 1, 4)
    db = library_file(lib)
    if db and workers > 1 and last == 0 and store.count_embedded(v.model) >= SCORE_PARALLEL_FROM:
        # A first scoring of a big library: chunks go to one process per core, written back in order.
        with ScorePool(lib, db, workers) as pool:
            while True:
                batch = store.embeddings_since(v.model, last, limit=SCORE_WORKER_CHUNK)
                if not len(batch.keys):
                    break
                last = batch.last
                pool.submit(last, batch.ids, batch.vectors, v.model, min_train)
                if pool.full():
                    upto, report = pool.oldest()
                    save(report, upto)
            while pool:
                upto, report = pool.oldest()
                save(report, upto)
        return run
    while True:
        batch = store.embeddings_since(v.model, last, limit=SCORE_CHUNK)
        if not len(batch.keys):
            break
        vec_of = dict(zip(batch.ids, batch.vectors))
        save(_score_papers(lib, batch.ids, vec_of, v.model, min_train), batch.last)
        last = batch.last
    return run


def _score_papers(lib: Library, ids: Sequence[str], vec_of: dict[str, np.ndarray], model: str,
                  min_train: int) -> ScoreReport:
    from paperscope.scoring.aiscore import PaperFeatures, paper_scores

    store = lib.store
    papers = store.get_papers(list(ids))
    cites = store.citations_for(list(ids))
    nov = {i: d["percentile"] for i, d in store.novelty_for(list(ids)).items()}
    author_h, raw_h = _author_h_percentiles(lib, list(ids))
    feats = [PaperFeatures.from_paper(p, vec_of.get(p.id), author_h_index=raw_h.get(p.id)) for p in papers]
    return paper_scores(feats, {i: c["cited_by_count"] for i, c in cites.items()}, novelty=nov,
                        author_h=author_h, min_train=min_train, embedder=model)


def _score_all(lib: Library, model: str, min_train: int, key: str, epoch: int) -> ScoreRun:
    """The local model: trained on every cited paper of the library, then every paper scored with it."""
    store = lib.store
    v = lib.vectors()
    ids: list[str] = []
    vec_of: dict[str, np.ndarray] = {}
    last = 0
    while True:
        batch = store.embeddings_since(model, last, limit=SCORE_CHUNK)
        if not len(batch.keys):
            break
        ids += batch.ids
        vec_of.update(zip(batch.ids, batch.vectors))
        last = batch.last
    report = _score_papers(lib, ids, vec_of, v.model, min_train)
    store.save_scores([(i, float(s), report.method, report.inputs.get(i, {})) for i, s in report.scores.items()],
                      lib.now())
    store.set_state(key, {"epoch": epoch, "rowid": last, "method": report.method, "reason": report.reason})
    return ScoreRun(len(report.scores), report.method, report.reason, report.formula, report.held_out_spearman,
                    report.n_train, report.n_holdout, report.n_with_citations)


def _author_h_percentiles(lib: Library, ids: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Per paper, the highest OpenAlex h-index among its authors: as a percentile of the known authors, and raw."""
    store = lib.store
    ships = store.authorships_for(ids)
    hs: dict[str, int] = {}
    for rows in ships.values():
        for r in rows:
            if r["openalex_id"] and r["openalex_id"] not in hs:
                st = store.author_stats(r["openalex_id"])
                if st and st["h_index"] is not None:
                    hs[r["openalex_id"]] = st["h_index"]
    if not hs:
        return {}, {}
    values = np.sort(np.array(list(hs.values())))
    pct = {a: 100.0 * np.searchsorted(values, h, side="right") / len(values) for a, h in hs.items()}
    out, raw = {}, {}
    for pid, rows in ships.items():
        known = [r["openalex_id"] for r in rows if r["openalex_id"] in pct]
        if known:
            out[pid] = float(max(pct[a] for a in known))
            raw[pid] = float(max(hs[a] for a in known))
    return out, raw


def author_figures(lib: Library, paper_ids: Sequence[str], *, today: date
                   ) -> tuple[dict[str, float], dict[str, float], Figure, Figure]:
    """Per-paper novelty percentiles and scores, and the author's Novelty and Score figures with their inputs.

    The Score figure is `author_impact_score`: each paper's actual citation percentile where the last
    `paperscope score` run found its citation count, else its AI Score, and the mean of the best five.
    """
    from collections import Counter

    from paperscope.scoring.aiscore import PaperEvidence, author_impact_score

    store = lib.store
    nov = {i: d["percentile"] for i, d in store.novelty_for(paper_ids).items() if d["percentile"] is not None}
    records = store.scores_for(paper_ids)
    sc = {i: d["value"] for i, d in records.items()}
    novelty_fig = Figure("Novelty", None, "— (novelty not computed yet)")
    if nov:
        mean = sum(nov.values()) / len(nov)
        novelty_fig = Figure("Novelty", round(mean, 1), "library (mean novelty percentile of their papers)",
                             {"papers scored": len(nov), "papers": len(paper_ids)})
    evidence: list[PaperEvidence] = []
    qualities: Counter[str] = Counter()
    for pid, rec in records.items():
        inp = rec["inputs"] if isinstance(rec["inputs"], dict) else {}
        act = inp.get("actual")
        act = act if isinstance(act, dict) else {}
        pct, size = act.get("percentile"), act.get("cohort_size")
        evidence.append(PaperEvidence(pid, float(rec["value"]),
                                      float(pct) if isinstance(pct, (int, float)) else None,
                                      str(act.get("cohort") or ""), int(size) if isinstance(size, int) else 0))
        model, rho = inp.get("model"), inp.get("held_out_spearman")
        if model:
            qualities[f"{model}, held-out Spearman {rho:.2f}" if isinstance(rho, (int, float)) else
                      f"{model}, no held-out figure"] += 1
    # Scores of one run share their model; a library scored twice may mix two, so name the commonest.
    shown = qualities.most_common(1)[0][0] if qualities else ""
    score_fig = author_impact_score(evidence, total_papers=len(paper_ids), quality=shown)
    return nov, sc, novelty_fig, score_fig


__all__ = ["EmbedResult", "NotFound", "Neighbour", "RecommendResult", "SimilarResult", "embed", "explain_novelty",
           "library_fit", "novelty", "rate", "recommend", "score", "similar", "similar_authors"]
