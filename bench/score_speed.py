"""Papers per second of the pretrained AI Score model: the bulk path against the per-paper one it replaced.

The reference is the model module as it was before the bulk path (commit REFERENCE, read with `git show`
into a temporary module), loading the same shipped model file. Both predict the same real papers (title,
abstract, comment, categories, author count of the first N papers of the arXiv snapshot sample) with the
same vectors, in the same run; the figures are medians of `--repeat` runs, in wall time and in this process's
CPU time (the fairer one where other work shares the cores). Also printed: the largest score
difference, and how many papers differ in any input's shown value, the order of inputs or their points.

    python bench/score_speed.py [--n 5000] [--repeat 3] [--snapshot PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperscope.scoring import impact  # noqa: E402
from paperscope.sources.snapshot import iter_snapshot  # noqa: E402

REFERENCE = "9a15980"  # the last commit with the per-paper prediction path
SNAPSHOT = ROOT.parent / "shared" / "corpus" / "arxiv_snapshot_sample.jsonl.gz"


def reference_module():  # type: ignore[no-untyped-def]
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{REFERENCE}:src/paperscope/scoring/impact.py"],
                         check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "impact_reference.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("impact_reference", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["impact_reference"] = mod
    spec.loader.exec_module(mod)
    return mod


def load(n: int, snapshot: Path) -> tuple[list[impact.ImpactInput], np.ndarray]:
    papers = list(itertools.islice(iter_snapshot(snapshot), n))
    cache = Path(tempfile.gettempdir()) / f"paperscope_score_speed_{n}.npy"
    if cache.is_file():
        vecs = np.load(cache)
    else:
        from paperscope.semantic.embed import load_embedder, paper_text

        vecs = load_embedder().embed([paper_text(p.title, p.abstract) for p in papers])
        np.save(cache, vecs)
    return [impact.ImpactInput.from_paper(p) for p in papers], vecs


def timed(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Median wall time, median CPU time of this process, and the result."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    args = ap.parse_args()
    inputs, vecs = load(args.n, args.snapshot)
    ref_mod = reference_module()
    path = impact.MODELS_DIR / f"{impact.DEFAULT_IMPACT_MODEL}.npz"
    old_model, new_model = ref_mod.load_impact_model(path), impact.load_impact_model(path)
    new_model.predict(inputs[:10], vecs[:10])  # compile the kernels once, as a long-running process has
    ref_ins = [ref_mod.ImpactInput(**{k: getattr(i, k) for k in i.__slots__}) for i in inputs]
    t_old, c_old, old = timed(lambda: old_model.predict(ref_ins, vecs), args.repeat)
    t_new, c_new, new = timed(lambda: new_model.predict(inputs, vecs), args.repeat)
    assert isinstance(old, list) and isinstance(new, list)
    diff = max(abs(a.score - b.score) for a, b in zip(old, new))
    pts = max(abs(x.points - y.points) for a, b in zip(old, new) for x, y in zip(a.inputs, b.inputs))
    shown = sum([(c.input, c.value) for c in a.inputs] != [(c.input, c.value) for c in b.inputs]
                for a, b in zip(old, new))
    texts = sum(a.text() != b.text() or a.to_dict() != b.to_dict() for a, b in zip(old, new))
    print(f"{len(inputs)} papers of {args.snapshot.name}, median of {args.repeat} runs")
    n = len(inputs)
    print(f"reference (per paper, {REFERENCE}): wall {t_old:.3f}s {n / t_old:,.0f} papers/s; "
          f"CPU {c_old:.3f}s {n / c_old:,.0f} papers/s")
    print(f"bulk (this tree):             wall {t_new:.3f}s {n / t_new:,.0f} papers/s; "
          f"CPU {c_new:.3f}s {n / c_new:,.0f} papers/s")
    print(f"ratio: {t_old / t_new:.1f}x faster (wall), {c_old / c_new:.1f}x (CPU time of this process; on a "
          f"shared machine the fairer figure)")
    one_old = timed(lambda: old_model.predict(ref_ins[:1], vecs[:1]), 51)[1]
    one_new = timed(lambda: new_model.predict(inputs[:1], vecs[:1]), 51)[1]
    print(f"one paper at a time (CPU, median of 51): reference {one_old * 1e3:.2f} ms, bulk {one_new * 1e3:.2f} ms")
    print(f"max |score difference| {diff:.2e}; max |points difference| {pts:.2e}; papers whose inputs differ in "
          f"order or shown value: {shown}; whose text() or to_dict() differ: {texts}")
    return 0 if diff <= 1e-6 and shown == 0 and texts == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
