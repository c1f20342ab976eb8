"""The digest as one self-contained HTML page: inline CSS, no scripts, no external assets, phone-friendly."""

from __future__ import annotations

from html import escape

from paperscope.render.model import Digest, DigestSection, day, one_line, pdf_url, unique_slugs, xml_text
from paperscope.models import Paper

# Authors shown before "and N more": some papers list thousands.
MAX_AUTHORS = 12

_CSS = """
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#5f6368;--line:#e3e3e3;--accent:#0b57d0;--tag:#e8f0fe}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--bg:#16171a;--muted:#9aa0a6;--line:#34363a;--accent:#8ab4f8;--tag:#27344d}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:52rem;padding:1rem;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--accent)}
header{border-bottom:1px solid var(--line);margin-bottom:1rem}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.25rem;margin:2rem 0 .5rem}
h2 a{color:inherit;text-decoration:none}
h3{font-size:1.05rem;margin:0 0 .25rem;line-height:1.35}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
ol.papers{list-style:none;padding:0;margin:0}
li.paper{padding:.75rem 0;border-top:1px solid var(--line)}
.meta,.authors,.comment,.note,.updated{color:var(--muted);font-size:.9rem;margin:.15rem 0}
.label{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .4rem;border-radius:.6rem;background:var(--tag);vertical-align:middle}
details summary{cursor:pointer;color:var(--accent);font-size:.9rem}
details p{margin:.4rem 0 0}
"""


def _t(text: str) -> str:
    """Escape text for HTML (quotes too, since some of it lands in attributes)."""
    return escape(xml_text(one_line(text)), quote=True)


def _authors(paper: Paper) -> str:
    names = [_t(n) for n in paper.author_names]
    if len(names) > MAX_AUTHORS:
        shown = ", ".join(names[:MAX_AUTHORS])
        return f"{shown} and {len(names) - MAX_AUTHORS} more"
    return ", ".join(names)


def _paper(paper: Paper, label: str, slug: str) -> str:
    url = _t(paper.abs_url)
    # The section slug keeps ids unique when a paper is listed under two topics.
    parts = [f'<li class="paper" id="{_t(slug + "-" + paper.id)}">']
    title = f'<h3><a href="{url}">{_t(paper.title)}</a>'
    if label:
        title += f' <span class="label">{_t(label)}</span>'
    parts.append(title + "</h3>")
    meta = [
        f'<time datetime="{day(paper.updated)}">{day(paper.updated)}</time>',
        f'<a href="{url}">{_t(paper.id)}v{paper.version}</a>',
        f'<a href="{_t(pdf_url(paper))}">PDF</a>',
    ]
    if paper.categories:
        meta.append(_t(" ".join(paper.categories)))
    parts.append(f'<p class="meta">{" · ".join(meta)}</p>')
    if paper.authors:
        parts.append(f'<p class="authors">{_authors(paper)}</p>')
    if paper.comment.strip():
        parts.append(f'<p class="comment">{_t(paper.comment)}</p>')
    if paper.abstract.strip():
        parts.append(f"<details><summary>Abstract</summary><p>{_t(paper.abstract)}</p></details>")
    parts.append("</li>")
    return "\n".join(parts)


def _section(section: DigestSection, slug: str) -> str:
    parts = [f'<section id="{slug}">', f'<h2><a href="#{slug}">{_t(section.title)}</a></h2>']
    if section.note:
        parts.append(f'<p class="note">{_t(section.note)}</p>')
    elif not section.papers:
        parts.append('<p class="note">No papers.</p>')
    if section.papers:
        parts.append('<ol class="papers">')
        parts += [_paper(p, section.labels.get(p.id, ""), slug) for p in section.papers]
        parts.append("</ol>")
    parts.append("</section>")
    return "\n".join(parts)


def render_html(digest: Digest) -> str:
    """One HTML page for the digest: a table of contents, then each section with a linked entry per paper."""
    slugs = unique_slugs([s.title for s in digest.sections])
    title = _t(digest.title)
    generated = digest.generated.isoformat()
    toc = "\n".join(
        f'<li><a href="#{slug}">{_t(s.title)}</a> ({len(s.papers)})</li>' for s, slug in zip(digest.sections, slugs)
    )
    body = "\n".join(_section(s, slug) for s, slug in zip(digest.sections, slugs))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{title} – {generated}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header>\n<h1>{title}</h1>\n<p class="updated">Last update: <time datetime="{generated}">{generated}</time></p>\n'
        f"<nav><ul>\n{toc}\n</ul></nav>\n</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
