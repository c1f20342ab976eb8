"""Who gets the digest: the `[[recipients]]` tables of the config, checked once when the config loads."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from paperscope.errors import ConfigError

FIELDS = ("name", "email", "topics", "follows", "library_file")
# Deliberately plain: one @, a dot in the domain, no spaces or angle brackets (a display name goes in `name`).
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


@dataclass(frozen=True, slots=True)
class Recipient:
    """One reader: their address, the topics they get (empty: all), the authors they follow (empty: the
    library's follows) and their own library file for "Recommended for you" (empty: the config's)."""

    name: str
    email: str
    topics: tuple[str, ...] = ()
    follows: tuple[str, ...] = ()
    library_file: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What the sent-log records this recipient under."""
        return self.email.lower()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "topics": list(self.topics), "follows": list(self.follows),
                "library_file": self.library_file}


Fail = Callable[[str, str | None, int, str | None], ConfigError]


def parse_recipients(raw: Any, topic_names: Sequence[str], fail: Fail) -> list[Recipient]:
    """Check `[[recipients]]`: `fail(message, table, index, key)` builds the one-line error naming the line."""
    if not isinstance(raw, list):
        raise fail("recipients must be an array of tables: write each under its own [[recipients]]", None, 0,
                   "recipients")
    out: list[Recipient] = []
    seen: set[str] = set()
    for i, r in enumerate(raw):
        where = f"recipient #{i + 1}"
        if not isinstance(r, dict):
            raise fail(f"{where}: must be a table", "recipients", i, None)
        for key in r:
            if key not in FIELDS:
                raise fail(f"{where}: unknown field {key!r} ({', '.join(FIELDS)})", "recipients", i, key)
        email = r.get("email")
        if not isinstance(email, str) or not _ADDRESS.fullmatch(email.strip()):
            raise fail(f"{where}: field 'email' must be one address like \"you@example.org\", got {email!r}",
                       "recipients", i, "email" if "email" in r else None)
        email = email.strip()
        if email.lower() in seen:
            raise fail(f"{where}: field 'email' repeats {email!r}", "recipients", i, "email")
        seen.add(email.lower())
        name = r.get("name", email.split("@")[0])
        if not isinstance(name, str) or not name.strip():
            raise fail(f"{where}: field 'name' must be a non-empty string", "recipients", i, "name")
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("topics", "follows"):
            value = r.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise fail(f"recipient {email!r}: field {key!r} must be a list of names", "recipients", i, key)
            lists[key] = tuple(v.strip() for v in value)
        unknown = [t for t in lists["topics"] if t not in topic_names]
        if unknown:
            known = ", ".join(repr(t) for t in topic_names) or "none defined"
            raise fail(f"recipient {email!r}: field 'topics': no topic named {unknown[0]!r} (topics: {known})",
                       "recipients", i, "topics")
        lib = r.get("library_file", "")
        if not isinstance(lib, str):
            raise fail(f"recipient {email!r}: field 'library_file' must be a path", "recipients", i, "library_file")
        out.append(Recipient(name=name.strip(), email=email, topics=lists["topics"], follows=lists["follows"],
                             library_file=lib))
    return out
