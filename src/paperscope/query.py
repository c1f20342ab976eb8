"""Topic queries: parse paperscope's query syntax into an AST (each store backend compiles it; `to_arxiv` is the API's form).

Syntax
------
- ``word``, ``"a phrase"``; ``(`` ``)`` group.
- Operators are upper-case only: ``AND``, ``OR``, ``NOT``. Lower-case and/or/not are plain words.
  Adjacent terms mean AND.
- Precedence, as in literature databases such as Scopus: **OR binds tightest, then AND, then NOT
  (binary, meaning AND NOT) loosest**. So ``"reward model" OR RLHF NOT survey`` is
  ``("reward model" OR RLHF) NOT survey`` and ``a NOT b c`` is ``a NOT (b AND c)``.
  ``AND NOT`` is the same operator as ``NOT``.
- ``-word`` (also ``-"phrase"``, ``-(group)``, ``-ti:word``) excludes just that one item from the
  AND-group it sits in: ``RLHF -survey LLM`` is ``(RLHF AND LLM) NOT survey``.
- A leading NOT (at the start of the query or of a parenthesised group) negates the OR-group after
  it, and is allowed when the group also has a positive part: ``NOT survey RLHF`` is ``RLHF NOT survey``.
  A query made only of negative parts is a QueryError (neither FTS5 nor arXiv can answer it).
- Field prefixes on a word or phrase: ``ti:`` title, ``abs:`` abstract, ``au:`` authors, ``co:`` comment,
  ``cat:`` arXiv category (``cat:cs.CL``). Without a prefix a term searches title, abstract, authors and
  comment. ``au:del_maestro`` (arXiv's style) and ``au:"Adrian Del Maestro"`` both work.
- A word with no letter or digit (``-``, ``&``, ``*``) carries nothing to search for and is dropped.

Errors are ``QueryError`` with one line naming the 1-based position and the problem; parentheses may nest
``MAX_DEPTH`` (32) deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from paperscope.errors import QueryError
from paperscope.models import utc

Field = Literal["ti", "abs", "au", "co", "cat"]
FIELDS: tuple[str, ...] = ("ti", "abs", "au", "co", "cat")

# arXiv archive ("hep-th", "cs") optionally followed by a subject class ("CL", "str-el").
_CATEGORY = re.compile(r"^[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?$", re.IGNORECASE)
# Words the arXiv API may take without quotes (its own style, e.g. au:del_maestro).
_ARXIV_BARE = re.compile(r"^[\w.'\-]+$")
_ARXIV_OPERATORS = {"AND", "OR", "ANDNOT", "NOT"}
_OPERATORS = {"AND", "OR", "NOT"}


# ---------------------------------------------------------------------------------------------
# AST


def is_category(text: str) -> bool:
    """Whether `text` is shaped like an arXiv category (cs.CL, hep-th, math.AG)."""
    return bool(_CATEGORY.match(text))


@dataclass(frozen=True, slots=True)
class Term:
    """One word, optionally restricted to a field."""

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words that must appear next to each other, in order."""

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """`include` without `exclude` (binary AND NOT)."""

    include: Node
    exclude: Node


Node = Term | Phrase | And | Or | Not


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed topic query; `root` is the AST."""

    root: Node

    def to_arxiv(self, categories: Sequence[str] = ()) -> str:
        """The arXiv API `search_query` value (not URL-encoded); `categories` are ORed and ANDed on."""
        expr = _arxiv(self.root, top=True)
        cats = category_list(categories)
        if cats:
            alternatives = " OR ".join(f"cat:{c}" for c in cats)
            if not isinstance(self.root, (Term, Phrase)):
                expr = f"({expr})"
            expr = f"{expr} AND ({alternatives})"
        return expr

    def positive_terms(self) -> list[str]:
        """Words and phrases that are not negated, in query order, without duplicates (for highlighting).

        Category terms are left out: they never appear in a paper's text.
        """
        seen: dict[str, None] = {}
        for leaf in _positive_leaves(self.root):
            if leaf.field != "cat":
                seen.setdefault(leaf.text, None)
        return list(seen)

    def __str__(self) -> str:
        return _show(self.root, top=True)


def _positive_leaves(node: Node) -> Iterator[Term | Phrase]:
    if isinstance(node, (Term, Phrase)):
        yield node
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from _positive_leaves(item)
    else:
        yield from _positive_leaves(node.include)


# ---------------------------------------------------------------------------------------------
# Output


def _arxiv_value(text: str, phrase: bool) -> str:
    if not phrase and _ARXIV_BARE.match(text) and text.upper() not in _ARXIV_OPERATORS:
        return text
    return '"' + text.replace('"', "") + '"'


def _arxiv(node: Node, top: bool = False) -> str:
    if isinstance(node, (Term, Phrase)):
        phrase = isinstance(node, Phrase)
        if node.field is None:
            value = _arxiv_value(node.text, phrase)
            return f"(ti:{value} OR abs:{value})"
        if node.field == "cat":
            return f"cat:{node.text}"
        return f"{node.field}:{_arxiv_value(node.text, phrase)}"
    if isinstance(node, Not):
        body = f"{_arxiv(node.include)} ANDNOT {_arxiv(node.exclude)}"
    else:
        op = " AND " if isinstance(node, And) else " OR "
        body = op.join(_arxiv(i) for i in node.items)
    return body if top else f"({body})"


def _show_leaf(leaf: Term | Phrase) -> str:
    prefix = f"{leaf.field}:" if leaf.field else ""
    if isinstance(leaf, Phrase):
        return f'{prefix}"{leaf.text}"'
    return prefix + leaf.text


def _show(node: Node, top: bool = False) -> str:
    if isinstance(node, (Term, Phrase)):
        return _show_leaf(node)
    if isinstance(node, Not):
        body = f"{_show(node.include)} NOT {_show(node.exclude)}"
    elif isinstance(node, And):
        body = " ".join(_show(i) for i in node.items)
    else:
        body = " OR ".join(_show(i) for i in node.items)
    return body if top else f"({body})"


def category_list(categories: Sequence[str]) -> list[str]:
    if isinstance(categories, str):  # a lone "cs.CL" would otherwise be iterated letter by letter
        categories = [categories]
    out = []
    for cat in categories:
        cat = cat.strip()
        if not _CATEGORY.match(cat):
            raise QueryError(f"topic category {cat!r} is not an arXiv category like cs.CL or hep-th")
        from paperscope.taxonomy import canonical, suggestion

        if canonical(cat) is None:
            near = suggestion(cat)
            raise QueryError(f"category {cat!r} is not an arXiv category" + (f" (did you mean {near}?)" if near else ""))
        out.append(cat)
    return out


# ---------------------------------------------------------------------------------------------
# Lexer


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["word", "phrase", "op", "(", ")", "-", "end"]
    pos: int  # 0-based index into the query text
    text: str = ""
    field: str | None = None


_FIELD_PREFIX = re.compile(r"^(ti|abs|au|co|cat):")
# A word that looks like a field prefix paperscope does not know ("tit:graph", "author:x"); URLs and ids pass.
_UNKNOWN_FIELD = re.compile(r"^([A-Za-z]{2,12}):(?!//)")
_NOT_FIELDS = {"http", "https", "doi", "arxiv", "ftp", "mailto", "urn", "isbn", "issn", "orcid"}
_BREAK = set('()"')


def _has_content(text: str) -> bool:
    # The FTS5 tokenizer keeps letters and digits only; anything else is a separator.
    return any(ch.isalnum() for ch in text)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, pos: int, problem: str) -> QueryError:
        return QueryError(f"query error at position {pos + 1}: {problem} (in {self.text!r})")

    def tokens(self) -> list[_Token]:
        text, i, out = self.text, 0, []
        while i < len(text):
            ch = text[i]
            if ch.isspace():
                i += 1
            elif ch in "()":
                out.append(_Token("(" if ch == "(" else ")", i))
                i += 1
            elif ch == '"':
                i = self._phrase(i, None, i, out)
            elif ch == "-" and i + 1 < len(text) and self._starts_item(i + 1):
                out.append(_Token("-", i))
                i += 1
            else:
                i = self._word(i, out)
        out.append(_Token("end", len(text)))
        return out

    def _starts_item(self, i: int) -> bool:
        ch = self.text[i]
        return ch in '("' or ch.isalnum()

    def _phrase(self, start: int, field: str | None, quote: int, out: list[_Token]) -> int:
        end = self.text.find('"', quote + 1)
        if end < 0:
            raise self.error(quote, 'unclosed quote; add the closing "')
        words = " ".join(self.text[quote + 1 : end].split())
        if not words and field is not None:
            raise self.error(start, f"empty phrase after {field}:")
        if _has_content(words):
            if field == "cat":
                self._check_category(start, words)
            out.append(_Token("phrase", start, words, field))
        elif field is not None:
            raise self.error(start, f"{field}: is followed by nothing to search for")
        return end + 1

    def _check_category(self, start: int, cat: str) -> None:
        from paperscope.taxonomy import canonical, suggestion

        if canonical(cat) is None:
            near = suggestion(cat)
            raise self.error(start, f"cat:{cat} is not an arXiv category" + (f" (did you mean {near}?)" if near else ""))

    def _word(self, start: int, out: list[_Token]) -> int:
        i = start
        while i < len(self.text) and self.text[i] not in _BREAK and not self.text[i].isspace():
            i += 1
        word = self.text[start:i]
        m = _FIELD_PREFIX.match(word)
        if m:
            field = m.group(1)
            rest = word[m.end() :]
            if not rest:
                if i < len(self.text) and self.text[i] == '"':
                    return self._phrase(start, field, i, out)
                raise self.error(start, f"{field}: must be followed by a word or a phrase (no space)")
            if not _has_content(rest):
                raise self.error(start, f"{field}: is followed by nothing to search for")
            if field == "cat":
                self._check_category(start, rest)
            out.append(_Token("word", start, rest, field))
        elif (u := _UNKNOWN_FIELD.match(word)) and u.group(1).lower() not in _NOT_FIELDS and u.group(1) not in _OPERATORS:
            raise self.error(start, f"unknown field {u.group(1)}:; the fields are ti:, abs:, au:, co: and cat: "
                             "(quote the word to search for it as written)")
        elif word in _OPERATORS:
            out.append(_Token("op", start, word))
        elif _has_content(word):
            out.append(_Token("word", start, word))
        return i


# ---------------------------------------------------------------------------------------------
# Parser
#
#   query   := notexpr END
#   notexpr := andexpr ((NOT | AND NOT) andexpr)*
#   andexpr := [NOT orexpr] item*          item := [AND] orexpr   (leading NOT only first)
#   orexpr  := unary (OR unary)*
#   unary   := '-' atom | atom
#   atom    := word | phrase | '(' notexpr ')'
#
# Every rule returns a _Part: the positive node (or None) and the nodes to subtract from it,
# so negations can be lifted to the AND-group they belong to.


@dataclass(slots=True)
class _Part:
    pos: Node | None
    neg: list[Node]
    at: int  # where the part starts, for error messages


def _and(items: list[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, And) else (item,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(items: list[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, Or) else (item,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def _with_negations(pos: Node, neg: list[Node]) -> Node:
    if not neg:
        return pos
    if isinstance(pos, Not):  # (a NOT b) NOT c == a NOT (b OR c): keep one flat NOT
        return Not(pos.include, _or([pos.exclude, *neg]))
    return Not(pos, _or(neg))


MAX_DEPTH = 32  # parentheses nested deeper than this are refused (198 levels ended in a RecursionError)


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexer = _Lexer(text)
        self.tokens = self.lexer.tokens()
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> _Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, kind: str) -> bool:
        return self.tok.kind == kind

    def is_op(self, name: str, tok: _Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "op" and tok.text == name

    def error(self, pos: int, problem: str) -> QueryError:
        return self.lexer.error(pos, problem)

    def parse(self) -> Query:
        if self.tok.kind == "end":
            raise self.error(0, "empty query; give at least one word to search for")
        part = self.notexpr()
        if not self.at("end"):  # notexpr stops only at the end or at a ')' it cannot match
            raise self.error(self.tok.pos, "unbalanced parenthesis: ')' has no matching '('")
        return Query(self.positive(part, "the query has only negative parts; add a term to search for"))

    def positive(self, part: _Part, problem: str) -> Node:
        if part.pos is None:
            raise self.error(part.at, problem)
        return _with_negations(part.pos, part.neg)

    def notexpr(self) -> _Part:
        left = self.andexpr()
        while self.is_op("NOT") or (self.is_op("AND") and self.is_op("NOT", self.peek())):
            op = self.advance()
            if op.text == "AND":
                op = self.advance()
            if self.tok.kind in ("end", ")") or self.is_op("AND") or self.is_op("OR"):
                raise self.error(op.pos, "dangling operator NOT: nothing to exclude after it")
            right = self.andexpr()
            left.neg.append(self.positive(right, "NOT must be followed by something to exclude, not by a negation"))
        return left

    def andexpr(self) -> _Part:
        start = self.tok.pos
        positives: list[Node] = []
        negatives: list[Node] = []
        if self.is_op("NOT"):
            op = self.advance()
            self.expect_operand(op)
            negatives.append(self.positive(self.orexpr(), "NOT must be followed by something to exclude"))
        while True:
            tok = self.tok
            if self.is_op("AND"):
                if not positives and not negatives:
                    raise self.error(tok.pos, "dangling operator AND: nothing before it to combine with")
                if self.is_op("NOT", self.peek()):
                    break  # AND NOT: the binary NOT, handled by notexpr
                self.advance()
                self.expect_operand(tok)
            elif tok.kind in ("end", ")") or tok.kind == "op":
                if self.is_op("OR"):
                    raise self.error(tok.pos, "dangling operator OR: nothing before it to combine with")
                break
            part = self.orexpr()
            if part.pos is not None:
                positives.append(part.pos)
            negatives.extend(part.neg)
        if not positives and not negatives:  # only a stray ')' can get here
            raise self.error(self.tok.pos, "unbalanced parenthesis: ')' has no matching '('")
        return _Part(_and(positives) if positives else None, negatives, start)

    def expect_operand(self, op: _Token) -> None:
        tok = self.tok
        if tok.kind in ("end", ")"):
            raise self.error(op.pos, f"dangling operator {op.text or op.kind}: nothing after it")
        if tok.kind == "op":
            raise self.error(tok.pos, f"operator {tok.text} cannot follow {op.text or op.kind}")

    def orexpr(self) -> _Part:
        first = self.unary()
        if not self.is_op("OR"):
            return first
        items = [self.or_operand(first)]
        while self.is_op("OR"):
            op = self.advance()
            self.expect_operand(op)
            items.append(self.or_operand(self.unary()))
        return _Part(_or(items), [], first.at)

    def or_operand(self, part: _Part) -> Node:
        return self.positive(part, "OR cannot combine a negated part; use NOT on the whole OR-group")

    def unary(self) -> _Part:
        if self.tok.kind == "-":
            minus = self.advance()
            inner = self.atom()
            return _Part(None, [self.positive(inner, "'-' cannot negate a negation")], minus.pos)
        return self.atom()

    def atom(self) -> _Part:
        tok = self.tok
        if tok.kind in ("word", "phrase"):
            self.advance()
            text = tok.text
            if tok.field == "cat" and not _CATEGORY.match(text):
                raise self.error(tok.pos, f"cat:{text} is not an arXiv category like cat:cs.CL or cat:hep-th")
            leaf: Node = Term(text, tok.field) if tok.kind == "word" else Phrase(text, tok.field)
            return _Part(leaf, [], tok.pos)
        if tok.kind == "(":
            self.advance()
            if self.at(")"):
                raise self.error(tok.pos, "empty parentheses")
            if self.at("end"):
                raise self.error(tok.pos, "unbalanced parenthesis: '(' is never closed")
            if self.depth >= MAX_DEPTH:
                raise self.error(tok.pos, f"parentheses nested more than {MAX_DEPTH} deep")
            self.depth += 1
            inner = self.notexpr()
            self.depth -= 1
            if not self.at(")"):
                raise self.error(tok.pos, "unbalanced parenthesis: '(' is never closed")
            self.advance()
            return _Part(inner.pos, inner.neg, tok.pos)
        if tok.kind == ")":
            raise self.error(tok.pos, "unbalanced parenthesis: ')' has no matching '('")
        if tok.kind == "end":
            raise self.error(tok.pos, "the query ends where a word was expected")
        raise self.error(tok.pos, f"operator {tok.text} is not allowed here")


def parse_query(text: str) -> Query:
    """Parse a topic query (syntax in the module docstring); raise QueryError naming the position."""
    return _Parser(text).parse()


# ---------------------------------------------------------------------------------------------
# arXiv date ranges


def date_range(
    start: datetime,
    end: datetime,
    *,
    field: Literal["submittedDate", "lastUpdatedDate"] = "submittedDate",
) -> str:
    """`submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]` in UTC, to AND onto an arXiv `search_query`."""
    if field not in ("submittedDate", "lastUpdatedDate"):
        raise QueryError(f"unknown arXiv date field {field!r}; use submittedDate or lastUpdatedDate")
    lo, hi = utc(start), utc(end)
    if lo > hi:
        raise QueryError(f"date range starts after it ends: {lo:%Y-%m-%d %H:%M} > {hi:%Y-%m-%d %H:%M} UTC")
    return f"{field}:[{lo:%Y%m%d%H%M} TO {hi:%Y%m%d%H%M}]"


def updated_range(start: datetime, end: datetime) -> str:
    """`lastUpdatedDate:[... TO ...]`: like date_range, on the date of the latest version."""
    return date_range(start, end, field="lastUpdatedDate")
