"""Chains of steps that run together: the offline demo (and, beside it, the daily run in `service/daily.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paperscope.config import Config
from paperscope.library import Library
from paperscope.models import Topic
from paperscope.service.results import Result

DEMO_TOPICS = (
    Topic("Reward Model", '"reward model" OR RLHF NOT survey', ["cs.CL", "cs.LG", "cs.AI"]),
    Topic("Hallucination", 'hallucination AND ("large language model" OR LLM OR VLM OR MLLM)'),
    Topic("Diffusion Models", '"diffusion model" OR "score-based"', ["cs.CV", "cs.LG"]),
    Topic("LLM Agents", '(agent OR agentic) AND (LLM OR "language model") NOT survey', [], 50),
)


def sample_path() -> Path:
    """The bundled sample of real arXiv papers (snapshot JSON lines, gzip)."""
    return Path(__file__).resolve().parent.parent / "data" / "sample.jsonl.gz"


@dataclass(slots=True)
class DemoTopic(Result):
    name: str
    papers: int


@dataclass(slots=True)
class DemoResult(Result):
    db: str
    config: str
    papers: int
    out: str
    markdown: str
    html: str
    files: list[str] = field(default_factory=list)
    topics: list[DemoTopic] = field(default_factory=list)
    embedded: int = 0
    scored: int = 0


def demo_config(path: Path) -> Config:
    """A config holding the demo topics, written next to the demo library so `serve` and `digest` find them."""
    from paperscope.config import load_config

    lines = ["# paperscope demo config: the four starter topics of `paperscope demo`", ""]
    for t in DEMO_TOPICS:
        lines += ["[[topics]]", f"name = {_toml(t.name)}", f"query = {_toml(t.query)}"]
        if t.categories:
            lines.append("categories = [" + ", ".join(_toml(c) for c in t.categories) + "]")
        if t.max_papers != 100:
            lines.append(f"max_papers = {t.max_papers}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return load_config(path)


def _toml(s: str) -> str:
    return "'" + s + "'" if "'" not in s and "\n" not in s else '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_demo(out_dir: str | Path, *, db: str | Path | None = None, show_progress: bool = False,
             today: date | None = None) -> DemoResult:
    """Load the bundled sample into a library (default: <out>/library.db), embed it, compute novelty and AI
    Scores, run the demo topics and write the digest."""
    from paperscope.service import digest as digest_service
    from paperscope.service import ingest, meaning

    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    db_path: str | Path
    if isinstance(db, str) and "://" in db:  # a PostgreSQL library's URL
        db_path = db
    else:
        db_path = Path(db).expanduser() if db else out / "library.db"
    cfg_path = out / "config.toml"
    settings = demo_config(cfg_path)
    with Library.open(db_path, settings) as lib:
        imported = ingest.import_files(lib, [sample_path()], embed=True, show_progress=show_progress)
        meaning.novelty(lib)
        scored = meaning.score(lib)
        built = digest_service.build_digest(lib, today=today)
        written = digest_service.write_digest(lib, built, out)
        total = lib.store.count()
    return DemoResult(str(db_path), str(cfg_path), total, str(out), str(out / "README.md"), str(out / "index.html"),
                      [str(f) for f in written.files], [DemoTopic(s.title, len(s.papers)) for s in built.sections],
                      imported.embedded, scored.papers)
