"""The PostgreSQL backend's compiler: a parsed query (the AST of `paperscope.query`) to a `tsquery`.

Every paper has one `tsvector` whose lexemes carry the column they come from as a weight (title A, authors B,
abstract C, comment D) and, beside them, one lexeme per category ('~cs.cl': the text parser never makes a '~').
A fielded word is its lexemes restricted to that weight ('reward':A); a category is its lexeme, or any category
under it when it names an archive ('~cs' | '~cs.':*). The words' own lexemes come from PostgreSQL
(`phraseto_tsquery` with the library's configuration), so a query is stemmed exactly as the papers were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from paperscope.query import And, Node, Or, Phrase, Term, category_list
from paperscope.store.api import PaperQuery

WEIGHTS = {"ti": "A", "au": "B", "abs": "C", "co": "D"}
# ts_rank's weights for D, C, B, A: the column weights of the SQLite store's bm25 (comment 0.5, abstract 1,
# authors 4, title 8), divided by 8.
RANK_WEIGHTS = "{0.0625, 0.125, 0.5, 1.0}"
CATEGORY_MARK = "~"
_LEXEME = re.compile(r"'(?:[^']|'')*'")

# texts -> the tsquery text PostgreSQL makes of each (phraseto_tsquery), in order
Normalizer = Callable[[Sequence[str]], list[str]]


@dataclass(frozen=True)
class Compiled:
    """`match`: the tsquery a paper must satisfy (None: every paper); `rank`: the tsquery relevance is scored
    by (the query's words that are not negated; None when it has none); `nothing`: the query has words but none
    that make a lexeme ("--"), so no paper matches."""

    match: str | None
    rank: str | None
    nothing: bool = False


def category_lexeme(cat: str) -> str:
    return CATEGORY_MARK + cat.lower()


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("'", "''") + "'"


def _category(cat: str) -> str:
    lex = category_lexeme(cat)
    return f"({_quote(lex)} | {_quote(lex + '.')}:*)"


def _weighted(tsq: str, field: str | None) -> str:
    weight = WEIGHTS.get(field or "")
    if not weight:
        return tsq
    return _LEXEME.sub(lambda m: m.group(0) + ":" + weight, tsq)


def _leaves(node: Node, out: list[Term | Phrase]) -> None:
    if isinstance(node, (Term, Phrase)):
        out.append(node)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            _leaves(item, out)
    else:
        _leaves(node.include, out)
        _leaves(node.exclude, out)


def compile_query(q: PaperQuery, normalize: Normalizer) -> Compiled:
    """The tsqueries of `q` (words normalised by PostgreSQL in one call)."""
    leaves: list[Term | Phrase] = []
    if q.query is not None:
        _leaves(q.query.root, leaves)
    words = [w for w in q.title_words if any(c.isalnum() for c in w)]
    texts = [leaf.text for leaf in leaves if leaf.field != "cat"] + words
    normal = iter(normalize(texts) if texts else [])
    lexemes: dict[int, str | None] = {}
    for leaf in leaves:
        if leaf.field == "cat":
            lexemes[id(leaf)] = _category(leaf.text)
        else:
            tsq = next(normal)
            lexemes[id(leaf)] = f"({_weighted(tsq, leaf.field)})" if tsq else None
    title = [t for t in (next(normal) for _ in words) if t]
    positive: list[str] = []

    def build(node: Node, negated: bool) -> str | None:
        if isinstance(node, (Term, Phrase)):
            got = lexemes[id(node)]
            if got is not None and node.field != "cat" and not negated:
                positive.append(got)
            return got
        if isinstance(node, (And, Or)):
            # None is "matches nothing" (a word with no lexeme, as FTS5 reads one): it ends an AND, drops from an OR
            built = [build(i, negated) for i in node.items]
            parts = [p for p in built if p is not None]
            if not parts or (isinstance(node, And) and len(parts) < len(built)):
                return None
            return parts[0] if len(parts) == 1 else "(" + (" & " if isinstance(node, And) else " | ").join(parts) + ")"
        include = build(node.include, negated)
        exclude = build(node.exclude, not negated)
        if include is None:
            return None
        return include if exclude is None else f"({include} & !{exclude})"

    parts: list[str] = []
    nothing = False
    if q.query is not None:
        root = build(q.query.root, False)
        if root is None:
            nothing = True
        else:
            parts.append(root)
    for tsq in title:
        parts.append(f"({_weighted(tsq, 'ti')})")
    cats = category_list(q.categories)
    if cats:
        parts.append("(" + " | ".join(_category(c) for c in cats) + ")")
    rank = " | ".join(positive + [f"({_weighted(t, 'ti')})" for t in title]) or None
    if nothing:
        return Compiled(None, None, True)
    return Compiled(" & ".join(parts) if parts else None, rank)
