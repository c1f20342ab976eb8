"""Hand one day's digest to every recipient and chat target, once: a sent-log per digest date in the
library state, and an outbox of the exact messages (so `paperscope send` re-sends them and nothing is lost
when a server is down: the next run sends what the log does not have).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from paperscope.delivery.base import DigestMessage, SendResult
from paperscope.delivery.recipients import Recipient
from paperscope.errors import ConfigError, PaperscopeError
from paperscope.render.model import Digest

SENT_KEY = "delivery:sent:{date}"


@dataclass(slots=True)
class Transports:
    """What delivery talks through; None means "as the settings say" (tests inject local ones)."""

    email: Any | None = None  # paperscope.delivery.email.Transport
    chat: Sequence[Any] | None = None  # apprise targets
    tldr: Any | None = None  # paperscope.delivery.tldr.Summarizer; False-y = as configured


@dataclass(slots=True)
class DispatchReport:
    sent: list[SendResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already sent for this date
    failed: list[SendResult] = field(default_factory=list)
    tldr: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"sent": [s.to_dict() for s in self.sent], "skipped": self.skipped,
                "failed": [f.to_dict() for f in self.failed], "tldr": self.tldr}

    def summary(self) -> str:
        parts = [f"{len(self.sent)} sent"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} already sent")
        if self.failed:
            parts.append(f"{len(self.failed)} failed: " + "; ".join(f.detail for f in self.failed[:3]))
        return ", ".join(parts)


@dataclass(slots=True)
class Plan:
    """The channels a delivery would use, checked before the pipeline starts (bad settings fail at once)."""

    recipients: list[Recipient]
    email: Any | None  # EmailChannel
    chat: list[Any]  # ChatChannel
    summarizer: Any | None

    @property
    def empty(self) -> bool:
        return not (self.email and self.recipients) and not self.chat


def plan(settings: Any, transports: Transports | None = None, *, outbox: Path | None = None) -> Plan:
    """Check the delivery settings and build the channels; a ConfigError names the bad setting."""
    from paperscope.delivery.chat import ChatChannel, chat_targets
    from paperscope.delivery.email import EmailChannel, SMTPTransport, smtp_config
    from paperscope.delivery.tldr import summarizer_from

    t = transports or Transports()
    recipients = list(getattr(settings, "recipients", []) or [])
    email = None
    cfg = smtp_config(settings)
    if recipients and cfg is None and t.email is None:
        raise ConfigError("[[recipients]] are set but smtp_host is empty: set smtp_host (and smtp_from) to send e-mail")
    if recipients:
        sender = cfg.sender if cfg else (getattr(settings, "smtp_from", "") or getattr(settings, "contact", "")
                                         or "paperscope@localhost")
        keep = _keeper(outbox) if outbox else None
        email = EmailChannel(t.email or SMTPTransport(cfg),  # type: ignore[arg-type]
                             sender, max_bytes=int(getattr(settings, "email_max_bytes", 100_000)), keep=keep)
    targets = list(t.chat) if t.chat is not None else chat_targets(settings)
    summarizer = t.tldr if t.tldr else summarizer_from(settings)
    return Plan(recipients, email, [ChatChannel(x) for x in targets], summarizer)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]+", "_", name)[:120]


def _keeper(outbox: Path) -> Callable[[DigestMessage, EmailMessage], None]:
    def keep(message: DigestMessage, msg: EmailMessage) -> None:
        folder = outbox / message.date.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{_safe(message.to)}.eml").write_bytes(msg.as_bytes())

    return keep


def deliver(p: Plan, day: date, digest_for: Callable[[Recipient | None], Digest], *,
            get_state: Callable[[str], Any], set_state: Callable[[str, Any], None], notice: str = "",
            digest_url: str = "", now: datetime | None = None) -> DispatchReport:
    """Send the day's digest to each recipient and chat target not yet in the day's sent-log."""
    from paperscope.delivery.tldr import tldrs

    report = DispatchReport()
    key = SENT_KEY.format(date=day.isoformat())
    log: dict[str, Any] = dict(get_state(key) or {})
    stamp = (now or datetime.now(timezone.utc)).isoformat()
    todo_people = [r for r in p.recipients if r.key not in log] if p.email else []
    todo_chat = [c for c in p.chat if c.key not in log]
    report.skipped = [r.email for r in p.recipients if p.email and r.key in log] + \
                     [c.label for c in p.chat if c.key in log]
    if not todo_people and not todo_chat:
        return report
    full = digest_for(None)
    papers = [x for s in full.sections for x in s.papers]
    tl = tldrs(papers, p.summarizer, get=get_state, put=set_state)
    report.tldr = tl.to_dict()

    def record(k: str, result: SendResult) -> None:
        log[k] = {"at": stamp, "channel": result.channel, "bytes": result.bytes}
        set_state(key, log)  # at once: a crash after this send must not send it again

    for r in todo_people:
        msg = DigestMessage(digest_for(r), day, to=r.email, name=r.name, topics=r.topics, tldr=tl.texts,
                            notice=notice, digest_url=digest_url)
        _attempt(p.email, msg, r.key, r.email, record, report)
    for c in todo_chat:
        msg = DigestMessage(full, day, tldr=tl.texts, notice=notice, digest_url=digest_url)
        _attempt(c, msg, c.key, c.label, record, report)
    return report


def _attempt(channel: Any, msg: DigestMessage, key: str, label: str, record: Callable[[str, SendResult], None],
             report: DispatchReport) -> None:
    try:
        result = channel.send(msg)
    except (PaperscopeError, OSError) as e:
        report.failed.append(SendResult(channel.name, label, False, str(e)))
        return
    record(key, result)
    report.sent.append(result)


def outbox_files(outbox: Path, day: date | None = None) -> tuple[date | None, list[Path]]:
    """The kept e-mails of `day` (default: the latest day kept)."""
    if not outbox.is_dir():
        return None, []
    days = sorted(d.name for d in outbox.iterdir() if d.is_dir() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", d.name))
    if day is None:
        if not days:
            return None, []
        day = date.fromisoformat(days[-1])
    folder = outbox / day.isoformat()
    return day, sorted(folder.glob("*.eml")) if folder.is_dir() else []


def resend(transport: Any, files: Sequence[Path], *, only: str = "") -> list[SendResult]:
    """Send kept messages again (all, or only the one to `only`)."""
    from paperscope.delivery.email import resend as resend_one

    out = []
    for f in files:
        if only and f.stem.lower() != _safe(only).lower():
            continue
        try:
            out.append(resend_one(transport, f))
        except (PaperscopeError, OSError) as e:
            out.append(SendResult("email", f.stem, False, str(e)))
    return out


def sent_log(get_state: Callable[[str], Any], day: date) -> dict[str, Any]:
    return dict(get_state(SENT_KEY.format(date=day.isoformat())) or {})


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
