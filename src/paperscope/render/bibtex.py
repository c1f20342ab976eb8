"""Citations of papers for reference managers: BibTeX and RIS, as Zotero imports them. Pure functions."""

from __future__ import annotations

import re
import unicodedata

from paperscope.models import Paper

_BIB_SPECIAL = re.compile(r"([{}\\&%$#_^~])")


def _bib(text: str) -> str:
    """A BibTeX field value: braces balanced, specials escaped, one line."""
    text = " ".join(text.replace("\x00", "").split())
    return _BIB_SPECIAL.sub(lambda m: "\\" + m.group(1) if m.group(1) not in "\\^~" else
                            {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}[m.group(1)], text)


def citation_key(paper: Paper) -> str:
    """`surnameYYYYword`: first author's surname, year, first title word, ASCII only."""
    first = paper.authors[0].name if paper.authors else "anon"
    surname = first.split(",")[0] if "," in first else first.split()[-1] if first.split() else "anon"
    words = [w for w in re.findall(r"[A-Za-z]+", paper.title) if len(w) > 3]
    raw = f"{surname}{paper.first_submitted.year}{words[0] if words else ''}"
    ascii_key = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]", "", ascii_key).lower() or f"arxiv{paper.id.replace('/', '').replace('.', '')}"


def paper_bibtex(paper: Paper, key: str | None = None) -> str:
    """One entry in arXiv's own style (eprint, archivePrefix, primaryClass): `@article` when the paper has a
    journal reference, else `@misc`."""
    fields = [
        ("title", "{" + _bib(paper.title) + "}"),
        ("author", " and ".join(_bib(a.name) for a in paper.authors) or "Anonymous"),
        ("year", str(paper.first_submitted.year)),
        ("eprint", paper.id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", _bib(paper.primary_category)),
        ("url", f"https://arxiv.org/abs/{paper.id}"),
    ]
    if paper.doi:
        fields.append(("doi", _bib(paper.doi)))
    if paper.journal_ref:
        fields.append(("journal", _bib(paper.journal_ref)))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v)
    kind = "article" if paper.journal_ref else "misc"
    return f"@{kind}{{{key or citation_key(paper)},\n{body}\n}}\n"


def paper_ris(paper: Paper) -> str:
    """One RIS record (TY - ELEC ... ER -)."""
    def line(tag: str, value: str) -> str:
        return f"{tag}  - {' '.join(value.replace(chr(0), '').split())}"

    out = [line("TY", "ELEC"), line("TI", paper.title)]
    out += [line("AU", a.name) for a in paper.authors]
    out += [line("PY", str(paper.first_submitted.year)), line("DA", paper.first_submitted.strftime("%Y/%m/%d")),
            line("AB", paper.abstract), line("UR", f"https://arxiv.org/abs/{paper.id}"),
            line("DB", "arXiv"), line("AN", f"arXiv:{paper.id}")]
    if paper.doi:
        out.append(line("DO", paper.doi))
    out += [line("KW", c) for c in paper.categories]
    out.append("ER  - ")
    return "\n".join(out) + "\n"
