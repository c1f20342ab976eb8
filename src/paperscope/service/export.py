"""Every paper of the library out, for other tools: JSON lines, CSV, BibTeX or RIS (both import into Zotero).

Each record carries id, version, title, authors, categories, dates, DOI, code link, citations (with source and
date), novelty (raw and percentile) and the AI Score (`ai_score`, 0-100, with the sentence that says what it is).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import orjson

from paperscope.errors import InputError
from paperscope.library import Library
from paperscope.models import Paper
from paperscope.service.results import JSONValue, Result

FORMATS = ("jsonl", "csv", "bibtex", "ris")
CSV_COLUMNS = ("id", "version", "title", "authors", "primary_category", "categories", "published", "updated", "doi",
               "journal_ref", "code_url", "citations", "citations_source", "citations_date", "novelty",
               "novelty_percentile", "ai_score", "ai_score_method", "url")
BATCH = 2000


@dataclass(slots=True)
class ExportResult(Result):
    format: str
    papers: int
    path: str | None


def export_records(lib: Library, papers: list[Paper]) -> Iterator[dict[str, JSONValue]]:
    """One flat record per paper with what the library knows about it."""
    from paperscope.service.papers import score_text

    store = lib.store
    ids = [p.id for p in papers]
    cites = store.citations_for(ids)
    nov = store.novelty_for(ids)
    scores = store.scores_for(ids)
    for p in papers:
        c, n, s = cites.get(p.id), nov.get(p.id), scores.get(p.id)
        yield {
            "id": p.id, "version": p.version, "title": p.title, "authors": [a.name for a in p.authors],
            "primary_category": p.primary_category, "categories": list(p.categories),
            "published": p.first_submitted.date().isoformat(), "updated": p.updated.date().isoformat(),
            "doi": p.doi, "journal_ref": p.journal_ref, "code_url": p.code_url,
            "citations": c["cited_by_count"] if c else None, "citations_source": c["source"] if c else None,
            "citations_date": str(c["fetched"])[:10] if c else None,
            "novelty": round(float(n["value"]), 4) if n and n["value"] is not None else None,
            "novelty_percentile": round(float(n["percentile"]), 1) if n and n["percentile"] is not None else None,
            "ai_score": round(float(s["value"]), 1) if s else None,
            "ai_score_method": s["method"] if s else None,
            "ai_score_text": score_text(float(s["value"]), p, s["method"], s["inputs"]) if s else None,
            "url": f"https://arxiv.org/abs/{p.id}",
        }


def _batches(lib: Library) -> Iterator[list[Paper]]:
    batch: list[Paper] = []
    for p in lib.store.iter_papers(batch=BATCH):
        batch.append(p)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def export(lib: Library, fmt: str, *, out: str | Path | None = None, stream: TextIO | None = None,
           progress: Callable[[int], None] | None = None) -> ExportResult:
    """Write every paper in `fmt` to `out` (a file, written whole or not at all) or to `stream`."""
    from paperscope.render.bibtex import citation_key, paper_bibtex, paper_ris

    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    target = Path(out).expanduser() if out else None
    tmp = target.with_name(target.name + ".part") if target else None
    fh: TextIO = open(tmp, "w", encoding="utf-8", newline="") if tmp else (stream or io.StringIO())  # noqa: SIM115
    n = 0
    keys: dict[str, int] = {}
    try:
        writer = csv.writer(fh) if fmt == "csv" else None
        if writer:
            writer.writerow(CSV_COLUMNS)
        for papers in _batches(lib):
            if fmt in ("jsonl", "csv"):
                for rec in export_records(lib, papers):
                    if writer:
                        writer.writerow(["; ".join(v) if isinstance(v, list) else ("" if v is None else v)  # type: ignore[arg-type]
                                         for v in (rec[c] for c in CSV_COLUMNS)])
                    else:
                        fh.write(orjson.dumps(rec).decode() + "\n")
            else:
                for p in papers:
                    if fmt == "bibtex":
                        key = citation_key(p)
                        keys[key] = keys.get(key, 0) + 1
                        fh.write(paper_bibtex(p, key if keys[key] == 1 else f"{key}{keys[key]}") + "\n")
                    else:
                        fh.write(paper_ris(p) + "\n")
            n += len(papers)
            if progress:
                progress(len(papers))
    except BaseException:
        if tmp:
            fh.close()
            tmp.unlink(missing_ok=True)
        raise
    if tmp and target:
        fh.close()
        tmp.replace(target)
    return ExportResult(fmt, n, str(target) if target else None)
