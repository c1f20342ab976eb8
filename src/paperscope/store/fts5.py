"""The SQLite backend's compiler: a parsed query (the AST of `paperscope.query`) to an FTS5 MATCH expression.

Only the store knows FTS5's syntax; every caller hands it a `PaperQuery`.
"""

from __future__ import annotations

import re

from paperscope.query import And, Node, Or, Phrase, Term, category_list
from paperscope.store.api import PaperQuery

# FTS5 column (or column set) searched by each field; None = a term without prefix.
_COLUMNS: dict[str | None, str] = {
    None: "{title abstract authors comment}",
    "ti": "title",
    "abs": "abstract",
    "au": "authors",
    "co": "comment",
    "cat": "categories",
}


def fts_string(text: str) -> str:
    """An FTS5 string: the tokenizer sees the text, never the query parser."""
    return '"' + text.replace('"', '""') + '"'


def fts_category(cat: str) -> str:
    # unicode61 splits "cs.CL" into the tokens cs, cl; as a phrase they must stay adjacent.
    return fts_string(" ".join(re.split(r"[^0-9A-Za-z]+", cat.lower())).strip())


def _node(node: Node) -> str:
    if isinstance(node, (Term, Phrase)):
        if node.field == "cat":
            return f"categories : {fts_category(node.text)}"
        return f"{_COLUMNS[node.field]} : {fts_string(node.text)}"
    if isinstance(node, And):
        return "(" + " AND ".join(_node(i) for i in node.items) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(_node(i) for i in node.items) + ")"
    # FTS5 gives NOT the highest precedence, so the parentheses are what keep our meaning.
    return f"({_node(node.include)} NOT {_node(node.exclude)})"


def compile_match(q: PaperQuery) -> str | None:
    """The MATCH expression for `q`, or None when it selects every paper (no words, no categories)."""
    parts: list[str] = []
    if q.query is not None:
        parts.append(_node(q.query.root))
    words = [w for w in q.title_words if any(c.isalnum() for c in w)]
    if words:
        parts.append("title : (" + " ".join(fts_string(w) for w in words) + ")")
    cats = category_list(q.categories)
    if cats:
        parts.append("(" + " OR ".join(f"categories : {fts_category(c)}" for c in cats) + ")")
    if not parts:
        return None
    return " AND ".join(parts)
