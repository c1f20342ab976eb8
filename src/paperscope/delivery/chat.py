"""The digest as a short chat or push message (Slack, Discord, Telegram, Matrix, ntfy, ... ) through apprise.

apprise (PyPI) knows each service's URL form and API, so paperscope writes none of them: the user lists
apprise URLs in $PAPERSCOPE_CHAT_URLS (space or comma separated) or an apprise config file (`chat_config`).
The URLs carry tokens: they are shown only in apprise's privacy form (secrets masked) and recorded by hash.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from paperscope.delivery.base import DigestMessage, SendResult, count_papers, view
from paperscope.errors import ConfigError, PaperscopeError

URLS_ENV = "PAPERSCOPE_CHAT_URLS"
PER_SECTION = 5  # chat messages stay short: the top papers per topic and a link to the rest


class ChatError(PaperscopeError):
    pass


class Target(Protocol):
    """One chat/push destination (an apprise plugin instance satisfies this)."""

    def notify(self, body: str, title: str = "", **kwargs: Any) -> bool: ...

    def url(self, privacy: bool = False, *args: Any, **kwargs: Any) -> str: ...


def chat_targets(settings: Any, env: Mapping[str, str] | None = None) -> list[Target]:
    """The apprise targets the settings name (none configured: an empty list)."""
    env = os.environ if env is None else env
    raw = env.get(URLS_ENV, "")
    urls = [u for u in re.split(r"[\s,]+", raw) if u]
    cfg_path = (getattr(settings, "chat_config", "") or "").strip()
    if not urls and not cfg_path:
        return []
    try:
        import apprise
    except ImportError:
        raise ConfigError("chat delivery needs apprise: pip install 'paperscope[chat]'") from None
    a = apprise.Apprise()
    for i, u in enumerate(urls, 1):
        if not a.add(u):
            raise ConfigError(f"${URLS_ENV}: URL #{i} is not an apprise URL apprise knows (see apprise's wiki)")
    if cfg_path:
        path = Path(cfg_path).expanduser()
        if not path.is_file():
            raise ConfigError(f"chat_config: no such file {path}")
        conf = apprise.AppriseConfig()
        conf.add(str(path))
        before = len(a)
        a.add(conf)
        if len(a) == before:
            raise ConfigError(f"chat_config: {path} lists no apprise URL apprise can read")
    return list(a)


def target_key(t: Target) -> str:
    """A stable, secret-free name for the sent-log."""
    return "chat:" + hashlib.sha256(t.url(privacy=False).encode()).hexdigest()[:16]


def render_chat(message: DigestMessage, per_section: int = PER_SECTION) -> tuple[str, str]:
    """(title, Markdown body): the notice, then each section's top papers as links, then where the rest is."""
    data = view(message, per_section=per_section, tldr=True)
    n = count_papers(message)
    title = f"{data['title']} {data['date']}: {n} paper{'s' if n != 1 else ''}"
    lines: list[str] = []
    if message.notice:
        lines += [message.notice, ""]
    for s in data["sections"]:
        lines.append(f"**{s['title']}** ({s['count']})")
        if s["note"] and not s["papers"]:
            lines.append(s["note"])
        for p in s["papers"]:
            shown = p["title"].replace("[", "(").replace("]", ")")  # brackets would end the link text
            lines.append(f"- [{shown}]({p['url']})" + (f" — {p['tldr']}" if p["tldr"] else ""))
        if s["more"]:
            lines.append(f"- … and {s['more']} more")
        lines.append("")
    if message.digest_url:
        lines.append(f"Full digest: {message.digest_url}")
    return title, "\n".join(lines).strip() + "\n"


class ChatChannel:
    """Posts the digest summary to one apprise target."""

    name = "chat"

    def __init__(self, target: Target) -> None:
        self.target = target

    @property
    def key(self) -> str:
        return target_key(self.target)

    @property
    def label(self) -> str:
        return self.target.url(privacy=True)

    def send(self, message: DigestMessage) -> SendResult:
        title, body = render_chat(message)
        try:
            import apprise

            ok = self.target.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN)
        except ImportError:  # a fake target in use without apprise installed
            ok = self.target.notify(body=body, title=title)
        if not ok:
            raise ChatError(f"{self.label}: the service did not accept the message")
        return SendResult("chat", self.label, True, title, len(body.encode()))


def channels(targets: Sequence[Target]) -> list[ChatChannel]:
    return [ChatChannel(t) for t in targets]
