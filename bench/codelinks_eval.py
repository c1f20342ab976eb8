"""Precision, recall and F1 of `has_code` on the hand-labelled arXiv set, plus the misclassified examples.

Peer: the naive rule "the text contains 'github.com'", measured on the same set in the same run,
for both quality and speed. Run: python bench/codelinks_eval.py [--quiet]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from paperscope.scoring.codelinks import has_code, primary_code_url

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "codelinks" / "labelled.jsonl"


def url_key(url: str | None) -> str | None:
    """Compare URLs loosely: no scheme, no www., no trailing slash or .git, case-folded."""
    if not url:
        return None
    u = url.strip().lower().split("://", 1)[-1].removeprefix("www.").rstrip("/")
    return u.removesuffix(".git")


def scores(pred: list[bool], gold: list[bool]) -> tuple[float, float, float, int, int, int]:
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp, fp, fn


def naive(abstract: str, comment: str) -> bool:
    return "github.com" in (abstract + " " + comment).lower()


def timed(fn, rows: list[dict], repeats: int = 5) -> float:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for r in rows:
            fn(r["abstract"], r["comment"])
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    quiet = "--quiet" in sys.argv
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line]
    gold = [r["has_code"] for r in rows]
    pred = [has_code(r["abstract"], r["comment"]) for r in rows]
    base = [naive(r["abstract"], r["comment"]) for r in rows]

    p, r, f, tp, fp, fn = scores(pred, gold)
    bp, br, bf, *_ = scores(base, gold)
    print(f"labelled examples: {len(rows)} ({sum(gold)} with code)")
    print(f"has_code           precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    print(f"peer 'github.com'  precision {bp:.3f}  recall {br:.3f}  F1 {bf:.3f}")

    urls = [(row, primary_code_url(row["abstract"], row["comment"])) for row in rows if row["code_url"]]
    ok = sum(url_key(got) == url_key(row["code_url"]) for row, got in urls)
    print(f"primary_code_url matches the label on {ok}/{len(urls)} labelled positives")

    ours = timed(has_code, rows)
    peer = timed(naive, rows)
    print(
        f"speed: has_code {len(rows) / ours:,.0f} docs/s, peer {len(rows) / peer:,.0f} docs/s "
        f"(median of 5; ours takes {ours / peer:.0f}x the peer's time)"
    )
    if quiet:
        return
    print("\nmisclassified:")
    for row, pr in zip(rows, pred):
        if pr != row["has_code"]:
            kind = "FP" if pr else "FN"
            print(f"  {kind} {row['id']} [{row['sample']}] label={row['code_url']!r}")
            print(f"     found: {primary_code_url(row['abstract'], row['comment'])!r}")
    print("\nwrong code_url:")
    for row, got in urls:
        if url_key(got) != url_key(row["code_url"]):
            print(f"  {row['id']}: label {row['code_url']!r}, got {got!r}")


if __name__ == "__main__":
    main()
