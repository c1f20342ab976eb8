"""The renderer registry: every output format of every kind of page is one entry.

`render("digest", "markdown", digest)` or `render("profile", "html", profile, view="listing")`; a new format is
one `register(...)` call, and the CLI's --format choices, the web app's and email's renderers all read from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from paperscope.errors import InputError


@dataclass(frozen=True, slots=True)
class Renderer:
    kind: str  # "digest" | "profile" | ...
    fmt: str  # "markdown" | "html" | "json" | "atom" | ...
    media_type: str
    suffix: str
    fn: Callable[..., str]


_REGISTRY: dict[tuple[str, str], Renderer] = {}


def register(kind: str, fmt: str, fn: Callable[..., str], *, media_type: str, suffix: str) -> None:
    _REGISTRY[(kind, fmt)] = Renderer(kind, fmt, media_type, suffix, fn)


def formats(kind: str) -> list[str]:
    """The formats `kind` can be rendered in, in registration order."""
    _load()
    return [f for (k, f) in _REGISTRY if k == kind]


def renderer(kind: str, fmt: str) -> Renderer:
    _load()
    got = _REGISTRY.get((kind, fmt))
    if got is None:
        raise InputError(f"unknown {kind} format {fmt!r}: choose one of {', '.join(formats(kind))}")
    return got


def render(kind: str, fmt: str, obj: object, **options: object) -> str:
    """`obj` (a Digest, an AuthorProfile, ...) as text in `fmt`."""
    return renderer(kind, fmt).fn(obj, **options)


_loaded = False


def _load() -> None:
    """Register the built-in renderers (late, so importing the registry costs nothing)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from paperscope.render.atom import render_atom
    from paperscope.render.html import render_html
    from paperscope.render.jsonout import render_json
    from paperscope.render.markdown import render_markdown
    from paperscope.render.model import Digest
    from paperscope.render.profile import render_profile_html, render_profile_json, render_profile_markdown

    def digest_atom(digest: Digest) -> str:
        return "\n".join(render_atom(s, digest) for s in digest.sections)

    register("digest", "markdown", render_markdown, media_type="text/markdown", suffix=".md")
    register("digest", "html", render_html, media_type="text/html", suffix=".html")
    register("digest", "json", render_json, media_type="application/json", suffix=".json")
    register("digest", "atom", digest_atom, media_type="application/atom+xml", suffix=".xml")
    register("profile", "markdown", render_profile_markdown, media_type="text/markdown", suffix=".md")
    register("profile", "html", render_profile_html, media_type="text/html", suffix=".html")
    register("profile", "json", lambda p, **_: render_profile_json(p), media_type="application/json", suffix=".json")
