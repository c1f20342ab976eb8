"""Papers per second of the shipped static embedder: the word-cache path against the old one, same texts, same run.

    python bench/embed_speed.py --papers 20000              # title + abstract of real snapshot papers
    python bench/embed_speed.py --papers 20000 --service    # also `paperscope embed`'s loop around it (SQLite)

The old path (kept here as the reference) tokenized every text with the `tokenizers` library and summed each
text's token vectors in a Python loop. The new one tokenizes each distinct word once (a cache), sums the same
vectors in the same order, and sums one slice in a second thread while the next is tokenized. Figures: median
papers/s over --repeat runs, wall clock and per CPU-second of this process (the machine may be shared: the
per-CPU-second figure says what one core does, the wall figure what this run got), the ratio new/old from the
same run, and the largest difference between the two sets of vectors. "cold" is a fresh embedder (empty word
cache); "primed" one that has embedded as many other papers first (a long run after its first batches: most
words known, some new); "same texts again" has every word cached (an upper bound).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CORPUS = Path("/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz")


class OldStaticEmbedder:
    """The static embedder as it was: tokenizers' encode_batch, then one gather-and-sum per text."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.max_tokens = int(cfg.get("max_tokens", 512))
        self._vectors = np.load(model_dir / "embeddings.npy").astype(np.float32)
        self.dim = int(self._vectors.shape[1])
        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.no_truncation()

    def embed(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = [t or "" for t in texts[start : start + batch_size]]
            encs = self._tok.encode_batch(chunk, add_special_tokens=False)
            summed = np.zeros((len(chunk), self.dim), dtype=np.float32)
            for row, enc in enumerate(encs):
                ids = enc.ids[: self.max_tokens]
                if ids:
                    summed[row] = self._vectors[ids].sum(axis=0)
            norms = np.linalg.norm(summed, axis=1, keepdims=True)
            out[start : start + len(chunk)] = summed / np.maximum(norms, 1e-12)
        return out


def real_texts(n: int, corpus: Path) -> tuple[list[str], list[str]]:
    """Title + abstract of n real papers spread over the corpus file, and of n others (to prime a cache)."""
    from paperscope.semantic.embed import paper_text

    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        texts = [paper_text(r.get("title", ""), r.get("abstract", "")) for r in map(json.loads, f)]
    step = max(len(texts) // (2 * n), 1)
    return texts[::step][: 2 * n : 2], texts[1::step][: 2 * n : 2]


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def service_loop(n: int) -> None:
    """`paperscope embed` on a fresh SQLite library of n snapshot papers, against the embedder alone."""
    from paperscope.config import Config
    from paperscope.library import Library
    from paperscope.semantic.embed import load_embedder, paper_text
    from paperscope.service import meaning

    with tempfile.TemporaryDirectory() as tmp:
        snap, db = Path(tmp) / "snap.jsonl", Path(tmp) / "lib.db"
        subprocess.run([sys.executable, str(HERE / "make_snapshot.py"), "--n", str(n), "--out", str(snap)],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "paperscope", "--db", str(db), "import", str(snap), "--no-embed"],
                       check=True, stdout=subprocess.DEVNULL)
        with Library.open(db, Config(None)) as lib:
            rows = [r for batch in lib.store.papers_to_embed(load_embedder().name) for r in batch]
            emb = lib.embedder()
            emb.embed([paper_text(t, a) for _, _, t, a in rows])  # warm the word cache, as a long run is
            read, _, _ = timed(lambda: [r for b in lib.store.papers_to_embed(emb.name) for r in b])
            join, _, texts = timed(lambda: [paper_text(t, a) for _, _, t, a in rows])
            alone, _, vecs = timed(lambda: emb.embed(texts))  # type: ignore[arg-type]
            whole, _, res = timed(lambda: meaning.embed(lib))
            # the writes again, as meaning.embed makes them (batches of 2000, INSERT OR REPLACE)
            out = [(i, v, vecs[j]) for j, (i, v, _, _) in enumerate(rows)]  # type: ignore[index]
            write, _, _ = timed(lambda: [lib.store.save_embeddings(emb.name, out[k : k + 2000])
                                         for k in range(0, len(out), 2000)])
    n = len(rows)
    print(f"\nservice loop, {n:,} papers, warm cache: meaning.embed {n / whole:,.0f} papers/s "
          f"(embedded {res.embedded:,}); of its time: embedder {100 * alone / whole:.0f} %, "  # type: ignore[attr-defined]
          f"SQLite writes {100 * write / whole:.0f} %, paper_text {100 * join / whole:.0f} %, "
          f"reading rows {100 * read / whole:.0f} %")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--service", action="store_true", help="also time service.meaning.embed on a SQLite library")
    args = ap.parse_args()

    import paperscope.semantic.embed as E

    texts, others = real_texts(args.papers, args.corpus)
    folder = E.MODELS_DIR / E.DEFAULT_MODEL
    old = OldStaticEmbedder(folder)
    print(f"{len(texts):,} real papers (title + abstract), {sum(map(len, texts)) / len(texts):,.0f} characters each")

    figures: dict[str, list[tuple[float, float]]] = {}
    want = got = np.zeros(0)
    for _ in range(args.repeat):  # interleaved, so that a busy spell on the machine hits every variant
        wall, cpu, want = timed(lambda: old.embed(texts))  # type: ignore[assignment]
        figures.setdefault("old (tokenizers encode_batch)", []).append((wall, cpu))
        new = E.StaticEmbedder(folder)
        wall, cpu, got = timed(lambda: new.embed(texts))  # type: ignore[assignment]
        figures.setdefault("new, cold cache", []).append((wall, cpu))
        primed = E.StaticEmbedder(folder)
        primed.embed(others)
        wall, cpu, _ = timed(lambda: primed.embed(texts))
        figures.setdefault("new, primed on other papers", []).append((wall, cpu))
        wall, cpu, _ = timed(lambda: new.embed(texts))
        figures.setdefault("new, same texts again", []).append((wall, cpu))
        single = E.StaticEmbedder(folder, threads=1)
        single.embed(others)
        wall, cpu, _ = timed(lambda: single.embed(texts))
        figures.setdefault("new, primed, one thread", []).append((wall, cpu))

    base_wall = statistics.median(w for w, _ in figures["old (tokenizers encode_batch)"])
    base_cpu = statistics.median(c for _, c in figures["old (tokenizers encode_batch)"])
    print(f"{'':32} {'papers/s':>10} {'per CPU-s':>10} {'x old':>7} {'x old/CPU-s':>12}")
    for name, runs in figures.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:32} {len(texts) / wall:>10,.0f} {len(texts) / cpu:>10,.0f} "
              f"{base_wall / wall:>7.2f} {base_cpu / cpu:>12.2f}")
    diff = float(np.abs(np.asarray(got) - np.asarray(want)).max())
    print(f"max abs difference new - old: {diff:.3g} (identical: {np.array_equal(got, want)}); "
          f"zero rows: old {int((~np.asarray(want).any(axis=1)).sum())}, new {int((~np.asarray(got).any(axis=1)).sum())}")
    if args.service:
        service_loop(args.papers)


if __name__ == "__main__":
    main()
