"""What every delivery channel shares: the message it is handed and the view of a digest it renders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from paperscope.render.model import Digest, abs_url, day, one_line, pdf_url, safe_url

MAX_AUTHORS = 6


@dataclass(slots=True)
class DigestMessage:
    """One digest on its way to one reader (or one chat target)."""

    digest: Digest
    date: date
    to: str = ""  # an e-mail address; empty for chat
    name: str = ""
    topics: tuple[str, ...] = ()
    tldr: Mapping[str, str] = field(default_factory=dict)  # paper id -> one line
    notice: str = ""  # said above everything, e.g. "arXiv announced nothing today (weekend)"
    digest_url: str = ""


@dataclass(slots=True)
class SendResult:
    channel: str
    target: str
    ok: bool
    detail: str = ""
    bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "target": self.target, "ok": self.ok, "detail": self.detail,
                "bytes": self.bytes}


class Channel(Protocol):
    """A way to deliver a digest; `send` raises a PaperscopeError (or OSError) when it could not."""

    name: str

    def send(self, message: DigestMessage) -> SendResult: ...


def authors_line(names: list[str], limit: int = MAX_AUTHORS) -> str:
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)


def view(message: DigestMessage, *, per_section: int | None = None, tldr: bool = True) -> dict[str, Any]:
    """The digest as plain values for a template: sections of papers (at most `per_section` each)."""
    sections = []
    for s in message.digest.sections:
        shown = s.papers if per_section is None else s.papers[:per_section]
        papers = [{
            "id": f"{p.id}v{p.version}", "title": one_line(p.title), "url": abs_url(p), "pdf": pdf_url(p),
            "code": safe_url(p.code_url) or "", "date": day(p.updated), "categories": " ".join(p.categories),
            "authors": authors_line(p.author_names), "label": s.labels.get(p.id, ""),
            "tldr": one_line(message.tldr.get(p.id, "")) if tldr else "",
        } for p in shown]
        note = s.note or ("" if s.papers else "No papers.")
        sections.append({"title": s.title, "count": len(s.papers), "note": note, "papers": papers,
                         "more": len(s.papers) - len(shown)})
    return {"title": message.digest.title, "date": message.date.isoformat(), "sections": sections,
            "notice": message.notice, "digest_url": safe_url(message.digest_url) or "", "greeting": message.name,
            "topics_line": ", ".join(message.topics) if message.topics else "all topics"}


def count_papers(message: DigestMessage) -> int:
    return sum(len(s.papers) for s in message.digest.sections)
