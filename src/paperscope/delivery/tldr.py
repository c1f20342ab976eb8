"""A one-line TL;DR per paper: from an OpenAI-compatible chat endpoint the user configures (a local server
works), batched and cached in the library state; else, or when the endpoint fails, an extractive summary
(the abstract's most telling sentence). A failing endpoint never blocks the digest: it is tried once per run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from paperscope.models import Paper
from paperscope.render.model import one_line

MAX_CHARS = 240
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
_CLAIM = re.compile(r"\b(we|this paper|this work|our)\b.{0,40}\b(propose|present|introduce|show|find|develop|"
                    r"demonstrate|achiev|outperform)", re.IGNORECASE)
PROMPT = ("You write one-sentence TL;DRs of research papers for a daily digest: what the paper does and its main "
          "result, at most 30 words, plain text. Answer with one JSON object mapping each paper's id to its TL;DR, "
          "nothing else.")


class Summarizer(Protocol):
    name: str

    def summarize(self, papers: Sequence[Paper]) -> dict[str, str]: ...


def extractive(paper: Paper, max_chars: int = MAX_CHARS) -> str:
    """The abstract's first sentence that states a contribution ("we propose ..."), else its first sentence."""
    text = one_line(paper.abstract)
    if not text:
        return ""
    sentences = _SENTENCE.split(text)
    pick = next((s for s in sentences if _CLAIM.search(s)), sentences[0])
    if len(pick) > max_chars:
        pick = pick[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return pick


class Extractive:
    name = "extractive"

    def summarize(self, papers: Sequence[Paper]) -> dict[str, str]:
        return {p.id: extractive(p) for p in papers}


class OpenAICompatible:
    """POST {url}/chat/completions, `batch` papers per request, the answer read as a JSON object of id -> text."""

    def __init__(self, url: str, model: str, *, api_key: str = "", batch: int = 8, timeout: float = 60.0,
                 client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.batch = max(1, batch)
        self.name = f"llm:{model or 'default'}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = client or httpx.Client(timeout=timeout, headers=headers)

    def summarize(self, papers: Sequence[Paper]) -> dict[str, str]:
        out: dict[str, str] = {}
        for i in range(0, len(papers), self.batch):
            out.update(self._one_batch(papers[i:i + self.batch]))
        return out

    def _one_batch(self, papers: Sequence[Paper]) -> dict[str, str]:
        listing = "\n\n".join(f"id: {p.id}\ntitle: {one_line(p.title)}\nabstract: {one_line(p.abstract)}"
                              for p in papers)
        body = {"model": self.model, "temperature": 0,
                "messages": [{"role": "system", "content": PROMPT}, {"role": "user", "content": listing}]}
        resp = self.client.post(f"{self.url}/chat/completions", json=body)
        resp.raise_for_status()
        content = resp.json()["choices"][0]["message"]["content"]
        answer = _json_object(content)
        wanted = {p.id for p in papers}
        return {k: one_line(str(v))[:MAX_CHARS] for k, v in answer.items() if k in wanted and str(v).strip()}


def _json_object(content: str) -> dict[str, Any]:
    """The JSON object in a model's answer (models like to wrap it in a ``` fence or a sentence)."""
    start, end = content.find("{"), content.rfind("}")
    if start < 0 or end < start:
        raise ValueError("the answer holds no JSON object")
    data = json.loads(content[start:end + 1])
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    return data


@dataclass(slots=True)
class TldrResult:
    texts: dict[str, str] = field(default_factory=dict)
    cached: int = 0
    generated: int = 0
    extractive: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"cached": self.cached, "generated": self.generated, "extractive": self.extractive,
                "errors": self.errors}


def summarizer_from(settings: Any, *, client: httpx.Client | None = None) -> Summarizer | None:
    """The configured endpoint, or None (extractive only) when `tldr_url` is empty."""
    url = (getattr(settings, "tldr_url", "") or "").strip()
    if not url:
        return None
    return OpenAICompatible(url, getattr(settings, "tldr_model", "") or "",
                            api_key=getattr(settings, "tldr_api_key", "") or "",
                            batch=int(getattr(settings, "tldr_batch", 8) or 8),
                            timeout=float(getattr(settings, "http_timeout", 60.0) or 60.0), client=client)


def tldrs(papers: Sequence[Paper], summarizer: Summarizer | None, *,
          get: Callable[[str], Any], put: Callable[[str, Any], None]) -> TldrResult:
    """TL;DRs for `papers`: cached ones as they are, the rest from `summarizer` (cached), else extractive.

    `get`/`put` read and write the cache (the library state); extractive summaries are not cached, they are
    cheap and the endpoint may come back.
    """
    res = TldrResult()
    unique = list({p.id: p for p in papers}.values())
    todo: list[Paper] = []
    for p in unique:
        hit = get(_key(summarizer, p)) if summarizer else None
        if hit:
            res.texts[p.id] = hit
            res.cached += 1
        else:
            todo.append(p)
    if summarizer and todo:
        size = int(getattr(summarizer, "batch", 8) or 8)
        for i in range(0, len(todo), size):
            chunk = todo[i:i + size]
            try:
                made = summarizer.summarize(chunk)
            except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as e:
                # Once per run: a down endpoint must not cost a timeout per batch.
                res.errors.append(f"{summarizer.name}: {type(e).__name__}: {e}"[:300])
                break
            for p in chunk:
                if made.get(p.id):
                    res.texts[p.id] = made[p.id]
                    put(_key(summarizer, p), made[p.id])
                    res.generated += 1
        todo = [p for p in todo if p.id not in res.texts]
    for p in todo:
        text = extractive(p)
        if text:
            res.texts[p.id] = text
            res.extractive += 1
    return res


def _key(summarizer: Summarizer | None, p: Paper) -> str:
    return f"tldr:{summarizer.name if summarizer else 'extractive'}:{p.id}v{p.version}"
