"""Meaning: offline sentence embeddings, a vector index and explained novelty.

Independent of the SQLite store; importing this package loads numpy only (torch,
tokenizers and hnswlib are imported when first needed).
"""

from paperscope.semantic.embed import (
    DEFAULT_MODEL,
    Embedder,
    available_models,
    load_embedder,
    paper_text,
)
from paperscope.semantic.index import VectorIndex
from paperscope.semantic.novelty import (
    NOT_ENOUGH_HISTORY,
    NoveltyResult,
    compute_novelty,
    novelty_arrays,
    novelty_percentiles,
)

__all__ = [
    "DEFAULT_MODEL",
    "NOT_ENOUGH_HISTORY",
    "Embedder",
    "NoveltyResult",
    "VectorIndex",
    "available_models",
    "compute_novelty",
    "load_embedder",
    "novelty_arrays",
    "novelty_percentiles",
    "paper_text",
]
